package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Purposes of a re-authentication, as audit events name them.
const (
	PurposePasswordChange = "password_change"
	PurposeMFAEnroll      = "mfa_enroll"
	PurposeMFAConfirm     = "mfa_confirm"
)

var errReauthRequired = newError(CodeReauthRequired,
	"this change needs a recent sign-in: give the current password, or sign in again")

// Reauthenticate applies the rule of recent authentication to a sensitive
// change the principal asks for (a second factor, a new password): either
// pw is the user's current password, checked and throttled like a sign-in
// (a wrong one counts on the account's budget), or the session of the
// access token had its last interactive sign-in less than
// Policy.ReauthMaxAge ago. Otherwise CodeReauthRequired. purpose names the
// change in audit events.
func (s *Service) Reauthenticate(ctx context.Context, p Principal, pw string, m Meta, purpose string) error {
	u, err := s.principalUser(ctx, p)
	if err != nil {
		return err
	}
	return s.reauthenticate(ctx, p, u, pw, m, purpose)
}

func (s *Service) reauthenticate(ctx context.Context, p Principal, u store.User, pw string, m Meta, purpose string) error {
	now := s.clock.Now()
	if pw == "" {
		sess, err := s.store.GetSession(ctx, p.TenantID, p.SessionID)
		if errors.Is(err, store.ErrNotFound) {
			return errUnauthorized
		}
		if err != nil {
			return fmt.Errorf("get session: %w", err)
		}
		if age := now.Sub(sess.AuthTime); sess.AuthTime.IsZero() || age >= s.policy.ReauthMaxAge {
			return errReauthRequired
		}
		return nil
	}
	return s.checkReauthPassword(ctx, p.SessionID, u, pw, m, purpose)
}

// checkReauthPassword checks pw as the current password of u for a
// re-authentication, counted and throttled like a sign-in (a wrong one
// counts on the account's budget and is audited).
func (s *Service) checkReauthPassword(ctx context.Context, sessionID string, u store.User, pw string, m Meta, purpose string) error {
	now := s.clock.Now()
	pc, err := s.checkPassword(ctx, u.TenantID, &u, "", pw, m, now)
	if err != nil {
		return err
	}
	if pc.ok {
		return s.succeeded(ctx, pc.attempt, now)
	}
	typ, answer := EventReauthFailed, newError(CodeInvalidCredentials, "the password is wrong")
	if purpose == PurposePasswordChange {
		typ, answer = EventPasswordChangeFailed, newError(CodeInvalidCredentials, "the old password is wrong")
	}
	details := map[string]any{"reason": "bad_password", "purpose": purpose}
	return s.passwordFailed(ctx, u.TenantID, u.ID, sessionID, typ, details, m, now, pc, answer)
}

// PurposePasskeyRegister names the registration of a passkey in audit events.
const PurposePasskeyRegister = "passkey_register"

// Account is a signed-in user acting on their own account: the bearer of a
// first-party access token (see AccountOf) or a signed-in browser, whose
// adapter fills it from its own session.
type Account struct {
	TenantID  string
	UserID    string
	SessionID string
	// AuthTime is the time of the session's last interactive sign-in.
	AuthTime time.Time
	// Actor is the acting administrator of an impersonation session; empty otherwise.
	Actor string
}

// AccountOf returns the Account of an access token's bearer. Only
// first-party tokens (audience containing the issuer) act on an account.
func (s *Service) AccountOf(ctx context.Context, p Principal) (Account, error) {
	if !s.firstParty(p.Claims) {
		return Account{}, errUnauthorized
	}
	sess, err := s.store.GetSession(ctx, p.TenantID, p.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return Account{}, errUnauthorized
	}
	if err != nil {
		return Account{}, fmt.Errorf("get session: %w", err)
	}
	if !sess.Live(s.clock.Now()) || sess.UserID != p.Subject {
		return Account{}, errUnauthorized
	}
	return Account{TenantID: p.TenantID, UserID: p.Subject, SessionID: p.SessionID, AuthTime: sess.AuthTime, Actor: sess.Actor}, nil
}

// requireRecentAuth refuses a sensitive action when the account's last
// interactive sign-in is not younger than Policy.ReauthMaxAge.
func (s *Service) requireRecentAuth(a Account) error {
	if a.AuthTime.IsZero() || s.clock.Now().Sub(a.AuthTime) >= s.policy.ReauthMaxAge {
		return errReauthRequired
	}
	return nil
}

// recentOrPassword is the rule of recent authentication for an Account:
// a recent sign-in, or pw the user's current password, checked and
// throttled like a sign-in.
func (s *Service) recentOrPassword(ctx context.Context, a Account, u store.User, pw string, m Meta) error {
	if pw == "" {
		return s.requireRecentAuth(a)
	}
	return s.checkReauthPassword(ctx, a.SessionID, u, pw, m, PurposePasskeyRegister)
}
