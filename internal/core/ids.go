package core

import (
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"regexp"
	"strconv"
)

var (
	userIDMin   = new(big.Int).Lsh(big.NewInt(1), 40)
	userIDRange = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 53), userIDMin)

	// idPattern is the form of explicit user ids and tenant ids.
	idPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// newUserID returns the decimal form of a random integer in [2^40, 2^53).
func newUserID() string {
	n, err := rand.Int(rand.Reader, userIDRange)
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return strconv.FormatInt(n.Add(n, userIDMin).Int64(), 10)
}

// newRandomID returns 128 random bits, URL-safe: session ids and token ids.
func newRandomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidID reports whether s may be used as a tenant or user id.
func ValidID(s string) bool { return idPattern.MatchString(s) }
