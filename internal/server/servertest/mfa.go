package servertest

import (
	"net/http"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTPPeriod is the time step of Gatehouse's TOTP codes.
const TOTPPeriod = 30 * time.Second

// TOTPCode returns the TOTP code of secret at the clock's current time.
func (e *Env) TOTPCode(secret string) string {
	e.T.Helper()
	code, err := totp.GenerateCodeCustom(secret, e.Clock.Now(), totp.ValidateOpts{
		Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		e.T.Fatalf("totp code: %v", err)
	}
	return code
}

// NextTOTPCode moves the clock to the next TOTP time step and returns its
// code: each code is accepted once, so a test that needs a fresh one takes
// the next.
func (e *Env) NextTOTPCode(secret string) string {
	e.T.Helper()
	e.Clock.Advance(TOTPPeriod)
	return e.TOTPCode(secret)
}

// EnrollTOTP enrols and confirms a TOTP factor for the holder of access in
// tenant ("" = default) and returns its secret and recovery codes. The
// clock is then moved to the next time step, so that the next code is fresh.
func (e *Env) EnrollTOTP(tenant, access string) (secret string, recovery []string) {
	e.T.Helper()
	r := e.Do(Request{Method: "POST", Path: "/auth/mfa/totp/enroll", JSON: map[string]any{}, Bearer: access, Header: tenantHeader(tenant)})
	if r.Status != http.StatusOK {
		e.T.Fatalf("totp enroll: %d %s", r.Status, r.Body)
	}
	var en struct {
		Secret string `json:"secret"`
	}
	r.Decode(e.T, &en)
	r = e.Do(Request{Method: "POST", Path: "/auth/mfa/totp/confirm", JSON: map[string]any{"code": e.TOTPCode(en.Secret)},
		Bearer: access, Header: tenantHeader(tenant)})
	if r.Status != http.StatusOK {
		e.T.Fatalf("totp confirm: %d %s", r.Status, r.Body)
	}
	var conf struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	r.Decode(e.T, &conf)
	e.Clock.Advance(TOTPPeriod)
	return en.Secret, conf.RecoveryCodes
}

// Challenge is the MFA part of a LoginResponse.
type Challenge struct {
	RequiresMFA        bool     `json:"requires_mfa"`
	ChallengeToken     string   `json:"challenge_token"`
	RequiredMFAMethods []string `json:"required_mfa_methods"`
	MFACheckReason     string   `json:"mfa_check_reason"`
	AccessToken        string   `json:"access_token"`
	RefreshToken       string   `json:"refresh_token"`
}

// LoginChallenged signs in with a password and fails the test unless the
// answer is an MFA challenge (without tokens).
func (e *Env) LoginChallenged(tenant, username, pw string) Challenge {
	e.T.Helper()
	r := e.Do(Request{Method: "POST", Path: "/auth/login", JSON: map[string]any{"username": username, "password": pw},
		Header: tenantHeader(tenant)})
	if r.Status != http.StatusOK {
		e.T.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	var c Challenge
	r.Decode(e.T, &c)
	if !c.RequiresMFA || c.ChallengeToken == "" || c.AccessToken != "" || c.RefreshToken != "" {
		e.T.Fatalf("login %s: want an MFA challenge without tokens, got %s", username, r.Body)
	}
	return c
}

// VerifyMFA presents a code for a challenge to POST /auth/mfa/verify.
func (e *Env) VerifyMFA(tenant, challenge, method, code string) *Response {
	e.T.Helper()
	return e.Do(Request{Method: "POST", Path: "/auth/mfa/verify", Header: tenantHeader(tenant),
		JSON: map[string]any{"challenge_token": challenge, "method": method, "code": code}})
}
