package core

import (
	"strings"
	"testing"
)

func TestNewRelyingParty_IDAndOrigins(t *testing.T) {
	cases := []struct {
		name        string
		p           Policy
		wantRP      string
		wantOrigins []string
		wantOpaque  []string
		wantOff     string // substring of the reason passkeys are off; empty when on
	}{
		{"host of the issuer", Policy{Issuer: "https://auth.example.com"}, "auth.example.com", []string{"https://auth.example.com"}, nil, ""},
		{"port kept in the origin, not in the id", Policy{Issuer: "http://localhost:8080"}, "localhost", []string{"http://localhost:8080"}, nil, ""},
		{"override and extra origins", Policy{Issuer: "https://auth.example.com", WebAuthnRPID: "example.com",
			WebAuthnOrigins: []string{"https://app.example.com", "android:apk-key-hash:abc"}},
			"example.com", []string{"https://auth.example.com", "https://app.example.com"}, []string{"android:apk-key-hash:abc"}, ""},
		{"IPv4 issuer", Policy{Issuer: "http://127.0.0.1:8080"}, "", nil, nil, "127.0.0.1 is an IP address"},
		{"IPv6 issuer", Policy{Issuer: "http://[::1]:8080"}, "", nil, nil, "::1 is an IP address"},
		{"IP issuer with an RP id", Policy{Issuer: "http://127.0.0.1:8080", WebAuthnRPID: "localhost"}, "localhost", []string{"http://127.0.0.1:8080"}, nil, ""},
		{"no issuer", Policy{}, "", nil, nil, "not an absolute URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rp, off, err := newRelyingParty(c.p)
			if err != nil {
				t.Fatalf("newRelyingParty: %v", err)
			}
			if c.wantOff != "" {
				if rp != nil || !strings.Contains(off, c.wantOff) {
					t.Fatalf("rp = %v, off = %q; want off because %q", rp, off, c.wantOff)
				}
				return
			}
			if rp == nil {
				t.Fatalf("passkeys off: %s", off)
			}
			if rp.Config.RPID != c.wantRP || strings.Join(rp.Config.RPOrigins, " ") != strings.Join(c.wantOrigins, " ") ||
				strings.Join(rp.Config.RPOpaqueOrigins, " ") != strings.Join(c.wantOpaque, " ") {
				t.Errorf("rp id %q, origins %v, opaque %v; want %q, %v, %v", rp.Config.RPID, rp.Config.RPOrigins,
					rp.Config.RPOpaqueOrigins, c.wantRP, c.wantOrigins, c.wantOpaque)
			}
		})
	}
}

func TestPasskeyName(t *testing.T) {
	for in, want := range map[string]string{"": DefaultPasskeyName, "  Phone  ": "Phone", "Téléphone de Zoë": "Téléphone de Zoë"} {
		if got, err := passkeyName(in); err != nil || got != want {
			t.Errorf("passkeyName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"a\x00b", "tab\there", "bidi\u202e", "\xff", strings.Repeat("é", MaxPasskeyNameLen+1)} {
		if _, err := passkeyName(in); ErrorCode(err) != CodeInvalidRequest {
			t.Errorf("passkeyName(%q): err = %v, want invalid_request", in, err)
		}
	}
}
