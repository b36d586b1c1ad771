package core

import (
	"encoding/base32"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// rfcSecret is the RFC 6238 appendix B SHA-1 key, "12345678901234567890".
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

func TestTOTPCode_RFC6238Vectors(t *testing.T) {
	// Appendix B, SHA-1, truncated to the 6 digits Gatehouse uses.
	for unix, want := range map[int64]string{
		59:          "287082",
		1111111109:  "081804",
		1111111111:  "050471",
		1234567890:  "005924",
		2000000000:  "279037",
		20000000000: "353130",
	} {
		got, err := totpCode(rfcSecret, totpStep(time.Unix(unix, 0)))
		if err != nil || got != want {
			t.Errorf("code at %d = %q, %v; want %q", unix, got, err, want)
		}
	}
}

func TestMatchTOTP_SkewAndStep(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 15, 0, time.UTC)
	cur := totpStep(now)
	for _, d := range []int64{-1, 0, 1} {
		code, err := totp.GenerateCode(rfcSecret, now.Add(time.Duration(d)*totpPeriod*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		step, ok := matchTOTP(rfcSecret, code, now)
		if !ok || step != cur+d {
			t.Errorf("code of step %+d: match = %d, %v; want %d, true", d, step, ok, cur+d)
		}
	}
	for _, d := range []int64{-3, -2, 2, 3} {
		code, _ := totp.GenerateCode(rfcSecret, now.Add(time.Duration(d)*totpPeriod*time.Second))
		if cur, _ := totp.GenerateCode(rfcSecret, now); cur == code {
			continue // a coincidence of 6 digits
		}
		if _, ok := matchTOTP(rfcSecret, code, now); ok {
			t.Errorf("a code %d steps away was accepted", d)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", " "} {
		if _, ok := matchTOTP(rfcSecret, bad, now); ok {
			t.Errorf("malformed code %q accepted", bad)
		}
	}
}

func TestRecoveryCodes_FormatAndNormalisation(t *testing.T) {
	codes := newRecoveryCodes()
	if len(codes) != RecoveryCodeCount {
		t.Fatalf("%d codes, want %d", len(codes), RecoveryCodeCount)
	}
	form := regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !form.MatchString(c) {
			t.Errorf("code %q is not xxxx-xxxx-xxxx-xxxx", c)
		}
		if seen[c] {
			t.Errorf("code %q repeated", c)
		}
		seen[c] = true
	}
	c := codes[0]
	for _, typed := range []string{c, "  " + c, strings.ToUpper(c), removeDashes(c)} {
		if normalizeRecoveryCode(typed) != normalizeRecoveryCode(c) {
			t.Errorf("%q does not normalise like %q", typed, c)
		}
	}
}

func removeDashes(s string) string { return strings.ReplaceAll(s, "-", "") }
