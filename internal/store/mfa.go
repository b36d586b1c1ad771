package store

// MFAStore keeps second factors, recovery codes, MFA challenges and the
// known devices the risk assessment remembers.
type MFAStore interface{}
