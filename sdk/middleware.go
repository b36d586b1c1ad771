package sdk

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// MiddlewareOptions configure Middleware.
type MiddlewareOptions struct {
	// Realm is the realm of the WWW-Authenticate challenge (default "api").
	Realm string
	// Roles are required: a token lacking any of them gets 403.
	Roles []string
	// OnError, when set, is told why a request was refused (for logging;
	// the error never carries the token).
	OnError func(r *http.Request, err error)
}

// Middleware returns net/http middleware that lets a request through only
// with a valid access token in `Authorization: Bearer` (RFC 6750 §2.1) and
// every role of opts.Roles, and puts the token's Claims in the request
// context (ClaimsFromContext). Refusals follow RFC 6750 §3:
//
//   - no bearer token: 401, WWW-Authenticate: Bearer realm="…";
//   - a malformed Authorization header: 400, error="invalid_request";
//   - an invalid, expired or revoked token: 401, error="invalid_token";
//   - a missing role: 403, error="insufficient_scope";
//   - keys or revocation feed unavailable: 503, nothing verified.
//
// The body is JSON {"error", "error_description"}.
func (v *Verifier) Middleware(opts MiddlewareOptions) func(http.Handler) http.Handler {
	if opts.Realm == "" {
		opts.Realm = "api"
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, err := bearer(r)
			if err != nil {
				report(opts, r, err)
				refuse(w, opts.Realm, http.StatusBadRequest, "invalid_request", err.Error())
				return
			}
			if raw == "" {
				refuse(w, opts.Realm, http.StatusUnauthorized, "", "")
				return
			}
			c, err := v.Verify(r.Context(), raw)
			if err != nil {
				report(opts, r, err)
				if errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrRevocationsStale) {
					writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the token cannot be verified now")
					return
				}
				refuse(w, opts.Realm, http.StatusUnauthorized, "invalid_token", describe(err))
				return
			}
			for _, role := range opts.Roles {
				if !c.HasRole(role) {
					refuse(w, opts.Realm, http.StatusForbidden, "insufficient_scope", "the role "+role+" is required")
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(ContextWithClaims(r.Context(), c)))
		})
	}
}

// Require is Middleware with the given roles required.
func (v *Verifier) Require(roles ...string) func(http.Handler) http.Handler {
	return v.Middleware(MiddlewareOptions{Roles: roles})
}

// errMalformedAuthorization is a request whose Authorization header is not
// usable.
var errMalformedAuthorization = errors.New("the Authorization header is malformed")

// bearer returns the token of the request's Authorization header: "" when
// the request carries no bearer credentials, an error when it carries
// several Authorization headers or a Bearer header without a token.
func bearer(r *http.Request) (string, error) {
	hs := r.Header.Values("Authorization")
	if len(hs) == 0 {
		return "", nil
	}
	if len(hs) > 1 {
		return "", errMalformedAuthorization
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(hs[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", nil // another scheme: no bearer credentials
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", errMalformedAuthorization
	}
	return tok, nil
}

// refuse answers with a Bearer challenge (RFC 6750 §3).
func refuse(w http.ResponseWriter, realm string, status int, code, desc string) {
	ch := `Bearer realm="` + quotable(realm) + `"`
	if code != "" {
		ch += `, error="` + code + `"`
		if desc != "" {
			ch += `, error_description="` + quotable(desc) + `"`
		}
	}
	w.Header().Set("WWW-Authenticate", ch)
	if code == "" {
		code, desc = "unauthorized", "a bearer access token is required"
	}
	writeError(w, status, code, desc)
}

func writeError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// describe returns the caller-safe description of a verification error.
func describe(err error) string {
	switch {
	case errors.Is(err, ErrTokenExpired):
		return "the access token expired"
	case errors.Is(err, ErrSessionRevoked):
		return "the access token's session was revoked"
	default:
		return "the access token is invalid"
	}
}

// quotable keeps the characters RFC 6750 allows in a quoted attribute
// (%x20-21 / %x23-5B / %x5D-7E).
func quotable(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func report(opts MiddlewareOptions, r *http.Request, err error) {
	if opts.OnError != nil {
		opts.OnError(r, err)
	}
}
