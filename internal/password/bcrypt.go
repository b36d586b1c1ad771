package password

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcryptLen is the length of every bcrypt hash: "$2b$" + 2-digit cost +
// "$" + 22 characters of salt + 31 characters of hash.
const bcryptLen = 60

// isBcrypt reports whether encoded claims to be a bcrypt hash.
func isBcrypt(encoded string) bool {
	return strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") ||
		strings.HasPrefix(encoded, "$2y$")
}

// decodeBcrypt validates the shape and cost of a bcrypt hash. The 2a, 2b
// and 2y variants differ only in how old C implementations handled
// non-ASCII bytes, not in the algorithm, so one comparison serves all
// three. bcrypt only ever looks at the first 72 bytes of a password, so any
// password sharing those 72 bytes matches, exactly as in the system that
// produced the hash; the rehash to argon2id makes every byte count.
func decodeBcrypt(encoded string) (decoded, error) {
	if len(encoded) != bcryptLen || !isBcrypt(encoded) || encoded[6] != '$' {
		return decoded{}, fmt.Errorf("%w: not a bcrypt hash", ErrMalformedHash)
	}
	cost, err := strconv.Atoi(encoded[4:6])
	if err != nil || encoded[4] < '0' || encoded[4] > '9' {
		return decoded{}, fmt.Errorf("%w: bcrypt cost is not a number", ErrMalformedHash)
	}
	if cost < minBcryptCost || cost > maxBcryptCost {
		return decoded{}, fmt.Errorf("%w: bcrypt cost %d is outside [%d, %d]", ErrMalformedHash, cost, minBcryptCost, maxBcryptCost)
	}
	for _, r := range encoded[7:] {
		if !isBcryptBase64(r) {
			return decoded{}, fmt.Errorf("%w: bcrypt salt or hash has an invalid character", ErrMalformedHash)
		}
	}
	return decoded{kind: KindBcrypt, match: func(pw string) (bool, error) {
		// CompareHashAndPassword compares in constant time.
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		default:
			return false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
		}
	}}, nil
}

// isBcryptBase64 reports whether r belongs to bcrypt's base64 alphabet.
func isBcryptBase64(r rune) bool {
	return r == '.' || r == '/' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
}
