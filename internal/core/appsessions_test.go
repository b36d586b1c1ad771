package core

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// appLogin opens an app session of c for the user of a fresh user session.
func (f *appFixture) appLogin(t *testing.T, c store.Client, u store.User, payload string) LoginResult {
	t.Helper()
	res, err := f.svc.AppLogin(t.Context(), AppLogin{Client: c, Token: f.signIn(t, u).AccessToken, GrantType: AppGrantType,
		ClientIP: "2001:db8::1", Payload: payload, Meta: Meta{IP: "192.0.2.1", UserAgent: "backend/1"}})
	if err != nil {
		t.Fatalf("AppLogin: %v", err)
	}
	return res
}

func TestAppLogin_CreatesNonRotatingAppSession(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, _ := f.client(t, "shop")
	u := f.user(t, "alice")
	res := f.appLogin(t, c, u, "cart=1")

	s := res.Session
	if s.Kind != store.SessionApp || s.ClientID != c.ID || s.Payload != "cart=1" || s.IP != "2001:db8::1" || s.UserID != u.ID {
		t.Fatalf("app session %+v", s)
	}
	if got := s.ExpiresAt.Sub(s.CreatedAt); got != AppSessionMinLifetime {
		t.Fatalf("default lifetime %v, want %v", got, AppSessionMinLifetime)
	}
	claims, err := f.svc.Keys().Verify(ctx, res.AccessToken, f.clock.Now())
	if err != nil {
		t.Fatalf("the app access token is not an ordinary Gatehouse JWT: %v", err)
	}
	if claims.ClientID != c.ID || claims.Payload != "cart=1" || claims.SessionID != s.ID || claims.Subject != u.ID {
		t.Fatalf("claims %+v", claims)
	}
	// Refreshing twice answers new access tokens; the refresh token stays.
	for i := range 2 {
		f.clock.Advance(time.Minute)
		r, err := f.svc.AppRefresh(ctx, c, res.RefreshToken, Meta{})
		if err != nil {
			t.Fatalf("AppRefresh %d: %v", i, err)
		}
		if r.RefreshToken != res.RefreshToken || r.AccessToken == res.AccessToken || r.Session.Payload != "cart=1" {
			t.Fatalf("AppRefresh %d: %+v", i, r)
		}
		if !r.Session.LastUsedAt.Equal(f.clock.Now()) {
			t.Fatalf("last use not recorded: %v", r.Session.LastUsedAt)
		}
	}
	// The app refresh token is not a rotating one.
	_, err = f.svc.Refresh(ctx, RefreshRequest{TenantID: DefaultTenant, RefreshToken: res.RefreshToken})
	wantCode(t, "native refresh of an app token", err, CodeInvalidGrant)
	sessions, err := f.svc.UserSessions(ctx, DefaultTenant, u.ID)
	if err != nil || len(sessions) != 2 {
		t.Fatalf("the user's sessions should list the user and the app session: %v %v", sessions, err)
	}
	events, _ := f.svc.ListAudit(ctx, AuditQuery{TenantID: DefaultTenant, Type: EventAppSessionCreated})
	if len(events) != 1 || events[0].SessionID != s.ID || events[0].Details["client_id"] != c.ID {
		t.Fatalf("app_session_created audit: %+v", events)
	}
}

