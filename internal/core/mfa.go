package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// Second-factor methods, as required_mfa_methods and POST /auth/mfa/verify name them.
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
)

// MFA limits.
const (
	// ChallengeTTL is the lifetime of an MFA challenge.
	ChallengeTTL = 5 * time.Minute
	// MaxChallengeAttempts wrong codes end a challenge.
	MaxChallengeAttempts = 5
	// maxCodeLen bounds presented codes before any work is done.
	maxCodeLen = 64
)

// Challenge is what a sign-in that needs a second factor returns instead of
// tokens.
type Challenge struct {
	Token     string // opaque, 256 bits; only its hash is stored
	Methods   []string
	Reason    string // mfa_check_reason
	ExpiresAt time.Time
}

// pendingSignIn is the sign-in a challenge stands for, kept with the
// challenge and completed by VerifyMFA.
type pendingSignIn struct {
	ClientID    string          `json:"client_id"`
	FirstParty  bool            `json:"first_party,omitempty"`
	ClientBound bool            `json:"client_bound,omitempty"`
	AMR         []string        `json:"amr"`
	IP          string          `json:"ip"`
	UserAgent   string          `json:"user_agent"`
	Risk        *RiskAssessment `json:"risk,omitempty"`
	Browser     bool            `json:"browser,omitempty"`
	// ReplacesBrowser: see PasswordLogin.PreviousBrowser.
	ReplacesBrowser string `json:"replaces_browser,omitempty"`
}

var (
	errMFARequired      = newError(CodeMFARequired, "a second factor is required: sign in through POST /auth/login and complete the challenge")
	errInvalidChallenge = newError(CodeInvalidGrant, "the MFA challenge is invalid, expired or already used: sign in again")
	errInvalidMFACode   = newError(CodeInvalidMFACode, "the code is wrong or was already used")
)

// mfaKey is the throttle key counting a user's wrong second-factor codes,
// across challenges and enrolment.
func mfaKey(userID string) string { return "mfa:" + userID }

// mfaMaxFailures is the number of wrong codes within the failure window
// that locks a user's second factor for the lockout time: twice the
// sign-in limit, so that one challenge ended by its own limit does not lock.
func (p Policy) mfaMaxFailures() int { return 2 * p.LoginMaxFailures }

// challenge creates the MFA challenge of a password sign-in whose password
// was right.
func (s *Service) challenge(ctx context.Context, u store.User, in PasswordLogin, f userFactors, risk RiskAssessment) (LoginResult, error) {
	now := s.clock.Now()
	sp := SessionParams{}.forClient(*in.Client)
	data, err := json.Marshal(pendingSignIn{ClientID: sp.ClientID, FirstParty: sp.FirstParty, ClientBound: sp.ClientBound,
		AMR: []string{"pwd"}, IP: in.IP, UserAgent: in.UserAgent, Risk: &risk, Browser: in.Browser,
		ReplacesBrowser: in.replacedBrowser(u)})
	if err != nil {
		return LoginResult{}, fmt.Errorf("encode pending sign-in: %w", err)
	}
	tok := token.NewOpaque()
	ch := store.MFAChallenge{
		TenantID:  u.TenantID,
		Hash:      token.HashOpaque(tok),
		UserID:    u.ID,
		Methods:   f.methods(),
		Data:      data,
		CreatedAt: now,
		ExpiresAt: now.Add(ChallengeTTL),
	}
	if err := s.store.CreateChallenge(ctx, ch); err != nil {
		return LoginResult{}, fmt.Errorf("create challenge: %w", err)
	}
	reason := risk.Reason()
	if reason == "" {
		reason = MFAAlways // no signal fired: the mode asks for it
	}
	s.audit(ctx, event(EventMFAChallenged, u.TenantID, u.ID, in.Meta,
		map[string]any{"risk_level": risk.Level, "risk_score": risk.Score, "reason": reason, "client_id": in.ClientID}))
	return LoginResult{
		User:      u,
		Risk:      &risk,
		Challenge: &Challenge{Token: tok, Methods: ch.Methods, Reason: reason, ExpiresAt: ch.ExpiresAt},
	}, nil
}

