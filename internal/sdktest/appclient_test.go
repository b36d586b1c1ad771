package sdktest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/sdk"
)

// TestLive_AppClientLifecycle: the SDK's app-backend client through the
// whole life of an app session on a real server.
func TestLive_AppClientLifecycle(t *testing.T) {
	l := newLive(t, nil)
	ctx := context.Background()
	app := sdk.NewAppClient(l.env.URL, l.client.ID, l.client.Secret, l.env.HTTP.Client())
	user := l.env.Login("", "alice", password)

	login, err := app.VerifyLogin(ctx, sdk.LoginVerifyParams{Token: user.AccessToken, ClientIP: "203.0.113.7", Valid: 10 * 24 * time.Hour, Payload: "tier=gold"})
	if err != nil {
		t.Fatalf("VerifyLogin: %v", err)
	}
	if login.UserID != l.userID || login.Name != "alice" || login.RefreshToken == "" || login.AccessToken == "" {
		t.Fatalf("login = %+v", login)
	}
	// App access tokens are ordinary Gatehouse JWTs, verifiable offline.
	v := l.verifier(t, sdk.Config{Audience: l.client.ID})
	c, err := v.Verify(ctx, login.AccessToken)
	if err != nil || c.Payload != "tier=gold" || c.ClientID != l.client.ID {
		t.Errorf("offline verification of the app token: %+v, %v", c, err)
	}
	at, err := app.Refresh(ctx, login.RefreshToken)
	if err != nil || at.UserID != l.userID || at.Payload != "tier=gold" || at.AccessToken == "" || at.ExpiresIn <= 0 {
		t.Fatalf("Refresh = %+v, %v", at, err)
	}
	newAT, err := app.SetPayload(ctx, login.RefreshToken, "tier=silver", true)
	if err != nil || newAT == "" {
		t.Fatalf("SetPayload = %q, %v", newAT, err)
	}
	info, err := app.VerifyAccess(ctx, newAT)
	if err != nil || info.UserID != l.userID || info.Payload != "tier=silver" {
		t.Errorf("VerifyAccess = %+v, %v", info, err)
	}
	u, err := app.UserInfo(ctx, newAT)
	if err != nil || u.UserID != l.userID || u.Name != "alice" {
		t.Errorf("UserInfo = %+v, %v", u, err)
	}
	if err := app.Destroy(ctx, login.RefreshToken); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := app.VerifyAccess(ctx, newAT); !errors.Is(err, sdk.ErrAppTokenInvalid) {
		t.Errorf("VerifyAccess after Destroy: %v, want ErrAppTokenInvalid", err)
	}
	if _, err := app.Refresh(ctx, login.RefreshToken); !errors.Is(err, sdk.ErrAppTokenInvalid) {
		t.Errorf("Refresh after Destroy: %v", err)
	}
	// Wrong client credentials: code 5, not a token error.
	bad := sdk.NewAppClient(l.env.URL, l.client.ID, "wrong", l.env.HTTP.Client())
	var ae *sdk.AppError
	if _, err := bad.VerifyAccess(ctx, newAT); !errors.As(err, &ae) || ae.Code != sdk.AppCodeFailure {
		t.Errorf("bad client: %v", err)
	}
}
