package password

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// ab64 is passlib's "adapted base64": the standard alphabet with '.' in
// place of '+', without padding.
var ab64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./").
	WithPadding(base64.NoPadding).Strict()

// decodePBKDF2 parses passlib's PBKDF2 forms,
// $pbkdf2-sha256$<rounds>$<salt>$<checksum> and $pbkdf2-sha512$..., salt
// and checksum in passlib's adapted base64.
func decodePBKDF2(s string) (decoded, error) {
	name, kind, h := "pbkdf2-sha256", KindPBKDF2SHA256, sha256.New
	if strings.HasPrefix(s, "$pbkdf2-sha512$") {
		name, kind, h = "pbkdf2-sha512", KindPBKDF2SHA512, func() hash.Hash { return sha512.New() }
	}
	parts, err := splitMCF(s, name, 3)
	if err != nil {
		return decoded{}, err
	}
	rounds, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil || rounds < 1 || rounds > maxPBKDF2Rounds || parts[0][0] == '0' {
		return decoded{}, fmt.Errorf("%w: %s rounds must be 1 to %d", ErrMalformedHash, name, maxPBKDF2Rounds)
	}
	salt, err := ab64.DecodeString(parts[1])
	if err != nil || len(salt) > maxPBKDF2Salt {
		return decoded{}, fmt.Errorf("%w: %s salt is not adapted base64 of at most %d bytes", ErrMalformedHash, name, maxPBKDF2Salt)
	}
	sum, err := ab64.DecodeString(parts[2])
	if err != nil || len(sum) < minChecksum || len(sum) > maxChecksum {
		return decoded{}, fmt.Errorf("%w: %s checksum is not adapted base64 of %d to %d bytes", ErrMalformedHash, name, minChecksum, maxChecksum)
	}
	return decoded{kind: kind, want: sum, derive: func(pw string) []byte {
		// Key fails only for lengths and FIPS rules that do not apply here;
		// a nil key simply never matches.
		k, _ := pbkdf2.Key(h, pw, salt, int(rounds), len(sum))
		return k
	}}, nil
}
