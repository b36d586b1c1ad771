package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/hkdf"
)

// MasterKeySize is the length in bytes of the master key.
const MasterKeySize = 32

// ErrOpen is returned by Sealer.Open when a sealed value cannot be
// decrypted: it was tampered with, truncated, sealed under another key or
// purpose, or bound to other associated data.
var ErrOpen = errors.New("sealed value cannot be opened")

// Sealer encrypts small secrets at rest with AES-256-GCM. Its key is derived
// with HKDF-SHA256 from the master key (no salt, info = the purpose string),
// so that a value sealed for one purpose (signing keys, TOTP secrets, ...)
// cannot be opened as another. A Sealer is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives the key for purpose from the 32-byte master key.
func NewSealer(masterKey []byte, purpose string) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("new sealer: master key must be %d bytes, got %d", MasterKeySize, len(masterKey))
	}
	if purpose == "" {
		return nil, errors.New("new sealer: purpose must not be empty")
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, masterKey, nil, []byte(purpose)), key); err != nil {
		return nil, fmt.Errorf("new sealer: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	// NewGCMWithRandomNonce draws a fresh 96-bit nonce from crypto/rand for
	// every Seal and prefixes it to the ciphertext.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext and binds it to aad (associated data that is
// authenticated but not stored, such as the id of the record that holds the
// value). The result is nonce ‖ ciphertext ‖ tag.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	if s == nil || s.aead == nil {
		return nil, errors.New("seal: sealer is not initialised")
	}
	return s.aead.Seal(nil, nil, plaintext, aad), nil
}

// Open decrypts a value produced by Seal with the same aad. Any change to
// the value or to aad yields an error wrapping ErrOpen.
func (s *Sealer) Open(ciphertext, aad []byte) ([]byte, error) {
	if s == nil || s.aead == nil {
		return nil, errors.New("open: sealer is not initialised")
	}
	// Overhead counts both the nonce prefix and the tag.
	if len(ciphertext) < s.aead.Overhead() {
		return nil, fmt.Errorf("open: value too short (%d bytes): %w", len(ciphertext), ErrOpen)
	}
	plaintext, err := s.aead.Open(nil, nil, ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("open: authentication failed: %w", ErrOpen)
	}
	return plaintext, nil
}

// ParseMasterKey decodes a master key written as 64 hexadecimal characters
// (surrounding white space, such as a trailing newline in a key file, is
// ignored). Errors never contain the key.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) != 2*MasterKeySize {
		return nil, fmt.Errorf("master key must be %d hexadecimal characters (%d bytes), got %d characters", 2*MasterKeySize, MasterKeySize, len(s))
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		var inv hex.InvalidByteError
		if errors.As(err, &inv) {
			return nil, fmt.Errorf("master key must be hexadecimal: character %d is not a hex digit", strings.IndexByte(s, byte(inv))+1)
		}
		return nil, errors.New("master key must be hexadecimal")
	}
	return key, nil
}
