package oauth2_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/federation/fedtest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

const exchangeAudience = "corp-web"

// exchangeSetup is a server with provider "corp", served by a real test
// OpenID provider, that provisions unknown identities.
func exchangeSetup(t *testing.T) (*setup, *fedtest.Provider) {
	t.Helper()
	s := newSetup(t, servertest.Options{})
	idp := fedtest.New(t)
	s.env.CreateProvider("", map[string]any{"name": "corp", "issuer": idp.Issuer, "audiences": []string{exchangeAudience}, "auto_provision": true})
	return s, idp
}

func exchangeForm(subject string) url.Values {
	return url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {subject},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
	}
}

// payloadOf decodes the claims of a JWT without verifying it.
func payloadOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestExchange_ValidTamperedReplayed: RFC 8693 with an external ID token
// as subject, through the same verifier, replay guard and linking rules as
// the native ID-token sign-in.
func TestExchange_ValidTamperedReplayed(t *testing.T) {
	s, idp := exchangeSetup(t)
	env := s.env
	claims := idp.Claims("sub-42", exchangeAudience, env.Clock.Now())
	claims["email"], claims["email_verified"], claims["preferred_username"] = "zed@corp.example", true, "zed"
	idToken := idp.Sign(claims)

	form := exchangeForm(idToken)
	form.Set("scope", "openid email offline_access")
	form.Set("requested_token_type", "urn:ietf:params:oauth:token-type:access_token")
	a := s.grant(t, s.client, form)
	if a.IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" || a.RefreshToken == "" || a.IDToken == "" {
		t.Fatalf("exchange answer %+v", a)
	}
	at := payloadOf(t, a.AccessToken)
	if amr, _ := at["amr"].([]any); len(amr) != 1 || amr[0] != "fed" || at["client_id"] != s.client.ID {
		t.Errorf("access token claims %v", at)
	}
	if idt := payloadOf(t, a.IDToken); idt["email"] != "zed@corp.example" || idt["aud"] != s.client.ID || idt["sub"] != at["sub"] {
		t.Errorf("ID token claims %v", idt)
	}
	// The session belongs to the confidential client: the native family
	// refuses it (without revoking it), the client refreshes it.
	if r := env.Refresh("", a.RefreshToken); r.Status != http.StatusBadRequest {
		t.Errorf("native refresh of an exchanged session: %d %s", r.Status, r.Body)
	}
	if r := s.refresh(t, s.client, a.RefreshToken); r.Status != http.StatusOK {
		t.Errorf("client refresh of an exchanged session: %d %s", r.Status, r.Body)
	}

	// Replayed: the same ID token a second time.
	r := env.OAuth2("/oauth2/token", &s.client, exchangeForm(idToken))
	wantError(t, r, http.StatusBadRequest, "invalid_grant")
	// ... and it is refused by the native sign-in too: one replay guard.
	if r := env.IDTokenSignin("", "corp", idToken); r.Status != http.StatusUnauthorized {
		t.Errorf("native sign-in with the exchanged token: %d", r.Status)
	}

	// Tampered: another subject under the original signature.
	forged := idp.Claims("sub-admin", exchangeAudience, env.Clock.Now())
	r = env.OAuth2("/oauth2/token", &s.client, exchangeForm(idp.Tamper(idp.Sign(idp.Claims("sub-7", exchangeAudience, env.Clock.Now())), forged)))
	wantError(t, r, http.StatusBadRequest, "invalid_grant")
	// Unsigned and algorithm confusion.
	wantError(t, env.OAuth2("/oauth2/token", &s.client, exchangeForm(idp.SignNone(idp.Claims("sub-8", exchangeAudience, env.Clock.Now())))), 400, "invalid_grant")
	wantError(t, env.OAuth2("/oauth2/token", &s.client, exchangeForm(idp.SignHS256WithPublicKey(idp.Claims("sub-9", exchangeAudience, env.Clock.Now())))), 400, "invalid_grant")
	// Another audience.
	wantError(t, env.OAuth2("/oauth2/token", &s.client, exchangeForm(idp.Sign(idp.Claims("sub-10", "someone-else", env.Clock.Now())))), 400, "invalid_grant")
	// An issuer no provider of the tenant has.
	other := fedtest.New(t)
	wantError(t, env.OAuth2("/oauth2/token", &s.client, exchangeForm(other.Sign(other.Claims("sub-11", exchangeAudience, env.Clock.Now())))), 400, "invalid_grant")
	// Naming the provider explicitly works too; an unknown one is a bad request.
	named := exchangeForm(idp.Sign(idp.Claims("sub-12", exchangeAudience, env.Clock.Now())))
	named.Set("provider", "corp")
	s.grant(t, s.client, named)
	named = exchangeForm(idp.Sign(idp.Claims("sub-13", exchangeAudience, env.Clock.Now())))
	named.Set("provider", "nope")
	wantError(t, env.OAuth2("/oauth2/token", &s.client, named), 400, "invalid_request")

	// The grant type can be withheld from a client.
	noExchange := env.CreateOAuthClient("", map[string]any{"name": "no-exchange", "grant_types": []string{"password"}})
	r = env.OAuth2("/oauth2/token", &noExchange, exchangeForm(idp.Sign(idp.Claims("sub-14", exchangeAudience, env.Clock.Now()))))
	wantError(t, r, http.StatusBadRequest, "unauthorized_client")
}

// TestExchange_LinkingRules: without provisioning or a verified email
// link, an unknown identity gets no tokens.
func TestExchange_LinkingRules(t *testing.T) {
	s := newSetup(t, servertest.Options{})
	idp := fedtest.New(t)
	s.env.CreateProvider("", map[string]any{"name": "strict", "issuer": idp.Issuer, "audiences": []string{exchangeAudience}, "link_by_email": true})
	unverified := idp.Claims("sub-1", exchangeAudience, s.env.Clock.Now())
	unverified["email"], unverified["email_verified"] = "alice@example.com", false
	wantError(t, s.env.OAuth2("/oauth2/token", &s.client, exchangeForm(idp.Sign(unverified))), 400, "invalid_grant")

	verified := idp.Claims("sub-2", exchangeAudience, s.env.Clock.Now())
	verified["email"], verified["email_verified"] = "alice@example.com", true
	a := s.grant(t, s.client, exchangeForm(idp.Sign(verified)))
	if payloadOf(t, a.AccessToken)["sub"] != s.userID {
		t.Errorf("verified email did not link to alice")
	}
}
