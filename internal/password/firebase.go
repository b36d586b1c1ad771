package password

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// firebasePrefix starts Gatehouse's encoding of a Firebase scrypt hash.
// Firebase exports a user's hash and salt separately from the project's
// signer key, salt separator, rounds and memory cost; Gatehouse keeps all
// of them in the one password-hash column, in a PHC-like string:
//
//	$firebase-scrypt$r=<rounds>,m=<mem_cost>$<salt separator>$<signer key>$<salt>$<hash>
//
// with the four byte strings in unpadded standard base64. The signer key is
// a per-project secret; it is stored with each hash exactly as the hash
// itself is (a database dump already exposes both), and it disappears with
// the rehash to argon2id at the user's next sign-in.
const firebasePrefix = "$firebase-scrypt$"

// FirebaseScrypt is one user's password in Firebase's export form: hash and
// salt from the user's record, the rest from the project's password hash
// parameters. The byte strings are base64, standard or URL-safe, padded or
// not, as Firebase's console and CLI show them.
type FirebaseScrypt struct {
	Hash          string `json:"hash"`
	Salt          string `json:"salt"`
	SignerKey     string `json:"signer_key"`
	SaltSeparator string `json:"salt_separator"`
	Rounds        int    `json:"rounds"`
	MemCost       int    `json:"mem_cost"`
}

// EncodeFirebaseScrypt turns f into the password-hash string Verify
// checks. It fails, wrapping ErrMalformedHash, when a value is not base64
// or the parameters are outside the bounds (rounds 1-8, mem_cost 1-14).
func EncodeFirebaseScrypt(f FirebaseScrypt) (string, error) {
	var raw [4][]byte
	for i, v := range []struct{ name, val string }{
		{"salt_separator", f.SaltSeparator}, {"signer_key", f.SignerKey}, {"salt", f.Salt}, {"hash", f.Hash},
	} {
		b, err := lenientBase64(v.val)
		if err != nil {
			return "", fmt.Errorf("%w: firebase_scrypt %s is not base64", ErrMalformedHash, v.name)
		}
		raw[i] = b
	}
	s := fmt.Sprintf("%sr=%d,m=%d$%s$%s$%s$%s", firebasePrefix, f.Rounds, f.MemCost,
		b64.EncodeToString(raw[0]), b64.EncodeToString(raw[1]), b64.EncodeToString(raw[2]), b64.EncodeToString(raw[3]))
	if err := Check(s); err != nil {
		return "", err
	}
	return s, nil
}

// lenientBase64 decodes standard or URL-safe base64, padded or not.
func lenientBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	return base64.RawStdEncoding.DecodeString(s)
}

// decodeFirebase parses the string EncodeFirebaseScrypt writes. Firebase's
// scheme: the scrypt key (N = 2^mem_cost, r = rounds, p = 1, 32 bytes) of
// the password with salt ‖ salt separator is an AES-256 key; the stored hash
// is the signer key encrypted with it in CTR mode under a zero IV.
func decodeFirebase(s string) (decoded, error) {
	parts, err := splitMCF(s, "firebase-scrypt", 5)
	if err != nil {
		return decoded{}, err
	}
	vals, err := parseCosts(parts[0], []string{"r", "m"}, []int{8, 8})
	if err != nil {
		return decoded{}, err
	}
	rounds, mem := vals[0], vals[1]
	if rounds < 1 || rounds > maxFirebaseRounds || mem < 1 || mem > maxFirebaseMemCost {
		return decoded{}, fmt.Errorf("%w: firebase scrypt rounds must be 1 to %d and mem_cost 1 to %d",
			ErrMalformedHash, maxFirebaseRounds, maxFirebaseMemCost)
	}
	var raw [4][]byte
	for i, p := range parts[1:] {
		if raw[i], err = b64.DecodeString(p); err != nil {
			return decoded{}, fmt.Errorf("%w: firebase scrypt field %d is not base64", ErrMalformedHash, i+2)
		}
	}
	sep, signer, salt, sum := raw[0], raw[1], raw[2], raw[3]
	switch {
	case len(signer) == 0 || len(signer) > maxFirebaseKey:
		return decoded{}, fmt.Errorf("%w: firebase scrypt signer key must be 1 to %d bytes", ErrMalformedHash, maxFirebaseKey)
	case len(sum) != len(signer):
		return decoded{}, fmt.Errorf("%w: firebase scrypt hash and signer key differ in length", ErrMalformedHash)
	case len(salt) > maxScryptSalt || len(sep) > maxScryptSalt:
		return decoded{}, fmt.Errorf("%w: firebase scrypt salt is longer than %d bytes", ErrMalformedHash, maxScryptSalt)
	}
	fullSalt := append(append([]byte{}, salt...), sep...)
	return decoded{kind: KindFirebaseScrypt, want: sum, derive: func(pw string) []byte {
		key, err := scrypt.Key([]byte(pw), fullSalt, 1<<mem, int(rounds), 1, 32)
		if err != nil {
			return nil
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil
		}
		out := make([]byte, len(signer))
		cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(out, signer)
		return out
	}}, nil
}
