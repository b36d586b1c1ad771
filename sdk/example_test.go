package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gatehouse-auth/gatehouse/sdk"
)

// The examples run against newFakeIssuer, a stand-in for a Gatehouse
// server; in a real service the issuer is Gatehouse's URL.

func ExampleVerifier_Verify() {
	gatehouse := newFakeIssuer()
	defer gatehouse.Close()
	ctx := context.Background()

	v, err := sdk.NewVerifier(ctx, sdk.Config{Issuer: gatehouse.URL, Tenant: "default"})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := v.Verify(ctx, gatehouse.Token(gatehouse.Claims("42")))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.TenantID, claims.Roles, claims.AMR)

	_, err = v.Verify(ctx, "forged.token.value")
	fmt.Println(errors.Is(err, sdk.ErrInvalidToken))
	// Output:
	// 42 default [reader] [pwd]
	// true
}

// By default a Verifier accepts only first-party tokens: those whose aud
// contains the issuer (Gatehouse's own sign-ins, and clients created with
// "first_party": true). The resource server of one OAuth 2.0 client sets
// Audience to that client's id: Gatehouse issues that client's tokens with
// aud = its id only.
func ExampleConfig_audience() {
	gatehouse := newFakeIssuer()
	defer gatehouse.Close()
	ctx := context.Background()

	firstParty := gatehouse.Claims("42")
	firstParty["aud"], firstParty["client_id"] = []string{gatehouse.URL}, ""
	ordersApp := gatehouse.Claims("42")
	ordersApp["aud"], ordersApp["client_id"] = []string{"orders-app"}, "orders-app"

	backend, err := sdk.NewVerifier(ctx, sdk.Config{Issuer: gatehouse.URL})
	if err != nil {
		log.Fatal(err)
	}
	orders, err := sdk.NewVerifier(ctx, sdk.Config{Issuer: gatehouse.URL, Audience: "orders-app"})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range []struct {
		name string
		v    *sdk.Verifier
	}{{"default", backend}, {"orders-app", orders}} {
		_, errFirst := v.v.Verify(ctx, gatehouse.Token(firstParty))
		_, errClient := v.v.Verify(ctx, gatehouse.Token(ordersApp))
		fmt.Printf("%s: first-party accepted %t, orders-app token accepted %t\n", v.name, errFirst == nil, errClient == nil)
	}
	// Output:
	// default: first-party accepted true, orders-app token accepted false
	// orders-app: first-party accepted false, orders-app token accepted true
}

func ExampleVerifier_Middleware() {
	gatehouse := newFakeIssuer()
	defer gatehouse.Close()
	v, err := sdk.NewVerifier(context.Background(), sdk.Config{Issuer: gatehouse.URL})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Require()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := sdk.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "orders of user %s", claims.Subject)
	})))
	mux.Handle("DELETE /orders/{id}", v.Require("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	api := httptest.NewServer(mux)
	defer api.Close()

	call := func(method, path, token string) {
		req, _ := http.NewRequest(method, api.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			fmt.Println(resp.StatusCode, string(body))
			return
		}
		fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	token := gatehouse.Token(gatehouse.Claims("42")) // roles: [reader]
	call("GET", "/orders", token)
	call("GET", "/orders", "")
	call("DELETE", "/orders/1", token)
	// Output:
	// 200 orders of user 42
	// 401 Bearer realm="api"
	// 403 Bearer realm="api", error="insufficient_scope", error_description="the role admin is required"
}

func ExampleVerifier_FollowRevocations() {
	gatehouse := newFakeIssuer()
	defer gatehouse.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop() // stops following the feed

	v, err := sdk.NewVerifier(ctx, sdk.Config{Issuer: gatehouse.URL})
	if err != nil {
		log.Fatal(err)
	}
	// A confidential client of the tenant reads the feed every 2 seconds:
	// a revoked session's tokens are refused at most ~2 s later. If the
	// feed cannot be read for 5 minutes (DefaultMaxStaleness), Verify fails
	// closed with ErrRevocationsStale until it can; once ctx ends, at once.
	err = v.FollowRevocations(ctx, sdk.RevocationOptions{
		ClientID:     gatehouse.ClientID,
		ClientSecret: gatehouse.ClientSecret,
		Interval:     2 * time.Second,
		OnError:      func(err error) { log.Print(err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("following revocations")
	// Output: following revocations
}

func ExampleAppClient() {
	// An app backend exchanges the access token its front end received
	// from Gatehouse for an app session of its own.
	app := sdk.NewAppClient("https://auth.example.com", "my-client-id", "my-client-secret", nil)
	_ = func(ctx context.Context, userAccessToken string) error {
		login, err := app.VerifyLogin(ctx, sdk.LoginVerifyParams{Token: userAccessToken, Payload: "tier=gold"})
		if err != nil {
			return err
		}
		info, err := app.VerifyAccess(ctx, login.AccessToken)
		if errors.Is(err, sdk.ErrAppTokenInvalid) {
			return errors.New("sign in again")
		}
		if err != nil {
			return err
		}
		fmt.Println(info.UserID, info.Payload)
		return app.Destroy(ctx, login.RefreshToken)
	}
}
