package core

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// TOTP parameters (RFC 6238 with the values every authenticator app
// supports): HMAC-SHA1, 6 digits, 30-second steps, 160-bit secrets.
const (
	totpPeriod     = 30
	totpDigits     = otp.DigitsSix
	totpSecretSize = 20
	// totpSkew is how many steps either side of the current one are
	// accepted, for clock drift and typing time.
	totpSkew = 1
)

// Recovery codes: RecoveryCodeCount codes of 16 base32 characters (80
// bits), shown in groups of four.
const (
	RecoveryCodeCount = 10
	recoveryCodeBytes = 10
)

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpCode is the code of secret (base32) at step.
func totpCode(secret string, step int64) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
}

// matchTOTP returns the time step, within totpSkew of now, whose code is
// code. Every candidate is computed and compared in constant time.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != totpDigits.Length() {
		return 0, false
	}
	cur := totpStep(now)
	var found int64
	matched := false
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totpCode(secret, step)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !matched {
			found, matched = step, true
		}
	}
	return found, matched
}

// newTOTPSecret returns a fresh secret from crypto/rand.
func newTOTPSecret() []byte {
	b := make([]byte, totpSecretSize)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return b
}

// factorAAD binds a sealed secret to its factor: a secret copied to
// another row cannot be opened there.
func factorAAD(f store.MFAFactor) []byte {
	return []byte(f.TenantID + "\x00" + f.UserID + "\x00" + f.ID)
}

// sealTOTPSecret encrypts a factor's secret with the master key.
func (s *Service) sealTOTPSecret(f store.MFAFactor, secret string) ([]byte, error) {
	if s.totpSealer == nil {
		return nil, newError(CodeUnavailable, "second factors are not configured")
	}
	b, err := s.totpSealer.Seal([]byte(secret), factorAAD(f))
	if err != nil {
		return nil, fmt.Errorf("seal totp secret: %w", err)
	}
	return b, nil
}

// openTOTPSecret decrypts a factor's secret.
func (s *Service) openTOTPSecret(f store.MFAFactor) (string, error) {
	if s.totpSealer == nil {
		return "", newError(CodeUnavailable, "second factors are not configured")
	}
	b, err := s.totpSealer.Open(f.SecretEnc, factorAAD(f))
	if err != nil {
		return "", fmt.Errorf("open totp secret of factor %s: %w", f.ID, err)
	}
	return string(b), nil
}

// newRecoveryCodes returns RecoveryCodeCount fresh codes, as shown to the
// user (xxxx-xxxx-xxxx-xxxx, lower case).
func newRecoveryCodes() []string {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, recoveryCodeBytes)
		if _, err := rand.Read(b); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		c := strings.ToLower(enc.EncodeToString(b))
		codes[i] = c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
	}
	return codes
}

// normalizeRecoveryCode accepts a code with or without dashes and spaces, in any case.
func normalizeRecoveryCode(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
}

// recoveryHash is the stored form of a recovery code of u: a keyed hash, so
// that the 80-bit codes cannot be searched offline without the master key.
func (s *Service) recoveryHash(u store.User, code string) string {
	return s.keyed.Sum("recovery-code", u.TenantID, u.ID, normalizeRecoveryCode(code))
}
