package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on argon2id parameters, for New and for stored hashes alike, so
// that a corrupt or hostile hash cannot make Verify allocate gigabytes or
// spin for minutes.
const (
	maxMemoryKiB  = 1 << 20 // 1 GiB
	maxIterations = 64
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 128
)

const argon2Version = 19 // 0x13, the only version golang.org/x/crypto/argon2 implements

var b64 = base64.RawStdEncoding.Strict()

// encodePHC formats an argon2id hash as a PHC string.
func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses an argon2id PHC string strictly: the fields in the order
// encodePHC writes them, unpadded base64, parameters within bounds. The
// returned Params carry the salt and key lengths found. Errors wrap
// ErrMalformedHash and never quote the hash.
func decodePHC(s string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported argon2 version", ErrMalformedHash)
	}
	m, t, par, err := parseCosts(parts[3])
	if err != nil {
		return p, nil, nil, err
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt is not base64", ErrMalformedHash)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: hash is not base64", ErrMalformedHash)
	}
	p = Params{Memory: m, Iterations: t, Parallelism: par, SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := checkParams(p); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// parseCosts parses "m=<KiB>,t=<passes>,p=<lanes>".
func parseCosts(s string) (m, t uint32, p uint8, err error) {
	fields := strings.Split(s, ",")
	names := []string{"m", "t", "p"}
	if len(fields) != len(names) {
		return 0, 0, 0, fmt.Errorf("%w: want parameters m, t and p", ErrMalformedHash)
	}
	var vals [3]uint64
	for i, f := range fields {
		v, ok := strings.CutPrefix(f, names[i]+"=")
		if !ok {
			return 0, 0, 0, fmt.Errorf("%w: want parameters m, t and p", ErrMalformedHash)
		}
		bits := 32
		if names[i] == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%w: parameter %s out of range", ErrMalformedHash, names[i])
		}
		vals[i] = n
	}
	return uint32(vals[0]), uint32(vals[1]), uint8(vals[2]), nil
}

// checkParams enforces the bounds on argon2id parameters.
func checkParams(p Params) error {
	switch {
	case p.Parallelism < 1:
		return fmt.Errorf("parallelism %d is below 1", p.Parallelism)
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("memory %d KiB is outside [8*parallelism, %d]", p.Memory, maxMemoryKiB)
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("iterations %d are outside [1, %d]", p.Iterations, maxIterations)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d is outside [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("hash length %d is outside [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// IsSupportedHash reports whether encoded is a hash Verify can check: a
// well-formed argon2id PHC string or bcrypt hash with costs within bounds.
// Use it to accept imported hashes when users are created.
func IsSupportedHash(encoded string) bool {
	if isBcrypt(encoded) {
		_, err := bcryptCost(encoded)
		return err == nil
	}
	_, _, _, err := decodePHC(encoded)
	return err == nil
}
