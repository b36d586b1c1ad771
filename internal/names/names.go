// Package names holds how Gatehouse compares the names people sign in
// with: usernames by RFC 8265 (PRECIS UsernameCaseMapped) and emails by
// ASCII case only. The core prepares every new name with Username; the
// stores derive their lookup keys from the same functions, so a name
// compares the same way on create, update, sign-in and import.
package names

import (
	"errors"
	"strings"

	"golang.org/x/text/secure/precis"
)

// ErrUsername is returned for a username the profile refuses (empty,
// spaces, controls, zero-width and other disallowed code points, or a name
// that is not stable under preparation).
var ErrUsername = errors.New("the username is not allowed")

// Username prepares raw with RFC 8265 UsernameCaseMapped: width mapping
// (fullwidth to ASCII), case folding and NFC; it refuses what the
// IdentifierClass disallows. ａｌｉｃｅ, Alice and ALICE all prepare to alice.
func Username(raw string) (string, error) {
	if strings.IndexByte(raw, 0) >= 0 {
		return "", ErrUsername
	}
	p, err := precis.UsernameCaseMapped.String(raw)
	if err != nil || p == "" {
		return "", ErrUsername
	}
	return p, nil
}

// LegacyKey is the comparison key usernames had before PRECIS (Unicode
// lower case). It is kept only for the accounts the migration to PRECIS
// could not re-key (see the stores' migration 0008).
func LegacyKey(s string) string { return strings.ToLower(s) }

// UsernameKey is the key a stored username is looked up by: its prepared
// form, or its legacy key when the profile refuses it.
func UsernameKey(s string) string {
	if p, err := Username(s); err == nil {
		return p
	}
	return LegacyKey(s)
}

// EmailKey folds the ASCII letters of an email address and nothing else,
// so that a look-alike such as the Kelvin sign U+212A never compares equal
// to "k".
func EmailKey(s string) string {
	b := []byte(s)
	changed := false
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
			changed = true
		}
	}
	if !changed {
		return s
	}
	return string(b)
}

// IsASCII reports whether s has only ASCII characters. Only an ASCII email
// links an external identity to a local account.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
