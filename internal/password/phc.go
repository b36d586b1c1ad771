package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

const argon2Version = 19 // 0x13, the only version golang.org/x/crypto/argon2 implements

var b64 = base64.RawStdEncoding.Strict()

// encodePHC formats an argon2id hash as a PHC string.
func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodeArgon2 parses an argon2id or argon2i PHC string strictly: the
// fields in the order encodePHC writes them, unpadded base64, parameters
// within bounds. The returned Params carry the salt and key lengths found.
func decodeArgon2(s string) (decoded, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || (parts[1] != "argon2id" && parts[1] != "argon2i") {
		return decoded{}, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2Version) {
		return decoded{}, fmt.Errorf("%w: unsupported argon2 version", ErrMalformedHash)
	}
	vals, err := parseCosts(parts[3], []string{"m", "t", "p"}, []int{32, 32, 8})
	if err != nil {
		return decoded{}, err
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return decoded{}, fmt.Errorf("%w: salt is not base64", ErrMalformedHash)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return decoded{}, fmt.Errorf("%w: hash is not base64", ErrMalformedHash)
	}
	p := Params{Memory: uint32(vals[0]), Iterations: uint32(vals[1]), Parallelism: uint8(vals[2]),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := checkParams(p); err != nil {
		return decoded{}, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	d := decoded{kind: KindArgon2id, argon: p, want: key}
	d.derive = func(pw string) []byte {
		return argon2.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	}
	if parts[1] == "argon2i" {
		d.kind = KindArgon2i
		d.derive = func(pw string) []byte {
			return argon2.Key([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
		}
	}
	return d, nil
}

// parseCosts parses "a=1,b=2,..." with exactly the given names in order,
// each an unsigned decimal of at most the given bit size.
func parseCosts(s string, names []string, bits []int) ([]uint64, error) {
	fields := strings.Split(s, ",")
	want := strings.Join(names, ", ")
	if len(fields) != len(names) {
		return nil, fmt.Errorf("%w: want parameters %s", ErrMalformedHash, want)
	}
	vals := make([]uint64, len(names))
	for i, f := range fields {
		v, ok := strings.CutPrefix(f, names[i]+"=")
		if !ok {
			return nil, fmt.Errorf("%w: want parameters %s", ErrMalformedHash, want)
		}
		n, err := strconv.ParseUint(v, 10, bits[i])
		if err != nil {
			return nil, fmt.Errorf("%w: parameter %s out of range", ErrMalformedHash, names[i])
		}
		vals[i] = n
	}
	return vals, nil
}

// checkParams enforces the bounds on argon2 parameters.
func checkParams(p Params) error {
	switch {
	case p.Parallelism < 1 || p.Parallelism > maxParallelism:
		return fmt.Errorf("parallelism %d is outside [1, %d]", p.Parallelism, maxParallelism)
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
