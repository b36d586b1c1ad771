package servertest

import (
	"net/http"
	"net/url"
	"strings"
)

// CreateOAuthClient registers a client in tenant ("" = default) with the
// fields of POST /admin/clients (name defaults to "oauth-client") and fails
// the test unless it succeeds. A public client's Secret is "".
func (e *Env) CreateOAuthClient(tenant string, fields map[string]any) Client {
	e.T.Helper()
	body := map[string]any{"name": "oauth-client"}
	for k, v := range fields {
		body[k] = v
	}
	r := e.Admin("POST", "/admin/clients", tenant, body)
	if r.Status != http.StatusCreated {
		e.T.Fatalf("create client: %d %s", r.Status, r.Body)
	}
	m := r.JSON(e.T)
	id, _ := m["client_id"].(string)
	secret, _ := m["client_secret"].(string)
	if id == "" {
		e.T.Fatalf("create client answered no client_id: %s", r.Body)
	}
	return Client{ID: id, Secret: secret}
}

// OAuth2 posts form to an endpoint of the standard family (path such as
// "/oauth2/token"), authenticating c with client_secret_basic, or, for a
// client without a secret, with its client_id parameter. A nil c sends no
// client authentication.
func (e *Env) OAuth2(path string, c *Client, form url.Values) *Response {
	e.T.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	switch {
	case c == nil:
	case c.Secret == "":
		f.Set("client_id", c.ID)
	default:
		h["Authorization"] = BasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return e.Do(Request{Method: "POST", Path: path, Body: strings.NewReader(f.Encode()), Header: h})
}
