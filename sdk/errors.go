package sdk

import (
	"errors"
	"fmt"
)

// Errors of Verify. Every verification failure wraps ErrInvalidToken; an
// expired token also wraps ErrTokenExpired and a token of a revoked session
// ErrSessionRevoked. Compare with errors.Is.
var (
	// ErrInvalidToken means the token must not be accepted.
	ErrInvalidToken = errors.New("gatehouse: invalid token")
	// ErrTokenExpired means the token's exp has passed.
	ErrTokenExpired = errors.New("gatehouse: token expired")
	// ErrSessionRevoked means the token's session was revoked (known from
	// the revocation feed).
	ErrSessionRevoked = errors.New("gatehouse: session revoked")
	// ErrKeysUnavailable means the token names a key that could not be
	// fetched because the issuer did not answer: the token was neither
	// accepted nor proven invalid. It does not wrap ErrInvalidToken.
	ErrKeysUnavailable = errors.New("gatehouse: signing keys unavailable")
	// ErrRevocationsStale means revocation awareness is on and the feed has
	// not been read successfully within RevocationOptions.MaxStaleness, or
	// is no longer followed (the follower's context ended): the token was
	// not verified either way. It does not wrap ErrInvalidToken.
	ErrRevocationsStale = errors.New("gatehouse: revocation feed is stale")
)

// invalid returns an error wrapping ErrInvalidToken with a message that
// names the failed check.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)
}
