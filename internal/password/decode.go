package password

import (
	"crypto/subtle"
	"fmt"
	"strings"
)

// Kind names a hash scheme Verify understands.
type Kind string

// The hash kinds. Only KindArgon2id is ever produced; the others are
// accepted from imports and replaced by argon2id at the next successful
// sign-in.
const (
	KindArgon2id       Kind = "argon2id"
	KindArgon2i        Kind = "argon2i"
	KindBcrypt         Kind = "bcrypt"
	KindScrypt         Kind = "scrypt"
	KindPBKDF2SHA256   Kind = "pbkdf2-sha256"
	KindPBKDF2SHA512   Kind = "pbkdf2-sha512"
	KindFirebaseScrypt Kind = "firebase-scrypt"
)

// decoded is a parsed stored hash, ready to be checked. Either match is
// set, or derive and want: derive computes from a password the bytes that
// must equal want.
type decoded struct {
	kind   Kind
	argon  Params // the argon2 parameters, for argon2 kinds
	derive func(password string) []byte
	want   []byte
	match  func(password string) (bool, error)
}

// check does the expensive work and compares in constant time.
func (d decoded) check(password string) (bool, error) {
	if d.match != nil {
		return d.match(password)
	}
	got := d.derive(password)
	return subtle.ConstantTimeCompare(got, d.want) == 1, nil
}

// decode recognises the kind of encoded by its prefix and parses it
// strictly, bounds included. Errors wrap ErrMalformedHash and never quote
// the hash.
func decode(encoded string) (decoded, error) {
	switch {
	case encoded == "":
		return decoded{}, fmt.Errorf("%w: no password is set", ErrMalformedHash)
	case isBcrypt(encoded):
		return decodeBcrypt(encoded)
	case strings.HasPrefix(encoded, "$argon2id$"), strings.HasPrefix(encoded, "$argon2i$"):
		return decodeArgon2(encoded)
	case strings.HasPrefix(encoded, "$scrypt$"):
		return decodeScrypt(encoded)
	case strings.HasPrefix(encoded, "$pbkdf2-sha256$"), strings.HasPrefix(encoded, "$pbkdf2-sha512$"):
		return decodePBKDF2(encoded)
	case strings.HasPrefix(encoded, firebasePrefix):
		return decodeFirebase(encoded)
	}
	return decoded{}, fmt.Errorf("%w: unknown hash kind (want argon2id, argon2i, bcrypt, scrypt, pbkdf2-sha256, pbkdf2-sha512 or firebase-scrypt)", ErrMalformedHash)
}

// Check reports why encoded cannot be stored as a password hash, or nil
// when Verify can check it: a well-formed hash of a supported kind with
// its costs within bounds. The error wraps ErrMalformedHash and says which
// rule failed, without quoting the hash.
func Check(encoded string) error {
	_, err := decode(encoded)
	return err
}

// KindOf returns the kind of a valid hash, or "" for an invalid one.
func KindOf(encoded string) Kind {
	d, err := decode(encoded)
	if err != nil {
		return ""
	}
	return d.kind
}

// IsSupportedHash reports whether Check accepts encoded.
func IsSupportedHash(encoded string) bool { return Check(encoded) == nil }

// splitMCF splits "$name$f1$f2..." into its n fields after the name.
func splitMCF(s, name string, n int) ([]string, error) {
	rest, ok := strings.CutPrefix(s, "$"+name+"$")
	if !ok {
		return nil, fmt.Errorf("%w: not a %s hash", ErrMalformedHash, name)
	}
	parts := strings.Split(rest, "$")
	if len(parts) != n {
		return nil, fmt.Errorf("%w: a %s hash has %d fields after its name", ErrMalformedHash, name, n)
	}
	return parts, nil
}
