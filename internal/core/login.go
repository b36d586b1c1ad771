package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// maxCredentialLen bounds usernames and passwords before any work is done.
const maxCredentialLen = 1024

// PasswordLogin is a sign-in with a username (or email, or phone) and a password.
type PasswordLogin struct {
	TenantID string
	Username string
	Password string
	ClientID string
	Meta
	// CanChallenge: the caller can answer with an MFA challenge (the native
	// family). Otherwise a sign-in that needs a second factor fails with
	// CodeMFARequired.
	CanChallenge bool
	// Scope and Lifetime shape the session of an OAuth 2.0 password grant
	// (see SessionParams).
	Scope    string
	Lifetime time.Duration
	// RefuseRestricted makes a sign-in whose tokens would only allow a
	// password change fail with CodePasswordChangeRequired instead.
	RefuseRestricted bool
}

// LoginPassword signs a user in with a password. Unknown users, wrong
// passwords and locked-out usernames are indistinguishable by answer and by
// work done (a dummy hash for unknown users).
func (s *Service) LoginPassword(ctx context.Context, in PasswordLogin) (LoginResult, error) {
	res, err := s.loginPassword(ctx, in)
	outcome := loginOutcome(err)
	if err == nil && res.Challenge != nil {
		outcome = "mfa_challenge"
	}
	s.metrics.Login(outcome)
	return res, err
}

