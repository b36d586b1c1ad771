package oauth2

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// errorBody is the error response of RFC 6749 §5.2.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// realm is the realm of the family's WWW-Authenticate challenges.
const realm = "gatehouse"

// fail answers err as RFC 6749 §5.2 says: 400 with the error code, 401
// with a Basic challenge for invalid_client, 503 temporarily_unavailable
// when the store is down, 500 server_error for anything unexpected (logged,
// never detailed). Every answer is no-store.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	httpapi.NoStore(w)
	var re *httpapi.RequestError
	if errors.As(err, &re) {
		writeError(w, http.StatusBadRequest, "invalid_request", re.Message)
		return
	}
	ce := core.AsError(err)
	if ce.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ce.RetryAfter.Seconds()))))
	}
	switch ce.Code {
	case core.CodeInvalidRequest, core.CodeInvalidGrant, core.CodeUnauthorizedClient,
		core.CodeUnsupportedGrantType, core.CodeInvalidScope, core.CodeInvalidTarget, core.CodeUnsupportedResponseType:
		writeError(w, http.StatusBadRequest, ce.Code, ce.Message)
	case core.CodeInvalidClient, core.CodeTooManyAttempts:
		w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
		writeError(w, http.StatusUnauthorized, core.CodeInvalidClient, ce.Message)
	case core.CodeUnavailable:
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", ce.Message)
	case core.CodeInternal:
		h.log.ErrorContext(httpapi.RequestContext(w), "oauth2 request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "server_error", "internal error")
	default:
		// A core rule this family has no code of its own for.
		writeError(w, http.StatusBadRequest, "invalid_request", ce.Message)
	}
}

// failBearer answers a request authorised by a bearer access token (the
// userinfo endpoint) as RFC 6750 §3 says.
func (h *Handler) failBearer(w http.ResponseWriter, err error) {
	w.Header().Set("Cache-Control", "no-store")
	ce := core.AsError(err)
	switch ce.Code {
	case core.CodeUnauthorized:
		challenge(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
	case core.CodePasswordChangeRequired, core.CodeForbidden:
		challenge(w, http.StatusForbidden, "insufficient_scope", ce.Message)
	default:
		h.fail(w, err)
	}
}

// challenge answers with a Bearer challenge (RFC 6750 §3): no error code
// when the request carried no token at all.
func challenge(w http.ResponseWriter, status int, code, desc string) {
	ch := `Bearer realm="` + realm + `"`
	if code != "" {
		ch += `, error="` + code + `", error_description="` + quotable(desc) + `"`
	} else {
		code, desc = "invalid_token", "a bearer access token is required"
	}
	w.Header().Set("WWW-Authenticate", ch)
	writeError(w, status, code, desc)
}

func writeError(w http.ResponseWriter, status int, code, desc string) {
	httpapi.WriteJSON(w, status, errorBody{Error: code, Description: desc})
}

// WriteStatus answers an unmatched path (404) or method (405) of the
// family in its error style.
func WriteStatus(w http.ResponseWriter, status int) {
	desc := "no such endpoint"
	switch status {
	case http.StatusMethodNotAllowed:
		desc = "method not allowed on this endpoint"
	case http.StatusBadRequest:
		desc = httpapi.MalformedURL
	}
	writeError(w, status, "invalid_request", desc)
}

// quotable keeps the characters RFC 6750 allows in a quoted attribute.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
