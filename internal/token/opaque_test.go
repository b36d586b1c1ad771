package token

import (
	"encoding/base64"
	"testing"
)

func TestNewOpaque_256BitsURLSafe(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := NewOpaque()
		if len(tok) != 43 {
			t.Fatalf("len(%q) = %d, want 43", tok, len(tok))
		}
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) != 32 {
			t.Fatalf("%q does not decode to 32 bytes: %v", tok, err)
		}
		if seen[tok] {
			t.Fatal("token repeated")
		}
		seen[tok] = true
	}
}

func TestHashOpaque_HexSHA256(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 test vector.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashOpaque("abc"); got != want {
		t.Fatalf("HashOpaque(abc) = %s, want %s", got, want)
	}
	tok := NewOpaque()
	if HashOpaque(tok) != HashOpaque(tok) || HashOpaque(tok) == HashOpaque(NewOpaque()) {
		t.Fatal("HashOpaque is not a function of the token")
	}
}

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"", "a", false},
	}
	for _, c := range cases {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
