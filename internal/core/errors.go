package core

import (
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Error codes: stable identifiers that every API family maps to its own
// error style. The strings are the native family's `error` ids.
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidGrant           = "invalid_grant"
	CodeInvalidCredentials     = "invalid_credentials"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidTicket          = "invalid_ticket"
	CodeInvalidIDToken         = "invalid_id_token"
	CodeMFARequired            = "mfa_required"
	CodeInvalidMFACode         = "invalid_mfa_code"
	CodeAccountDisabled        = "account_disabled"
	CodeTooManyAttempts        = "too_many_attempts"
	CodeUnauthorized           = "unauthorized"
	CodeForbidden              = "forbidden"
	CodePasswordChangeRequired = "password_change_required"
	CodeReauthRequired         = "reauthentication_required"
	CodeNotFound               = "not_found"
	CodeConflict               = "conflict"
	CodeUnavailable            = "unavailable"
	CodeInternal               = "internal_error"
)

// Error is a failure the core reports to an adapter: a stable code and a
// message that is safe to show to the caller. Err, when set, is the internal
// cause and is never shown.
type Error struct {
	Code       string
	Message    string
	RetryAfter time.Duration // for CodeTooManyAttempts
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func newError(code, msg string) *Error { return &Error{Code: code, Message: msg} }

// ErrorCode returns the code of err: the code of a core *Error,
// CodeUnavailable for a store that cannot be reached, CodeInvalidRequest
// for a value the store cannot hold, else CodeInternal.
func ErrorCode(err error) string {
	return AsError(err).Code
}

// AsError converts any error into a core *Error with a caller-safe message.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, store.ErrUnavailable) {
		return &Error{Code: CodeUnavailable, Message: "the service is temporarily unavailable", Err: err}
	}
	if errors.Is(err, store.ErrInvalid) {
		// The guard behind input validation: a NUL byte that reached
		// PostgreSQL is the caller's bad input, not a server failure.
		return &Error{Code: CodeInvalidRequest, Message: "the request contains a character that cannot be stored", Err: err}
	}
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

// storeErr translates the store's sentinel errors for a record named what.
func storeErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: CodeNotFound, Message: what + " not found", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Code: CodeConflict, Message: what + " already exists", Err: err}
	default:
		return err
	}
}

var (
	errInvalidGrant = newError(CodeInvalidGrant, "the refresh token is invalid, expired or revoked")
	errBadCreds     = newError(CodeInvalidCredentials, "invalid username or password")
	errUnauthorized = newError(CodeUnauthorized, "missing, invalid or expired access token")
)
