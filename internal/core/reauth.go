package core

import (
	"context"
	"errors"
	"fmt"

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
	return s.passwordFailed(ctx, u.TenantID, u.ID, p.SessionID, typ, details, m, now, pc, answer)
}