func TestAppLogin_Parameters(t *testing.T) {
	f := newAppFixture(t)
	c, _ := f.client(t, "shop")
	u := f.user(t, "alice")
	tok := f.signIn(t, u).AccessToken
	base := AppLogin{Client: c, Token: tok, GrantType: AppGrantType}
	with := func(fn func(*AppLogin)) AppLogin { in := base; fn(&in); return in }

	for name, tc := range map[string]struct {
		in   AppLogin
		life time.Duration
	}{
		"valid below the minimum":  {with(func(in *AppLogin) { in.Valid = time.Hour }), AppSessionMinLifetime},
		"valid within":             {with(func(in *AppLogin) { in.Valid = 10 * 24 * time.Hour }), 10 * 24 * time.Hour},
		"valid above the maximum":  {with(func(in *AppLogin) { in.Valid = 365 * 24 * time.Hour }), AppSessionMaxLifetime},
		"payload of 31 characters": {with(func(in *AppLogin) { in.Payload = strings.Repeat("é", 31) }), AppSessionMinLifetime},
	} {
		res, err := f.svc.AppLogin(t.Context(), tc.in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := res.Session.ExpiresAt.Sub(res.Session.CreatedAt); got != tc.life {
			t.Errorf("%s: lifetime %v, want %v", name, got, tc.life)
		}
	}
	for name, in := range map[string]AppLogin{
		"payload of 32 characters": with(func(in *AppLogin) { in.Payload = strings.Repeat("p", 32) }),
		"grant type":               with(func(in *AppLogin) { in.GrantType = "password" }),
		"no grant type":            with(func(in *AppLogin) { in.GrantType = "" }),
		"no token":                 with(func(in *AppLogin) { in.Token = "" }),
		"client ip":                with(func(in *AppLogin) { in.ClientIP = "not-an-ip" }),
	} {
		_, err := f.svc.AppLogin(t.Context(), in)
		wantCode(t, name, err, CodeInvalidRequest)
	}
	pub, err := f.svc.CreateClient(t.Context(), NewClient{TenantID: DefaultTenant, Name: "spa", Public: true}, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AppLogin(t.Context(), with(func(in *AppLogin) { in.Client = pub.Client }))
	wantCode(t, "public client", err, CodeInvalidClient)
}

func TestAppLogin_RefusesBadUserTokens(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, _ := f.client(t, "shop")
	alice := f.user(t, "alice")
	login := func(tok string) error {
		_, err := f.svc.AppLogin(ctx, AppLogin{Client: c, Token: tok, GrantType: AppGrantType})
		return err
	}

	good := f.signIn(t, alice)
	wantCode(t, "tampered token", login(tamperSignature(good.AccessToken)), CodeUnauthorized)
	wantCode(t, "garbage", login(strings.Repeat("x", 10000)), CodeUnauthorized)

	// An app access token is not a user's sign-in.
	app := f.appLogin(t, c, alice, "")
	wantCode(t, "app access token", login(app.AccessToken), CodeUnauthorized)

	// A session revoked in the store (say, by another process whose
	// revocation has not reached this one yet) is caught by the store read.
	revoked := f.signIn(t, alice)
	if _, _, err := f.st.RevokeSession(ctx, DefaultTenant, revoked.Session.ID, f.clock.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "revoked session", login(revoked.AccessToken), CodeUnauthorized)

	// Another tenant's user token.
	if _, err := f.svc.CreateTenant(ctx, "other", "Other", Meta{}); err != nil {
		t.Fatal(err)
	}
	bob, err := f.svc.CreateUser(ctx, NewUser{TenantID: "other", Username: "bob"}, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "other tenant's token", login(f.signIn(t, bob).AccessToken), CodeUnauthorized)

	// Expired.
	old := f.signIn(t, alice)
	f.clock.Advance(appTestPolicy.AccessTTL)
	wantCode(t, "expired token", login(old.AccessToken), CodeUnauthorized)

	// A user who must change the password has restricted tokens.
	carol := f.user(t, "carol")
	must := true
	carol, err = f.svc.UpdateUser(ctx, DefaultTenant, carol.ID, UserPatch{MustChangePassword: &must}, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "restricted token", login(f.signIn(t, carol).AccessToken), CodePasswordChangeRequired)
}

func TestAppSession_ClientIsolation(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	shop, _ := f.client(t, "shop")
	spy, _ := f.client(t, "spy")
	alice := f.user(t, "alice")
	res := f.appLogin(t, shop, alice, "mine")

	_, err := f.svc.AppRefresh(ctx, spy, res.RefreshToken, Meta{})
	wantCode(t, "refresh by another client", err, CodeInvalidGrant)
	_, err = f.svc.AppSetPayload(ctx, spy, res.RefreshToken, "theirs", true, Meta{})
	wantCode(t, "payload by another client", err, CodeInvalidGrant)
	wantCode(t, "destroy by another client", f.svc.AppDestroy(ctx, spy, res.RefreshToken, Meta{}), CodeInvalidGrant)
	_, err = f.svc.AppVerifyAccess(ctx, spy, res.AccessToken)
	wantCode(t, "verify by another client", err, CodeUnauthorized)
	_, err = f.svc.AppUserInfo(ctx, spy, res.AccessToken)
	wantCode(t, "user info by another client", err, CodeUnauthorized)

	// Nothing the other client tried had an effect.
	p, err := f.svc.AppVerifyAccess(ctx, shop, res.AccessToken)
	if err != nil || p.Payload != "mine" {
		t.Fatalf("owner's verify: %+v %v", p, err)
	}
	r, err := f.svc.AppRefresh(ctx, shop, res.RefreshToken, Meta{})
	if err != nil || r.Session.Payload != "mine" {
		t.Fatalf("owner's refresh: %+v %v", r.Session, err)
	}
	// A user-session token carrying the client's id is not an app token.
	user, err := f.svc.startSession(ctx, alice, SessionParams{ClientID: shop.ID, AMR: []string{"pwd"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AppVerifyAccess(ctx, shop, user.AccessToken)
	wantCode(t, "user session token with the client's id", err, CodeUnauthorized)
}

func TestAppSession_PayloadAndDestroy(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, _ := f.client(t, "shop")
	alice := f.user(t, "alice")
	res := f.appLogin(t, c, alice, "v1")

	quiet, err := f.svc.AppSetPayload(ctx, c, res.RefreshToken, "v2", false, Meta{})
	if err != nil || quiet.AccessToken != "" || quiet.RefreshToken != res.RefreshToken || quiet.Session.Payload != "v2" {
		t.Fatalf("AppSetPayload without access token: %+v %v", quiet, err)
	}
	p, _ := f.svc.AppVerifyAccess(ctx, c, res.AccessToken)
	if p.Payload != "v1" {
		t.Fatalf("an existing access token keeps its payload, got %q", p.Payload)
	}
	loud, err := f.svc.AppSetPayload(ctx, c, res.RefreshToken, "v3", true, Meta{})
	if err != nil || loud.AccessToken == "" {
		t.Fatalf("AppSetPayload with access token: %+v %v", loud, err)
	}
	if p, _ := f.svc.AppVerifyAccess(ctx, c, loud.AccessToken); p.Payload != "v3" {
		t.Fatalf("new access token payload %q", p.Payload)
	}
	_, err = f.svc.AppSetPayload(ctx, c, res.RefreshToken, strings.Repeat("x", 32), false, Meta{})
	wantCode(t, "payload too long", err, CodeInvalidRequest)

	if err := f.svc.AppDestroy(ctx, c, res.RefreshToken, Meta{}); err != nil {
		t.Fatalf("AppDestroy: %v", err)
	}
	for _, at := range []string{res.AccessToken, loud.AccessToken} {
		_, err = f.svc.AppVerifyAccess(ctx, c, at)
		wantCode(t, "verify after destroy", err, CodeUnauthorized)
	}
	_, err = f.svc.AppRefresh(ctx, c, res.RefreshToken, Meta{})
	wantCode(t, "refresh after destroy", err, CodeInvalidGrant)
	wantCode(t, "destroy again", f.svc.AppDestroy(ctx, c, res.RefreshToken, Meta{}), CodeInvalidGrant)
	sess, err := f.st.GetSession(ctx, DefaultTenant, res.Session.ID)
	if err != nil || sess.Reason != ReasonAppDestroyed {
		t.Fatalf("destroyed session: %+v %v", sess, err)
	}
}

func TestAppSession_DisabledUser(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, _ := f.client(t, "shop")
	alice := f.user(t, "alice")
	res := f.appLogin(t, c, alice, "")
	if _, err := f.svc.AppVerifyAccess(ctx, c, res.AccessToken); err != nil {
		t.Fatal(err)
	}
	disabled := store.StatusDisabled
	if _, err := f.svc.UpdateUser(ctx, DefaultTenant, alice.ID, UserPatch{Status: &disabled}, Meta{}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.AppVerifyAccess(ctx, c, res.AccessToken)
	wantCode(t, "verify for a disabled user", err, CodeUnauthorized)
	_, err = f.svc.AppUserInfo(ctx, c, res.AccessToken)
	wantCode(t, "user info for a disabled user", err, CodeUnauthorized)
	_, err = f.svc.AppRefresh(ctx, c, res.RefreshToken, Meta{})
	wantCode(t, "refresh for a disabled user", err, CodeInvalidGrant)
}

// TestAppVerifyAccess_NoStoreRoundTrip: once a session is known to be
// alive, verifying its access tokens needs neither the store nor a key
// parse beyond the key set's cache.
func TestAppVerifyAccess_NoStoreRoundTrip(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, secret := f.client(t, "shop")
	res := f.appLogin(t, c, f.user(t, "alice"), "p")
	if _, err := f.svc.AuthenticateClient(ctx, c.ID, secret, Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		cl, err := f.svc.AuthenticateClient(ctx, c.ID, secret, Meta{IP: "192.0.2.1"})
		if err != nil {
			t.Fatalf("client authentication with the store closed: %v", err)
		}
		p, err := f.svc.AppVerifyAccess(ctx, cl, res.AccessToken)
		if err != nil || p.Payload != "p" {
			t.Fatalf("verify with the store closed: %+v %v", p, err)
		}
	}
}

// TestAppVerifyAccess_RevocationFromOtherProcess: a session destroyed by
// another process is refused here once the revocation feed is read (the
// poll interval bounds the delay).
func TestAppVerifyAccess_RevocationFromOtherProcess(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, _ := f.client(t, "shop")
	res := f.appLogin(t, c, f.user(t, "alice"), "")
	if _, err := f.svc.AppVerifyAccess(ctx, c, res.AccessToken); err != nil {
		t.Fatal(err)
	}
	other, _ := openAppService(t, f.path, f.clock)
	if err := other.AppDestroy(ctx, c, res.RefreshToken, Meta{}); err != nil {
		t.Fatalf("destroy in the other process: %v", err)
	}
	if _, err := other.AppVerifyAccess(ctx, c, res.AccessToken); ErrorCode(err) != CodeUnauthorized {
		t.Fatalf("the destroying process must refuse at once: %v", err)
	}
	if err := f.svc.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.AppVerifyAccess(ctx, c, res.AccessToken)
	wantCode(t, "verify after the revocation feed", err, CodeUnauthorized)
}

func TestAppSession_BadRefreshTokens(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, _ := f.client(t, "shop")
	user := f.signIn(t, f.user(t, "alice"))
	for name, tok := range map[string]string{
		"unknown":            token.NewOpaque(),
		"huge":               strings.Repeat("r", 10000),
		"user session token": user.RefreshToken,
		"sql":                "' OR 1=1 --",
	} {
		_, err := f.svc.AppRefresh(ctx, c, tok, Meta{})
		wantCode(t, "refresh "+name, err, CodeInvalidGrant)
	}
	_, err := f.svc.AppRefresh(ctx, c, "", Meta{})
	wantCode(t, "refresh without token", err, CodeInvalidRequest)
	// The user session's token still rotates: the attempt touched nothing.
	if _, err := f.svc.Refresh(ctx, RefreshRequest{TenantID: DefaultTenant, RefreshToken: user.RefreshToken}); err != nil {
		t.Fatalf("native refresh after the app attempt: %v", err)
	}
}

// tamperSignature changes one character in the middle of a JWT's signature.
// (Changing the last characters may not change the decoded bytes: base64's
// final character carries padding bits a lenient decoder ignores.)
func tamperSignature(jwt string) string {
	i := len(jwt) - 20
	c := byte('A')
	if jwt[i] == 'A' {
		c = 'B'
	}
	return jwt[:i] + string(c) + jwt[i+1:]
}
