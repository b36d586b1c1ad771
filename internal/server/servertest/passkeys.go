package servertest

import (
	"encoding/json"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/passkeytest"
)

// PasskeyOrigin is the WebAuthn origin of every test server: the origin of
// its default issuer (http://gatehouse.test), whose host is the relying
// party id.
const PasskeyOrigin = "http://gatehouse.test"

// PasskeyOptions is the answer of a passkey options endpoint.
type PasskeyOptions struct {
	ChallengeToken string          `json:"challenge_token"`
	PublicKey      json.RawMessage `json:"publicKey"`
}

// Options posts body to an options endpoint and fails the test unless it answers 200.
func (e *Env) Options(tenant, path, bearer string, body any) PasskeyOptions {
	e.T.Helper()
	if body == nil {
		body = map[string]any{}
	}
	r := e.Do(Request{Method: "POST", Path: path, JSON: body, Bearer: bearer, Header: tenantHeader(tenant)})
	if r.Status != http.StatusOK {
		e.T.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
	}
	var o PasskeyOptions
	r.Decode(e.T, &o)
	return o
}

// RegisterPasskey registers a new credential of a for the bearer of access
// and returns the passkey's id.
func (e *Env) RegisterPasskey(tenant, access string, a *passkeytest.Authenticator, name string) string {
	e.T.Helper()
	o := e.Options(tenant, "/auth/passkeys/options", access, nil)
	cred, err := a.Create(o.PublicKey)
	if err != nil {
		e.T.Fatalf("authenticator create: %v", err)
	}
	r := e.Do(Request{Method: "POST", Path: "/auth/passkeys", Bearer: access, Header: tenantHeader(tenant),
		JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred, "name": name}})
	if r.Status != http.StatusCreated {
		e.T.Fatalf("register passkey: %d %s", r.Status, r.Body)
	}
	return r.JSON(e.T)["id"].(string)
}

// PasskeySignin asks for sign-in options and answers them with a.
func (e *Env) PasskeySignin(tenant string, a *passkeytest.Authenticator) *Response {
	e.T.Helper()
	o := e.Options(tenant, "/auth/passkey/options", "", nil)
	cred, err := a.Get(o.PublicKey)
	if err != nil {
		e.T.Fatalf("authenticator get: %v", err)
	}
	return e.Do(Request{Method: "POST", Path: "/auth/passkey/signin", Header: tenantHeader(tenant),
		JSON: map[string]any{"challenge_token": o.ChallengeToken, "credential": cred}})
}