// MFAVerify completes an MFA challenge.
type MFAVerify struct {
	TenantID       string
	ChallengeToken string
	Method         string // MethodTOTP, MethodRecoveryCode or MethodWebAuthn
	Code           string // for totp and recovery_code
	// Credential is the PublicKeyCredential JSON of navigator.credentials.get(),
	// for webauthn (after BeginPasskeyMFA).
	Credential []byte
	Meta
}

// VerifyMFA completes a sign-in that answered with a challenge: with a
// current TOTP code (each code once) or an unused recovery code. Wrong codes
// are counted against the challenge (MaxChallengeAttempts end it) and
// against the user (the lockout of the sign-in throttle applies). Success
// creates the session of the pending sign-in, its amr extended by the factor.
func (s *Service) VerifyMFA(ctx context.Context, in MFAVerify) (LoginResult, error) {
	res, err := s.verifyMFA(ctx, in)
	outcome := "mfa_success"
	if err != nil {
		outcome = "mfa_" + ErrorCode(err)
	}
	s.metrics.Login(outcome)
	return res, err
}

func (s *Service) verifyMFA(ctx context.Context, in MFAVerify) (LoginResult, error) {
	switch {
	case in.ChallengeToken == "" || in.Method == "":
		return LoginResult{}, newError(CodeInvalidRequest, "challenge_token and method are required")
	case in.Method != MethodTOTP && in.Method != MethodRecoveryCode && in.Method != MethodWebAuthn:
		return LoginResult{}, newError(CodeInvalidRequest, "method must be totp, recovery_code or webauthn")
	case in.Method == MethodWebAuthn && len(in.Credential) == 0:
		return LoginResult{}, newError(CodeInvalidRequest, "credential is required for method webauthn")
	case in.Method != MethodWebAuthn && in.Code == "":
		return LoginResult{}, newError(CodeInvalidRequest, "code is required for method "+in.Method)
	case len(in.ChallengeToken) > maxOpaqueLen:
		return LoginResult{}, errInvalidChallenge
	case len(in.Code) > maxCodeLen:
		return LoginResult{}, errInvalidMFACode
	}
	now := s.clock.Now()
	hash := token.HashOpaque(in.ChallengeToken)
	ch, u, a, err := s.openChallenge(ctx, in.TenantID, hash, now)
	if err != nil {
		return LoginResult{}, err
	}
	if !slices.Contains(ch.Methods, in.Method) {
		return LoginResult{}, s.mfaFailed(ctx, u, ch, a, in, "method_not_allowed")
	}
	if in.Method == MethodWebAuthn {
		return s.verifyPasskeyMFA(ctx, in, ch, u, a)
	}
	f, err := s.loadFactors(ctx, u)
	if err != nil {
		s.release(ctx, a, now)
		return LoginResult{}, err
	}
	if f.totp == nil {
		s.release(ctx, a, now)
		return LoginResult{}, errInvalidChallenge // the factors were reset meanwhile
	}
	// The attempt being completed is counted already: the limit is one more.
	req := store.CompleteChallengeRequest{TenantID: in.TenantID, Hash: hash, Now: now, MaxAttempts: MaxChallengeAttempts + 1}
	amr := "otp"
	switch in.Method {
	case MethodTOTP:
		secret, err := s.openTOTPSecret(*f.totp)
		if err != nil {
			s.release(ctx, a, now)
			return LoginResult{}, err
		}
		step, ok := matchTOTP(secret, in.Code, now)
		if !ok {
			return LoginResult{}, s.mfaFailed(ctx, u, ch, a, in, "wrong_code")
		}
		req.TOTPStep, req.TOTPFactorID = step, f.totp.ID
	case MethodRecoveryCode:
		req.RecoveryHash = s.recoveryHash(u, in.Code)
		amr = "mfa"
	}
	done, err := s.store.CompleteChallenge(ctx, req)
	switch {
	case errors.Is(err, store.ErrConflict):
		return LoginResult{}, s.mfaFailed(ctx, u, ch, a, in, "code_already_used_or_unknown")
	case errors.Is(err, store.ErrNotFound):
		s.release(ctx, a, now)
		return LoginResult{}, errInvalidChallenge
	case err != nil:
		s.release(ctx, a, now)
		return LoginResult{}, fmt.Errorf("complete challenge: %w", err)
	}
	if err := s.succeeded(ctx, a, now); err != nil {
		s.log.Warn("mfa throttle not reset", "tenant", u.TenantID, "user", u.ID, "err", err)
	}
	return s.finishMFA(ctx, u, done, in, amr)
}

