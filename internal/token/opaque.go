package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// opaqueBytes is the entropy of an opaque token: 256 bits.
const opaqueBytes = 32

// NewOpaque returns a new opaque token (refresh token, ticket, challenge,
// client secret): 32 bytes from crypto/rand, base64url without padding, 43
// characters. It panics only if the system's random source fails.
func NewOpaque() string {
	var b [opaqueBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("token: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashOpaque returns the hex SHA-256 of an opaque token, the only form in
// which opaque tokens are stored. A fast hash suffices because the tokens
// carry 256 bits of randomness.
func HashOpaque(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Equal reports whether a and b are equal, in time that depends only on
// their lengths, never on their contents.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
