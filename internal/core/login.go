package core

import (
	"context"
	"errors"
	"fmt"
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
	// ClientID and ClientSecret name the client the session is for, as a
	// native sign-in presents them (see signInClient); none is the
	// built-in client.
	ClientID     string
	ClientSecret string
	// Client, when set, is the already authenticated client the session is
	// for (the token endpoint); ClientID and ClientSecret are then unused.
	Client *store.Client
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
	// Browser: the sign-in of the hosted pages. Success creates a browser
	// session (LoginResult.Browser) instead of a token session; the
	// password state is the caller's to enforce.
	Browser bool
	// PreviousBrowser is the live browser session the browser presented,
	// if any: a sign-in of the same user supersedes it (its sessions move
	// to the new one, so that logging out still ends them).
	PreviousBrowser store.BrowserSession
}

// replacedBrowser is the browser session a sign-in of u supersedes.
func (in PasswordLogin) replacedBrowser(u store.User) string {
	if in.PreviousBrowser.ID != "" && in.PreviousBrowser.UserID == u.ID && in.PreviousBrowser.TenantID == u.TenantID {
		return in.PreviousBrowser.ID
	}
	return ""
}

// LoginPassword signs a user in with a password. Unknown users, wrong
// passwords and locked-out accounts are indistinguishable by answer and by
// work done (a dummy hash for unknown users). Every attempt is counted
// before the password is hashed (see checkPassword).
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
	if len(in.Username) > maxCredentialLen || len(in.Password) > maxCredentialLen || hasNUL(in.Username) {
		// No account has such a name (a NUL never reaches the store).
		return LoginResult{}, errBadCreds
	}
	if hasNUL(in.ClientID) {
		return LoginResult{}, invalid("client_id is not valid")
	}
	if in.Client == nil {
		c, err := s.signInClient(ctx, in.TenantID, in.ClientID, in.ClientSecret, in.Meta)
		if err != nil {
			return LoginResult{}, err
		}
		in.Client = &c
	}
	in.ClientID = in.Client.ID
	now := s.clock.Now()
	var known *store.User
	u, err := s.store.GetUserByLogin(ctx, in.TenantID, in.Username)
	switch {
	case err == nil:
		known = &u
	case !errors.Is(err, store.ErrNotFound):
		return LoginResult{}, fmt.Errorf("find user: %w", err)
	}
	pc, err := s.checkPassword(ctx, in.TenantID, known, in.Username, in.Password, in.Meta, now)
	if err != nil {
		return LoginResult{}, err
	}
	if !pc.ok {
		if known == nil {
			return LoginResult{}, s.loginFailed(ctx, in, "", "unknown_user", now, pc)
		}
		return LoginResult{}, s.loginFailed(ctx, in, u.ID, "bad_password", now, pc)
	}
	// The password is right: whatever follows, it was not a guess.
	if err := s.succeeded(ctx, pc.attempt, now); err != nil {
		return LoginResult{}, err
	}
	if u.Status != store.StatusActive {
		s.audit(ctx, event(EventLoginFailed, in.TenantID, u.ID, in.Meta, map[string]any{"reason": "account_" + u.Status}))
		return LoginResult{}, newError(CodeAccountDisabled, "the account is "+u.Status)
	}
	f, risk, err := s.passwordRisk(ctx, u, in, now, pc)
	if err != nil {
		return LoginResult{}, err
	}
	if pc.rehash {
		u = s.upgradeHash(ctx, u, in.Password)
	}
	if risk.RequireMFA && f.has() {
		return s.secondFactorNeeded(ctx, u, in, f, risk)
	}
	if in.RefuseRestricted && s.passwordState(u, now).Restricted {
		s.audit(ctx, event(EventLoginFailed, in.TenantID, u.ID, in.Meta, map[string]any{"reason": "password_change_required", "client_id": in.ClientID}))
		return LoginResult{}, newError(CodePasswordChangeRequired, "the password must be changed first")
	}
	res, err := s.signInSession(ctx, u, in.Browser, SessionParams{AMR: []string{"pwd"}, IP: in.IP, UserAgent: in.UserAgent,
		Scope: in.Scope, Lifetime: in.Lifetime, ReplacesBrowser: in.replacedBrowser(u)}.forClient(*in.Client))
	if err != nil {
		return LoginResult{}, err
	}
	res.Risk = &risk
	s.rememberDevices(ctx, u, in.Meta)
	s.audit(ctx, store.AuditEvent{Type: EventLoginSucceeded, TenantID: u.TenantID, UserID: u.ID, SessionID: res.Session.ID,
		IP: in.IP, UserAgent: in.UserAgent, Details: map[string]any{"method": "pwd", "client_id": in.ClientID, "browser": in.Browser}})
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
		s.log.WarnContext(ctx, "password hash upgrade failed", "tenant", u.TenantID, "user", u.ID, "err", err)
		return u
	}
	return nu
}

// loginFailed concludes a wrong password of a sign-in: the failure stays
// counted (and locks a budget it filled), and the audit events are written.
func (s *Service) loginFailed(ctx context.Context, in PasswordLogin, userID, reason string, now time.Time, pc passwordCheck) error {
	details := map[string]any{"reason": reason}
	if userID == "" {
		// An unknown name is often a password typed into the wrong field:
		// record only its length.
		details["username_length"] = len(in.Username)
	}
	return s.passwordFailed(ctx, in.TenantID, userID, "", EventLoginFailed, details, in.Meta, now, pc, errBadCreds)
}

// passwordFailed concludes a wrong password: the failure stays counted,
// the budgets it filled are locked, typ is written (with login_locked for
// each lock) and answer returned.
func (s *Service) passwordFailed(ctx context.Context, tenantID, userID, sessionID, typ string, details map[string]any, m Meta, now time.Time, pc passwordCheck, answer error) error {
	locked, err := s.failed(ctx, pc.attempt, now)
	if err != nil {
		return err
	}
	e := event(typ, tenantID, userID, m, details)
	e.SessionID = sessionID
	s.audit(ctx, e)
	for _, scope := range locked {
		d := map[string]any{"scope": scope}
		if p, ok := details["purpose"]; ok {
			d["purpose"] = p
		}
		e := event(EventLoginLocked, tenantID, userID, m, d)
		e.SessionID = sessionID
		s.audit(ctx, e)
	}
	return answer
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