func (s *Service) loginPassword(ctx context.Context, in PasswordLogin) (LoginResult, error) {
	if in.Username == "" || in.Password == "" {
		return LoginResult{}, newError(CodeInvalidRequest, "username and password are required")
	}
	if len(in.Username) > maxCredentialLen || len(in.Password) > maxCredentialLen {
		return LoginResult{}, errBadCreds
	}
	now := s.clock.Now()
	userKey := "user:" + strings.ToLower(in.Username)
	ipKey := "ip:" + in.IP
	if err := s.checkThrottle(ctx, in.TenantID, now, userKey, ipKey); err != nil {
		return LoginResult{}, err
	}

	u, err := s.store.GetUserByLogin(ctx, in.TenantID, in.Username)
	if errors.Is(err, store.ErrNotFound) {
		if err := s.hasher.VerifyDummy(ctx, in.Password); err != nil {
			return LoginResult{}, hashErr(err)
		}
		return LoginResult{}, s.loginFailed(ctx, in, "", "unknown_user", now, userKey, ipKey)
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("find user: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, u.PasswordHash, in.Password)
	if err != nil && !errors.Is(err, password.ErrBusy) {
		// No password (a federated user) or an unreadable hash: not a match.
		if u.PasswordHash != "" {
			s.log.Warn("unreadable password hash", "tenant", u.TenantID, "user", u.ID)
		}
		ok, err = false, nil
	}
	if err != nil {
		return LoginResult{}, hashErr(err)
	}
	if !ok {
		return LoginResult{}, s.loginFailed(ctx, in, u.ID, "bad_password", now, userKey, ipKey)
	}
	if u.Status != store.StatusActive {
		s.audit(ctx, event(EventLoginFailed, in.TenantID, u.ID, in.Meta, map[string]any{"reason": "account_" + u.Status}))
		return LoginResult{}, newError(CodeAccountDisabled, "the account is "+u.Status)
	}
	f, risk, err := s.passwordRisk(ctx, u, in, now, userKey, ipKey)
	if err != nil {
		return LoginResult{}, err
	}
	if err := s.store.ResetThrottle(ctx, in.TenantID, userKey); err != nil {
		return LoginResult{}, fmt.Errorf("reset throttle: %w", err)
	}
	if rehash {
		u = s.upgradeHash(ctx, u, in.Password)
	}
	if risk.RequireMFA && f.has() {
		return s.secondFactorNeeded(ctx, u, in, f, risk)
	}
	if in.RefuseRestricted && s.passwordState(u, now).Restricted {
		s.audit(ctx, event(EventLoginFailed, in.TenantID, u.ID, in.Meta, map[string]any{"reason": "password_change_required", "client_id": in.ClientID}))
		return LoginResult{}, newError(CodePasswordChangeRequired, "the password must be changed first")
	}
	res, err := s.startSession(ctx, u, SessionParams{ClientID: in.ClientID, AMR: []string{"pwd"}, IP: in.IP, UserAgent: in.UserAgent,
		Scope: in.Scope, Lifetime: in.Lifetime})
	if err != nil {
		return LoginResult{}, err
	}
	res.Risk = &risk
	s.rememberDevices(ctx, u, in.Meta)
	s.audit(ctx, store.AuditEvent{Type: EventLoginSucceeded, TenantID: u.TenantID, UserID: u.ID, SessionID: res.Session.ID,
		IP: in.IP, UserAgent: in.UserAgent, Details: map[string]any{"method": "pwd", "client_id": in.ClientID}})
	return res, nil
}

// upgradeHash re-hashes an imported (bcrypt) or outdated password hash with
// the current argon2id parameters. Failure only costs the upgrade.
func (s *Service) upgradeHash(ctx context.Context, u store.User, pw string) store.User {
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return u
	}
	nu, err := s.store.UpdateUser(ctx, u.TenantID, u.ID, func(x *store.User) error {
		x.PasswordHash = h
		return nil
	})
	if err != nil {
		s.log.Warn("password hash upgrade failed", "tenant", u.TenantID, "user", u.ID, "err", err)
		return u
	}
	return nu
}

// checkThrottle refuses the attempt while the username or the client IP is locked out.
func (s *Service) checkThrottle(ctx context.Context, tenantID string, now time.Time, keys ...string) error {
	for _, k := range keys {
		th, err := s.store.GetThrottle(ctx, tenantID, k)
		if err != nil {
			return fmt.Errorf("read throttle: %w", err)
		}
		if now.Before(th.LockedUntil) {
			return &Error{Code: CodeTooManyAttempts, Message: "too many failed attempts; try again later", RetryAfter: th.LockedUntil.Sub(now)}
		}
	}
	return nil
}

// loginFailed counts the failure against the username and the client IP,
// writes the audit events and returns the answer for a failed login.
func (s *Service) loginFailed(ctx context.Context, in PasswordLogin, userID, reason string, now time.Time, userKey, ipKey string) error {
	p := s.policy
	uth, err := s.store.RecordFailure(ctx, in.TenantID, userKey, now, p.LoginMaxFailures, p.failureWindow(), p.LoginLockout)
	if err != nil {
		return fmt.Errorf("record failure: %w", err)
	}
	ith, err := s.store.RecordFailure(ctx, in.TenantID, ipKey, now, p.IPMaxFailures, p.failureWindow(), p.LoginLockout)
	if err != nil {
		return fmt.Errorf("record failure: %w", err)
	}
	details := map[string]any{"reason": reason}
	if userID == "" {
		// An unknown name is often a password typed into the wrong field:
		// record only its length.
		details["username_length"] = len(in.Username)
	}
	s.audit(ctx, event(EventLoginFailed, in.TenantID, userID, in.Meta, details))
	if now.Before(uth.LockedUntil) || now.Before(ith.LockedUntil) {
		scope := "username"
		if now.Before(ith.LockedUntil) {
			scope = "ip"
		}
		s.audit(ctx, event(EventLoginLocked, in.TenantID, userID, in.Meta, map[string]any{"scope": scope}))
	}
	return errBadCreds
}

func hashErr(err error) error {
	if errors.Is(err, password.ErrBusy) {
		return &Error{Code: CodeUnavailable, Message: "too many sign-ins at once; try again shortly", RetryAfter: time.Second, Err: err}
	}
	return fmt.Errorf("password hash: %w", err)
}

func loginOutcome(err error) string {
	if err == nil {
		return "success"
	}
	return ErrorCode(err)
}
