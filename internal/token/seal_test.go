package token

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func TestSealer_RoundTrip(t *testing.T) {
	s := testSealer(t, testMasterKey(t))
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("secret"), 1000)} {
		ct, err := s.Seal(pt, []byte("kid-1"))
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if len(pt) > 100 && bytes.Contains(ct, pt) {
			t.Fatal("ciphertext contains the plaintext")
		}
		got, err := s.Open(ct, []byte("kid-1"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, want %q", got, pt)
		}
	}
}

// The format is nonce(12) ‖ AES-256-GCM(key = HKDF-SHA256(master, info = purpose)).
func TestSealer_FormatMatchesIndependentDerivation(t *testing.T) {
	master := testMasterKey(t)
	s, err := NewSealer(master, "totp")
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.Seal([]byte("JBSWY3DPEHPK3PXP"), []byte("user-1"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := hkdf.Key(sha256.New, master, nil, "totp", 32)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	pt, err := gcm.Open(nil, ct[:12], ct[12:], []byte("user-1"))
	if err != nil {
		t.Fatalf("independent open: %v", err)
	}
	if string(pt) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("independent open = %q", pt)
	}
}

func TestSealer_FreshNonceEachSeal(t *testing.T) {
	s := testSealer(t, testMasterKey(t))
	seen := map[string]bool{}
	for range 100 {
		ct, err := s.Seal([]byte("same"), nil)
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(ct[:12])
		if seen[nonce] {
			t.Fatal("nonce repeated")
		}
		seen[nonce] = true
	}
}

func TestSealer_OpenRejectsTampering(t *testing.T) {
	master := testMasterKey(t)
	s := testSealer(t, master)
	aad := []byte("kid-1")
	ct, err := s.Seal([]byte("private key bytes"), aad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(ct)
			bad[i] ^= bit
			if _, err := s.Open(bad, aad); !errors.Is(err, ErrOpen) {
				t.Fatalf("byte %d bit %#x flipped: err = %v, want ErrOpen", i, bit, err)
			}
		}
	}
	other, err := NewSealer(master, "other-purpose")
	if err != nil {
		t.Fatal(err)
	}
	otherMaster := testSealer(t, testMasterKey(t))
	cases := map[string]func() ([]byte, error){
		"wrong aad":        func() ([]byte, error) { return s.Open(ct, []byte("kid-2")) },
		"missing aad":      func() ([]byte, error) { return s.Open(ct, nil) },
		"other purpose":    func() ([]byte, error) { return other.Open(ct, aad) },
		"other master key": func() ([]byte, error) { return otherMaster.Open(ct, aad) },
		"truncated":        func() ([]byte, error) { return s.Open(ct[:len(ct)-1], aad) },
		"extended":         func() ([]byte, error) { return s.Open(append(bytes.Clone(ct), 0), aad) },
		"nonce only":       func() ([]byte, error) { return s.Open(ct[:12], aad) },
		"empty":            func() ([]byte, error) { return s.Open(nil, aad) },
	}
	for name, open := range cases {
		if pt, err := open(); !errors.Is(err, ErrOpen) || pt != nil {
			t.Errorf("%s: Open = %q, %v; want nil, ErrOpen", name, pt, err)
		}
	}
}

func TestNewSealer_Validation(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n), "p"); err == nil {
			t.Errorf("NewSealer with a %d-byte key: no error", n)
		}
	}
	if _, err := NewSealer(make([]byte, 32), ""); err == nil {
		t.Error("NewSealer with an empty purpose: no error")
	}
}

func TestParseMasterKey(t *testing.T) {
	good := strings.Repeat("0123456789abcdef", 4)
	k, err := ParseMasterKey(good)
	if err != nil {
		t.Fatalf("ParseMasterKey: %v", err)
	}
	if len(k) != 32 || k[0] != 0x01 || k[31] != 0xef {
		t.Fatalf("ParseMasterKey = %x", k)
	}
	if k2, err := ParseMasterKey(strings.ToUpper(good) + "\n"); err != nil || !bytes.Equal(k, k2) {
		t.Fatalf("upper case with newline: %x, %v", k2, err)
	}
	bad := map[string]string{
		"empty":     "",
		"short":     good[:62],
		"long":      good + "00",
		"not hex":   good[:10] + "zz" + good[12:],
		"inner gap": good[:32] + " " + good[33:],
	}
	for name, in := range bad {
		_, err := ParseMasterKey(in)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), "master key") {
			t.Errorf("%s: error %q does not name the master key", name, err)
		}
		if len(in) > 8 && strings.Contains(err.Error(), in[:8]) {
			t.Errorf("%s: error %q contains the key", name, err)
		}
	}
	if _, err := ParseMasterKey(good[:10] + "zz" + good[12:]); !strings.Contains(err.Error(), "character 11") {
		t.Errorf("not hex: error %q does not give the position", err)
	}
}
