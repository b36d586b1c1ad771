package oauth2

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// badRequest is a malformed request, answered 400 invalid_request.
func badRequest(msg string) error {
	return &httpapi.RequestError{Status: http.StatusBadRequest, Message: msg}
}

// decodeForm reads a form-encoded body (RFC 6749 §3.2): Content-Type
// application/x-www-form-urlencoded, at most httpapi.MaxBodyBytes, every
// parameter at most once. Parameters in the query string are not read:
// credentials and tokens do not belong in URLs.
func decodeForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if !httpapi.HasContentType(r, "application/x-www-form-urlencoded") {
		return nil, badRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, httpapi.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, badRequest(fmt.Sprintf("the body exceeds %d bytes", httpapi.MaxBodyBytes))
		}
		return nil, badRequest("malformed form body")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, badRequest("parameter " + safeName(k) + " is repeated")
		}
	}
	return r.PostForm, nil
}

// safeName bounds a parameter name quoted in an error message.
func safeName(k string) string {
	if len(k) > 64 {
		k = k[:64]
	}
	return fmt.Sprintf("%q", k)
}

// credentials are what a request presented to authenticate its client.
type credentials struct {
	id, secret string
	present    bool
}

// clientCredentials extracts the client's credentials: HTTP Basic
// (client_secret_basic; id and secret form-encoded as RFC 6749 §2.3.1
// says) or the client_id and client_secret parameters (client_secret_post,
// or a public client's client_id alone). Using both methods is an error.
func clientCredentials(r *http.Request, form url.Values) (credentials, error) {
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	auth := r.Header.Get("Authorization")
	if len(auth) >= 6 && strings.EqualFold(auth[:6], "basic ") {
		id, secret, ok := r.BasicAuth()
		if !ok {
			return credentials{}, &core.Error{Code: core.CodeInvalidClient, Message: "malformed Basic credentials"}
		}
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return credentials{}, &core.Error{Code: core.CodeInvalidClient, Message: "malformed Basic credentials"}
		}
		if formSecret != "" || (formID != "" && formID != uid) {
			return credentials{}, badRequest("the client must authenticate with one method only")
		}
		return credentials{id: uid, secret: usecret, present: true}, nil
	}
	if formID == "" {
		return credentials{}, nil
	}
	return credentials{id: formID, secret: formSecret, present: true}, nil
}

// client authenticates the request's client. The built-in client
// (client_id=gatehouse, no secret) is the one of the tenant named by
// X-Tenant-ID (default "default"); every other client brings its tenant.
func (h *Handler) client(ctx context.Context, r *http.Request, form url.Values) (store.Client, error) {
	cred, err := clientCredentials(r, form)
	if err != nil {
		return store.Client{}, err
	}
	if !cred.present {
		return store.Client{}, &core.Error{Code: core.CodeInvalidClient, Message: "client authentication is required"}
	}
	tid := core.DefaultTenant
	if cred.id == core.DefaultClientID {
		if tid, err = httpapi.Tenant(r); err != nil {
			return store.Client{}, err
		}
	}
	return h.svc.AuthenticateClientIn(ctx, tid, cred.id, cred.secret, h.meta(r))
}

// clientAuthed serves a form-encoded endpoint that needs client
// authentication: the answer is never cached, the form is decoded and the
// client authenticated before next runs.
func (h *Handler) clientAuthed(next func(http.ResponseWriter, *http.Request, url.Values, store.Client)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		httpapi.NoStore(w)
		form, err := decodeForm(w, r)
		if err != nil {
			h.fail(w, err)
			return
		}
		c, err := h.client(r.Context(), r, form)
		if err != nil {
			h.fail(w, err)
			return
		}
		next(w, r, form, c)
	}
}
