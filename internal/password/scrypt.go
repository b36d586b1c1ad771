package password

import (
	"fmt"

	"golang.org/x/crypto/scrypt"
)

// decodeScrypt parses passlib's scrypt form,
// $scrypt$ln=<log2 N>,r=<block size>,p=<parallelism>$<salt>$<checksum>,
// salt and checksum in unpadded standard base64.
func decodeScrypt(s string) (decoded, error) {
	parts, err := splitMCF(s, "scrypt", 3)
	if err != nil {
		return decoded{}, err
	}
	vals, err := parseCosts(parts[0], []string{"ln", "r", "p"}, []int{8, 32, 32})
	if err != nil {
		return decoded{}, err
	}
	ln, r, p := vals[0], vals[1], vals[2]
	if err := checkScrypt(ln, r, p); err != nil {
		return decoded{}, err
	}
	salt, err := b64.DecodeString(parts[1])
	if err != nil || len(salt) > maxScryptSalt {
		return decoded{}, fmt.Errorf("%w: scrypt salt is not base64 of at most %d bytes", ErrMalformedHash, maxScryptSalt)
	}
	sum, err := b64.DecodeString(parts[2])
	if err != nil || len(sum) < minChecksum || len(sum) > maxChecksum {
		return decoded{}, fmt.Errorf("%w: scrypt checksum is not base64 of %d to %d bytes", ErrMalformedHash, minChecksum, maxChecksum)
	}
	return decoded{kind: KindScrypt, want: sum, derive: func(pw string) []byte {
		// The parameters are checked above, so Key cannot fail.
		k, _ := scrypt.Key([]byte(pw), salt, 1<<ln, int(r), int(p), len(sum))
		return k
	}}, nil
}

// checkScrypt enforces the scrypt bounds of bounds.go.
func checkScrypt(ln, r, p uint64) error {
	if ln < 1 || ln > maxScryptLogN || r < 1 || p < 1 {
		return fmt.Errorf("%w: scrypt ln must be 1 to %d, r and p at least 1", ErrMalformedHash, maxScryptLogN)
	}
	n := uint64(1) << ln
	if r > maxScryptMemory || 128*r*n > maxScryptMemory {
		return fmt.Errorf("%w: scrypt memory 128*r*2^ln is above %d MiB", ErrMalformedHash, maxScryptMemory>>20)
	}
	if p > maxScryptWork || p*r*n > maxScryptWork {
		return fmt.Errorf("%w: scrypt work p*r*2^ln is above 2^21", ErrMalformedHash)
	}
	return nil
}
