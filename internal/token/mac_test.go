package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	"golang.org/x/crypto/hkdf"
)

func TestKeyedHash_DeterministicAndKeyed(t *testing.T) {
	master := bytes.Repeat([]byte{7}, MasterKeySize)
	other := bytes.Repeat([]byte{8}, MasterKeySize)
	a, err := NewKeyedHash(master, "devices")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := NewKeyedHash(master, "devices")
	b, _ := NewKeyedHash(master, "recovery-codes")
	c, _ := NewKeyedHash(other, "devices")

	h := a.Sum("t1", "u1", "198.51.100.7")
	if len(h) != 64 {
		t.Fatalf("Sum = %q, want 64 hex characters", h)
	}
	if a2.Sum("t1", "u1", "198.51.100.7") != h {
		t.Fatal("the same key and parts gave another hash")
	}
	for name, got := range map[string]string{
		"other purpose":    b.Sum("t1", "u1", "198.51.100.7"),
		"other master key": c.Sum("t1", "u1", "198.51.100.7"),
		"other parts":      a.Sum("t1", "u1", "198.51.100.8"),
		"shifted parts":    a.Sum("t1u", "1", "198.51.100.7"),
	} {
		if got == h {
			t.Errorf("%s gave the same hash", name)
		}
	}
}

// The derived key is independent of the Sealer's key for the same purpose:
// it is HMAC-SHA256 keyed with HKDF(master, info "hmac:"+purpose).
func TestKeyedHash_KeyDerivation(t *testing.T) {
	master := bytes.Repeat([]byte{1}, MasterKeySize)
	k, err := NewKeyedHash(master, "p")
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte("hmac:p")), key); err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte{0, 0, 0, 0, 0, 0, 0, 1, 'x'})
	if want := hex.EncodeToString(m.Sum(nil)); k.Sum("x") != want {
		t.Fatalf("Sum(x) = %s, want %s", k.Sum("x"), want)
	}
}

func TestKeyedHash_RejectsBadInput(t *testing.T) {
	if _, err := NewKeyedHash(make([]byte, 31), "p"); err == nil {
		t.Error("a short master key was accepted")
	}
	if _, err := NewKeyedHash(make([]byte, MasterKeySize), ""); err == nil {
		t.Error("an empty purpose was accepted")
	}
}
