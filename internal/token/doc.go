// Package token holds the cryptography of Gatehouse: the signing key set
// (generation, storage, rotation and publication as a JWKS), the minting and
// verification of JWT access tokens (RFC 9068), the at-rest encryption of
// small secrets, and the opaque random tokens used for refresh tokens,
// tickets, challenges and client secrets.
package token