// mfaBudget is the user's second-factor budget: wrong codes across
// challenges and enrolment.
func (s *Service) mfaBudget(userID string) budget {
	return budget{key: mfaKey(userID), max: s.policy.mfaMaxFailures(), resetOnSuccess: true, scope: ScopeMFA}
}

// openChallenge returns a challenge that can still be completed, its user
// (who must be active), and the attempt reserved for the code presented:
// one place on the user's second-factor budget and one of the challenge's
// MaxChallengeAttempts, both counted before the code is checked, so that
// concurrent codes never get more checks than the limits allow.
func (s *Service) openChallenge(ctx context.Context, tenantID, hash string, now time.Time) (store.MFAChallenge, store.User, *attempt, error) {
	fail := func(err error) (store.MFAChallenge, store.User, *attempt, error) {
		return store.MFAChallenge{}, store.User{}, nil, err
	}
	_, u, err := s.peekChallenge(ctx, tenantID, hash, now)
	if err != nil {
		return fail(err)
	}
	// The challenge first: once it has no attempt left, a burst of codes is
	// told so without spending the user's budget. An attempt refused by the
	// user's budget stays counted on the challenge.
	reserved, err := s.store.ReserveChallengeAttempt(ctx, tenantID, hash, now, MaxChallengeAttempts)
	if errors.Is(err, store.ErrNotFound) {
		return fail(errInvalidChallenge) // completed or ended meanwhile
	}
	if err != nil {
		return fail(fmt.Errorf("count attempt: %w", err))
	}
	a, err := s.reserve(ctx, tenantID, now, s.mfaBudget(u.ID))
	if err != nil {
		return fail(err)
	}
	return reserved, u, a, nil
}

// peekChallenge returns a challenge that can still be completed and its
// (active) user, without counting an attempt (asking for a passkey's
// options is not a guess).
func (s *Service) peekChallenge(ctx context.Context, tenantID, hash string, now time.Time) (store.MFAChallenge, store.User, error) {
	ch, err := s.store.GetChallenge(ctx, tenantID, hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.MFAChallenge{}, store.User{}, errInvalidChallenge
	}
	if err != nil {
		return store.MFAChallenge{}, store.User{}, fmt.Errorf("get challenge: %w", err)
	}
	if !ch.UsedAt.IsZero() || !now.Before(ch.ExpiresAt) || ch.Attempts >= MaxChallengeAttempts {
		return store.MFAChallenge{}, store.User{}, errInvalidChallenge
	}
	u, err := s.store.GetUser(ctx, tenantID, ch.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.MFAChallenge{}, store.User{}, errInvalidChallenge
	}
	if err != nil {
		return store.MFAChallenge{}, store.User{}, fmt.Errorf("get user: %w", err)
	}
	if u.Status != store.StatusActive {
		return store.MFAChallenge{}, store.User{}, newError(CodeAccountDisabled, "the account is "+u.Status)
	}
	return ch, u, nil
}

