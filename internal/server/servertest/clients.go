package servertest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// Client is a client registered through the admin API, with its secret.
type Client struct {
	ID     string
	Secret string
}

// CreateClient registers a confidential client named name in tenant ("" =
// default) and fails the test unless it succeeds.
func (e *Env) CreateClient(tenant, name string) Client {
	e.T.Helper()
	r := e.Admin("POST", "/admin/clients", tenant, map[string]any{"name": name})
	if r.Status != http.StatusCreated {
		e.T.Fatalf("create client: %d %s", r.Status, r.Body)
	}
	m := r.JSON(e.T)
	id, _ := m["client_id"].(string)
	secret, _ := m["client_secret"].(string)
	if id == "" || secret == "" {
		e.T.Fatalf("create client answered no credentials: %s", r.Body)
	}
	return Client{ID: id, Secret: secret}
}

// BasicAuth is the Authorization header value of HTTP Basic credentials.
func BasicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// App sends a form-encoded request of the app-backend family with the
// client's Basic credentials.
func (e *Env) App(method, path string, c Client, form url.Values) *Response {
	e.T.Helper()
	return e.Do(Request{Method: method, Path: path, Body: strings.NewReader(form.Encode()), Header: map[string]string{
		"Content-Type":  "application/x-www-form-urlencoded",
		"Authorization": BasicAuth(c.ID, c.Secret),
	}})
}
