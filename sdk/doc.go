// Package sdk verifies Gatehouse access tokens in application backends.
//
// A Verifier discovers the issuer's keys (GET /.well-known/openid-configuration,
// then the JWKS), caches them, and checks every access token offline: the
// signature, the alg against an allow-list of asymmetric algorithms, the typ
// header (at+jwt, RFC 9068), iss, aud (by default: first-party tokens
// only), exp and nbf with a small skew, and the presence of Gatehouse's
// claims. It returns typed Claims: subject, tenant, session, client, roles,
// amr, act, scope and payload. A token of a key the cache does not know yet
// waits for the next allowed fetch of the key set, so a key rotation never
// refuses a genuine token; an issuer that does not answer is
// ErrKeysUnavailable, never an invalid token.
//
// Because access tokens are verified offline, a token stays valid until it
// expires even if its session is revoked. FollowRevocations closes that gap:
// it follows Gatehouse's revocation feed (GET /oauth2/revocations) at an
// interval the caller chooses, and Verify then refuses the tokens of revoked
// sessions within that bound, and fails closed (ErrRevocationsStale) when
// the feed has not been read for MaxStaleness.
//
// Middleware protects net/http handlers: it requires a valid bearer token
// (and optionally roles), puts the Claims in the request context, and
// answers 401 or 403 with a WWW-Authenticate header as RFC 6750 says.
//
// AppClient speaks Gatehouse's app-backend API (/api/v1/public/*,
// /api/v1/app/*) for teams migrating from the central-SSO integration it
// replaces.
//
// The package depends only on the standard library and go-jose.
package sdk
