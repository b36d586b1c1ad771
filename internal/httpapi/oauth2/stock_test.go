package oauth2_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const alicePassword = "correct horse battery staple"

// stockEnv is a real server whose issuer is its own URL, a user alice and
// a confidential client allowed every grant and scope.
func stockEnv(t *testing.T) (*servertest.Env, servertest.Client, context.Context) {
	t.Helper()
	env := servertest.NewAtIssuer(t, servertest.Options{RealClock: true})
	env.CreateUser("", map[string]any{"username": "alice", "password": alicePassword, "email": "alice@example.com",
		"display_name": "Alice Liddell", "phone": "+15550100", "groups": []string{"wonderland"}, "roles": []string{"reader"}})
	c := env.CreateOAuthClient("", map[string]any{"name": "stock"})
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, env.HTTP.Client())
	return env, c, ctx
}

func stockConfig(env *servertest.Env, c servertest.Client, style oauth2.AuthStyle, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.ID, ClientSecret: c.Secret, Scopes: scopes,
		Endpoint: oauth2.Endpoint{TokenURL: env.URL + "/oauth2/token", AuthStyle: style},
	}
}

// TestStock_XOAuth2PasswordGrantAndTokenSourceRefresh: golang.org/x/oauth2
// signs in with the password grant (both client authentication styles) and
// its TokenSource refreshes an expired token through the refresh grant.
func TestStock_XOAuth2PasswordGrantAndTokenSourceRefresh(t *testing.T) {
	env, c, ctx := stockEnv(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		conf := stockConfig(env, c, style, "openid", "profile", "offline_access")
		tok, err := conf.PasswordCredentialsToken(ctx, "alice", alicePassword)
		if err != nil {
			t.Fatalf("password grant (style %d): %v", style, err)
		}
		if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.Expiry.Before(time.Now().Add(10*time.Minute)) {
			t.Fatalf("token = %+v", tok)
		}
		if idt, _ := tok.Extra("id_token").(string); idt == "" {
			t.Errorf("no id_token for scope openid")
		}
		if sc, _ := tok.Extra("scope").(string); sc != "openid profile offline_access" {
			t.Errorf("scope = %q", sc)
		}

		// Expire the token locally: the TokenSource refreshes it.
		first := *tok
		tok.Expiry = time.Now().Add(-time.Minute)
		ts := conf.TokenSource(ctx, tok)
		fresh, err := ts.Token()
		if err != nil {
			t.Fatalf("TokenSource refresh: %v", err)
		}
		if fresh.AccessToken == first.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == first.RefreshToken {
			t.Fatalf("refresh did not rotate: %+v", fresh)
		}
		// The refreshed access token works where the client's tokens do
		// (userinfo, granted openid), not at Gatehouse's own endpoints.
		if r := env.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: fresh.AccessToken}); r.Status != http.StatusOK {
			t.Errorf("userinfo with the refreshed token: %d %s", r.Status, r.Body)
		}
		if r := env.Me("", fresh.AccessToken); r.Status != http.StatusUnauthorized {
			t.Errorf("/auth/me with the client's token: %d %s, want 401", r.Status, r.Body)
		}
		// The first refresh token is now rotated: presenting it again is
		// reuse, which revokes the session, so the fresh pair dies too.
		if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token(); err == nil {
			t.Fatal("rotated refresh token accepted")
		} else if !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("reuse error %v, want invalid_grant", err)
		}
		if r := env.Do(servertest.Request{Method: "GET", Path: "/oauth2/userinfo", Bearer: fresh.AccessToken}); r.Status != http.StatusUnauthorized {
			t.Errorf("after reuse the session's access token answered %d", r.Status)
		}
	}
	// A wrong password is invalid_grant, as x/oauth2 reports it.
	_, err := stockConfig(env, c, oauth2.AuthStyleInHeader).PasswordCredentialsToken(ctx, "alice", "wrong password")
	var re *oauth2.RetrieveError
	if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
		t.Errorf("wrong password: %v", err)
	}
	// A wrong client secret is invalid_client, 401.
	bad := stockConfig(env, servertest.Client{ID: c.ID, Secret: "not-the-secret"}, oauth2.AuthStyleInHeader)
	_, err = bad.PasswordCredentialsToken(ctx, "alice", alicePassword)
	if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong client secret: %v", err)
	}
}

func asRetrieveError(err error, re **oauth2.RetrieveError) bool {
	e, ok := err.(*oauth2.RetrieveError)
	if ok {
		*re = e
	}
	return ok
}

// TestStock_XOAuth2ClientCredentials: clientcredentials gets a token for
// the client itself, without a refresh token.
func TestStock_XOAuth2ClientCredentials(t *testing.T) {
	env, c, ctx := stockEnv(t)
	cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: c.Secret, TokenURL: env.URL + "/oauth2/token"}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken != "" {
		t.Fatalf("token = %+v", tok)
	}
	r := env.OAuth2("/oauth2/introspect", &c, url.Values{"token": {tok.AccessToken}})
	m := r.JSON(t)
	if m["active"] != true || m["sub"] != "client:"+c.ID || m["client_id"] != c.ID {
		t.Errorf("introspection of the client's token: %s", r.Body)
	}
	// A token without a user opens no user endpoint.
	if r := env.Me("", tok.AccessToken); r.Status != http.StatusUnauthorized {
		t.Errorf("/auth/me with a client token: %d", r.Status)
	}
	// Scopes that need a user are refused to client credentials.
	cc.Scopes = []string{"openid"}
	if _, err := cc.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
		t.Errorf("client credentials with openid: %v", err)
	}
}