// finishMFA creates the session of a completed challenge.
func (s *Service) finishMFA(ctx context.Context, u store.User, ch store.MFAChallenge, in MFAVerify, amr ...string) (LoginResult, error) {
	var p pendingSignIn
	if err := json.Unmarshal(ch.Data, &p); err != nil {
		return LoginResult{}, fmt.Errorf("decode pending sign-in: %w", err)
	}
	if err := s.store.ResetThrottle(ctx, u.TenantID, mfaKey(u.ID)); err != nil {
		s.log.WarnContext(ctx, "mfa throttle not reset", "tenant", u.TenantID, "user", u.ID, "err", err)
	}
	res, err := s.signInSession(ctx, u, p.Browser, SessionParams{ClientID: p.ClientID, FirstParty: p.FirstParty, ClientBound: p.ClientBound,
		AMR: append(p.AMR, amr...), IP: p.IP, UserAgent: p.UserAgent, ReplacesBrowser: p.ReplacesBrowser})
	if err != nil {
		return LoginResult{}, err
	}
	res.Risk = p.Risk
	s.rememberDevices(ctx, u, Meta{IP: p.IP, UserAgent: p.UserAgent})
	e := event(EventMFASucceeded, u.TenantID, u.ID, in.Meta, map[string]any{"method": in.Method})
	e.SessionID = res.Session.ID
	s.audit(ctx, e)
	if in.Method == MethodRecoveryCode {
		left, err := s.store.CountRecoveryCodes(ctx, u.TenantID, u.ID)
		if err != nil {
			left = -1
		}
		e := event(EventRecoveryCodeUsed, u.TenantID, u.ID, in.Meta, map[string]any{"remaining": left})
		e.SessionID = res.Session.ID
		s.audit(ctx, e)
	}
	s.audit(ctx, store.AuditEvent{Type: EventLoginSucceeded, TenantID: u.TenantID, UserID: u.ID, SessionID: res.Session.ID,
		IP: p.IP, UserAgent: p.UserAgent, Details: map[string]any{"method": "pwd+" + in.Method, "client_id": p.ClientID}})
	return res, nil
}

// mfaFailed concludes a wrong code: it stays counted against the challenge
// (ch is the challenge with this attempt counted) and the user's
// second-factor budget; mfa_failed is written and the answer returned.
func (s *Service) mfaFailed(ctx context.Context, u store.User, ch store.MFAChallenge, a *attempt, in MFAVerify, reason string) error {
	ended := ch.Attempts >= MaxChallengeAttempts
	details := map[string]any{"method": in.Method, "reason": reason, "attempts_left": max(MaxChallengeAttempts-ch.Attempts, 0)}
	if err := s.mfaAttemptFailed(ctx, u, a, in.Meta, details); err != nil {
		return err
	}
	if ended {
		return newError(CodeInvalidMFACode, "the code is wrong; too many wrong codes ended the challenge: sign in again")
	}
	return errInvalidMFACode
}

// mfaAttemptFailed concludes a wrong second-factor code of attempt a (the
// budget it filled is locked) and writes mfa_failed.
func (s *Service) mfaAttemptFailed(ctx context.Context, u store.User, a *attempt, m Meta, details map[string]any) error {
	locked, err := s.failed(ctx, a, s.clock.Now())
	if err != nil {
		return fmt.Errorf("record mfa failure: %w", err)
	}
	if len(locked) > 0 {
		details["locked"] = true
	}
	s.audit(ctx, event(EventMFAFailed, u.TenantID, u.ID, m, details))
	return nil
}

// secondFactorNeeded answers a password sign-in whose password was right
// but which needs a second factor: a challenge when the caller can carry
// one, else CodeMFARequired.
func (s *Service) secondFactorNeeded(ctx context.Context, u store.User, in PasswordLogin, f userFactors, risk RiskAssessment) (LoginResult, error) {
	if !in.CanChallenge {
		s.audit(ctx, event(EventLoginFailed, in.TenantID, u.ID, in.Meta, map[string]any{"reason": "mfa_required", "client_id": in.ClientID}))
		return LoginResult{}, errMFARequired
	}
	return s.challenge(ctx, u, in, f, risk)
}
