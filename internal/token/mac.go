package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// KeyedHash computes HMAC-SHA256 under a key derived with HKDF-SHA256 from
// the master key for one purpose (info "hmac:" + purpose, so that it never
// equals a Sealer's key). It stores values that must be compared but never
// read back, such as the known client IPs of a user or recovery codes:
// without the master key, the stored hashes cannot be searched offline.
// A KeyedHash is safe for concurrent use.
type KeyedHash struct {
	key []byte
}

// NewKeyedHash derives the key for purpose from the 32-byte master key.
func NewKeyedHash(masterKey []byte, purpose string) (*KeyedHash, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("new keyed hash: master key must be %d bytes, got %d", MasterKeySize, len(masterKey))
	}
	if purpose == "" {
		return nil, errors.New("new keyed hash: purpose must not be empty")
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, masterKey, nil, []byte("hmac:"+purpose)), key); err != nil {
		return nil, fmt.Errorf("new keyed hash: derive key: %w", err)
	}
	return &KeyedHash{key: key}, nil
}

// Sum returns the hex HMAC of parts. Each part is length-prefixed, so
// ("ab", "c") and ("a", "bc") differ.
func (k *KeyedHash) Sum(parts ...string) string {
	m := hmac.New(sha256.New, k.key)
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}