// TestStock_GoOIDC: go-oidc discovers the provider, verifies the ID token
// (signature, iss, aud, exp) and the access token (its at_hash, and the
// access token itself as a JWT), and reads userinfo.
func TestStock_GoOIDC(t *testing.T) {
	env, c, ctx := stockEnv(t)
	provider, err := oidc.NewProvider(ctx, env.URL)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	if provider.Endpoint().TokenURL != env.URL+"/oauth2/token" || provider.UserInfoEndpoint() != env.URL+"/oauth2/userinfo" {
		t.Errorf("discovered endpoints %+v, userinfo %s", provider.Endpoint(), provider.UserInfoEndpoint())
	}
	conf := &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", "phone"}}
	tok, err := conf.PasswordCredentialsToken(ctx, "alice", alicePassword)
	if err != nil {
		t.Fatalf("password grant: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Errorf("refresh token issued without offline_access")
	}
	rawID, _ := tok.Extra("id_token").(string)
	verifier := provider.Verifier(&oidc.Config{ClientID: c.ID})
	idt, err := verifier.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		Email    string   `json:"email"`
		Name     string   `json:"name"`
		Username string   `json:"preferred_username"`
		Phone    string   `json:"phone_number"`
		SID      string   `json:"sid"`
		AuthTime int64    `json:"auth_time"`
		AMR      []string `json:"amr"`
		Groups   []string `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email != "alice@example.com" || claims.Name != "Alice Liddell" || claims.Username != "alice" ||
		claims.Phone != "+15550100" || claims.SID == "" || claims.AuthTime == 0 || !slices.Equal(claims.AMR, []string{"pwd"}) ||
		!slices.Equal(claims.Groups, []string{"wonderland"}) {
		t.Errorf("ID token claims = %+v", claims)
	}
	// A tampered access token fails the at_hash check.
	if err := idt.VerifyAccessToken(tok.AccessToken + "x"); err == nil {
		t.Error("at_hash accepted another access token")
	}
	// The access token is itself a JWT that go-oidc verifies with the
	// published keys; its audience includes the client.
	at, err := verifier.Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	if at.Subject != idt.Subject {
		t.Errorf("access token subject %q, ID token %q", at.Subject, idt.Subject)
	}
	// Another client's verifier refuses the ID token.
	if _, err := provider.Verifier(&oidc.Config{ClientID: "someone-else"}).Verify(ctx, rawID); err == nil {
		t.Error("ID token accepted for another audience")
	}

	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Subject != idt.Subject || info.Email != "alice@example.com" || info.EmailVerified {
		t.Errorf("userinfo = %+v", info)
	}
	var more struct {
		Name  string `json:"name"`
		Phone string `json:"phone_number"`
	}
	if err := info.Claims(&more); err != nil || more.Name != "Alice Liddell" || more.Phone != "+15550100" {
		t.Errorf("userinfo claims = %+v, %v", more, err)
	}
	// Userinfo only has what the scope grants.
	narrow := &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
	ntok, err := narrow.PasswordCredentialsToken(ctx, "alice", alicePassword)
	if err != nil {
		t.Fatal(err)
	}
	ninfo, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(ntok))
	if err != nil || ninfo.Email != "" || ninfo.Subject != idt.Subject {
		t.Errorf("userinfo for scope openid only = %+v, %v", ninfo, err)
	}
}

// TestStock_GoOIDCAfterKeyRotation: after a rotation to ES256 and to RS256
// the ID token's at_hash follows the new key's hash, and go-oidc verifies
// tokens of the new and the still-published old keys.
func TestStock_GoOIDCAfterKeyRotation(t *testing.T) {
	env, c, ctx := stockEnv(t)
	conf := stockConfig(env, c, oauth2.AuthStyleInHeader, "openid")
	before, err := conf.PasswordCredentialsToken(ctx, "alice", alicePassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"ES256", "RS256"} {
		if r := env.Admin("POST", "/admin/keys/rotate", "", map[string]any{"alg": alg}); r.Status != http.StatusOK {
			t.Fatalf("rotate to %s: %d %s", alg, r.Status, r.Body)
		}
		conf.Endpoint.TokenURL = env.URL + "/oauth2/token"
		tok, err := conf.PasswordCredentialsToken(ctx, "alice", alicePassword)
		if err != nil {
			t.Fatal(err)
		}
		provider, err := oidc.NewProvider(ctx, env.URL)
		if err != nil {
			t.Fatal(err)
		}
		v := provider.Verifier(&oidc.Config{ClientID: c.ID})
		idt, err := v.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("%s ID token: %v", alg, err)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("%s at_hash: %v", alg, err)
		}
		if _, err := v.Verify(ctx, before.Extra("id_token").(string)); err != nil {
			t.Errorf("ID token of the retired EdDSA key after rotating to %s: %v", alg, err)
		}
	}
}
