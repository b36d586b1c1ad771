package store

// FederationStore keeps one-time tickets, external OpenID providers, linked
// identities and the replay guard of ID tokens.
type FederationStore interface{}
