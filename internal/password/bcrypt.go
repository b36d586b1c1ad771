package password

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// maxBcryptCost bounds the cost of an imported bcrypt hash: each step
// doubles the work, and cost 31 would take days.
const maxBcryptCost = 15

// bcryptLen is the length of every bcrypt hash: "$2b$" + 2-digit cost +
// "$" + 22 characters of salt + 31 characters of hash.
const bcryptLen = 60

// isBcrypt reports whether encoded claims to be a bcrypt hash.
func isBcrypt(encoded string) bool {
	return strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") ||
		strings.HasPrefix(encoded, "$2y$")
}

// bcryptCost validates the shape of a bcrypt hash and returns its cost.
func bcryptCost(encoded string) (int, error) {
	if len(encoded) != bcryptLen || !isBcrypt(encoded) || encoded[6] != '$' {
		return 0, fmt.Errorf("%w: not a bcrypt hash", ErrMalformedHash)
	}
	cost, err := strconv.Atoi(encoded[4:6])
	if err != nil || encoded[4] < '0' || encoded[4] > '9' {
		return 0, fmt.Errorf("%w: bcrypt cost is not a number", ErrMalformedHash)
	}
	if cost < bcrypt.MinCost || cost > maxBcryptCost {
		return 0, fmt.Errorf("%w: bcrypt cost %d is outside [%d, %d]", ErrMalformedHash, cost, bcrypt.MinCost, maxBcryptCost)
	}
	for _, r := range encoded[7:] {
		if !isBcryptBase64(r) {
			return 0, fmt.Errorf("%w: bcrypt salt or hash has an invalid character", ErrMalformedHash)
		}
	}
	return cost, nil
}

// isBcryptBase64 reports whether r belongs to bcrypt's base64 alphabet.
func isBcryptBase64(r rune) bool {
	return r == '.' || r == '/' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
}

// verifyBcrypt checks password against an imported bcrypt hash. A match
// always needs a rehash to argon2id. The 2a, 2b and 2y variants differ only
// in how old C implementations handled non-ASCII bytes, not in the
// algorithm, so one comparison serves all three.
func (h *Hasher) verifyBcrypt(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	if _, err := bcryptCost(encoded); err != nil {
		return false, false, err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	if h.beforeWork != nil {
		h.beforeWork(Params{})
	}
	// CompareHashAndPassword compares in constant time.
	err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
	switch {
	case err == nil:
		return true, true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	default:
		return false, false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
}
