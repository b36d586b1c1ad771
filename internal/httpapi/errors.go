package httpapi

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
)

// errorBody is the error shape of the native and admin families:
// {code, message, timestamp, error}.
type errorBody struct {
	Code      int    `json:"code"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
	Error     string `json:"error"`
}

// StatusOf maps a core error code to the HTTP status the native family uses.
// The legacy family reports the same number in its body.
func StatusOf(code string) int {
	switch code {
	case core.CodeInvalidRequest, core.CodeInvalidGrant, core.CodeInvalidTicket:
		return http.StatusBadRequest
	case core.CodeInvalidCredentials, core.CodeInvalidIDToken, core.CodeUnauthorized,
		core.CodeMFARequired, core.CodeInvalidMFACode, core.CodeInvalidClient:
		return http.StatusUnauthorized
	case core.CodeAccountDisabled, core.CodeForbidden, core.CodePasswordChangeRequired, core.CodeReauthenticationRequired:
		return http.StatusForbidden
	case core.CodeNotFound:
		return http.StatusNotFound
	case core.CodeConflict:
		return http.StatusConflict
	case core.CodeTooManyAttempts:
		return http.StatusTooManyRequests
	case core.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// WriteError answers err in the native error style. Request errors keep
// their status; core errors map by code; anything else is logged and
// answered as a 500 without detail.
func WriteError(w http.ResponseWriter, log *slog.Logger, err error) {
	var re *RequestError
	if errors.As(err, &re) {
		id := "invalid_request"
		switch re.Status {
		case http.StatusUnsupportedMediaType:
			id = "unsupported_media_type"
		case http.StatusRequestEntityTooLarge:
			id = "request_too_large"
		}
		writeErrorBody(w, re.Status, id, re.Message)
		return
	}
	ce := core.AsError(err)
	status := StatusOf(ce.Code)
	if status >= 500 {
		log.Error("request failed", "code", ce.Code, "err", err)
	}
	if ce.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ce.RetryAfter.Seconds()))))
	}
	if status == http.StatusUnauthorized && ce.Code == core.CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	writeErrorBody(w, status, ce.Code, ce.Message)
}

// writeErrorBody answers with a given status, id and message.
func writeErrorBody(w http.ResponseWriter, status int, id, msg string) {
	WriteJSON(w, status, errorBody{Code: status, Message: msg, Timestamp: time.Now().UTC().Format(time.RFC3339), Error: id})
}

// WriteStatus answers with a bare status in the native error style (for
// unmatched paths and methods).
func WriteStatus(w http.ResponseWriter, status int) {
	id, msg := "not_found", "no such endpoint"
	if status == http.StatusMethodNotAllowed {
		id, msg = "method_not_allowed", "method not allowed on this endpoint"
	}
	writeErrorBody(w, status, id, msg)
}
