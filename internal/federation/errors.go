package federation

import "fmt"

// Reasons an ID token is refused. They are stable identifiers, safe to show
// to the caller: none of them reveals anything about local accounts.
const (
	ReasonMalformed        = "malformed"
	ReasonAlgorithm        = "algorithm_not_allowed"
	ReasonUnknownKey       = "unknown_key"
	ReasonSignature        = "bad_signature"
	ReasonKeysUnavailable  = "keys_unavailable"
	ReasonIssuer           = "wrong_issuer"
	ReasonAudience         = "wrong_audience"
	ReasonAuthorizedParty  = "wrong_azp"
	ReasonExpired          = "expired"
	ReasonIssuedInFuture   = "issued_in_future"
	ReasonNotYetValid      = "not_yet_valid"
	ReasonMissingClaim     = "missing_claim"
	ReasonReplayed         = "replayed"
	ReasonProviderSettings = "provider_misconfigured"
)

// Error is a refused ID token: Reason names the check that failed and
// Detail says how, in words fit for the caller.
type Error struct {
	Reason string
	Detail string
	// Err is the underlying cause, for the log only.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("id token refused (%s): %s: %v", e.Reason, e.Detail, e.Err)
	}
	return fmt.Sprintf("id token refused (%s): %s", e.Reason, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

func refuse(reason, detail string) *Error { return &Error{Reason: reason, Detail: detail} }
