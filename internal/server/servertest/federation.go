package servertest

import "net/http"

// IssueTicket issues a one-time ticket for userID through POST
// /admin/tickets with the admin key and returns the ticket.
func (e *Env) IssueTicket(tenant, userID, purpose string) string {
	e.T.Helper()
	r := e.Admin("POST", "/admin/tickets", tenant, map[string]any{"user_id": userID, "purpose": purpose})
	if r.Status != http.StatusCreated {
		e.T.Fatalf("issue ticket: %d %s", r.Status, r.Body)
	}
	t, _ := r.JSON(e.T)["ticket"].(string)
	if t == "" {
		e.T.Fatalf("issue ticket: no ticket in %s", r.Body)
	}
	return t
}

// TicketSignin presents a ticket to POST /auth/ticket/signin.
func (e *Env) TicketSignin(tenant, ticket string) *Response {
	e.T.Helper()
	return e.Do(Request{Method: "POST", Path: "/auth/ticket/signin", JSON: map[string]any{"ticket": ticket},
		Header: tenantHeader(tenant)})
}

// CreateProvider registers an external OpenID provider through POST
// /admin/providers and fails the test unless it is created.
func (e *Env) CreateProvider(tenant string, fields map[string]any) {
	e.T.Helper()
	if r := e.Admin("POST", "/admin/providers", tenant, fields); r.Status != http.StatusCreated {
		e.T.Fatalf("create provider: %d %s", r.Status, r.Body)
	}
}

// IDTokenSignin presents an external ID token to POST /auth/id-token/signin.
func (e *Env) IDTokenSignin(tenant, provider, idToken string) *Response {
	e.T.Helper()
	return e.Do(Request{Method: "POST", Path: "/auth/id-token/signin",
		JSON: map[string]any{"id_token": idToken, "provider": provider}, Header: tenantHeader(tenant)})
}
