package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Reasons recorded on revoked sessions.
const (
	ReasonLogout         = "logout"
	ReasonUser           = "user_revoked"
	ReasonAdmin          = "admin_revoked"
	ReasonPasswordChange = "password_changed"
	ReasonDisabled       = "user_disabled"
	ReasonDeleted        = "user_deleted"
	ReasonClientDeleted  = "client_deleted"
)

// Logout revokes the session of the presented access token and its
// children (the app sessions opened from it).
func (s *Service) Logout(ctx context.Context, p Principal, m Meta) error {
	sess, children, err := s.store.RevokeSession(ctx, p.TenantID, p.SessionID, s.clock.Now(), ReasonLogout)
	if err != nil {
		return storeErr(err, "session")
	}
	s.noteRevoked(sess)
	e := event(EventLogout, p.TenantID, p.Subject, m, nil)
	e.SessionID = sess.ID
	s.audit(ctx, e)
	s.childrenRevoked(ctx, sess.ID, children, ReasonLogout, m)
	return nil
}

// childrenRevoked records the child sessions revoked with their parent.
func (s *Service) childrenRevoked(ctx context.Context, parentID string, children []store.Session, reason string, m Meta) {
	s.noteRevoked(children...)
	for _, c := range children {
		s.apps.live.forget(liveKey(c.TenantID, c.ID))
		e := event(EventSessionRevoked, c.TenantID, c.UserID, m, map[string]any{"reason": reason, "parent_session": parentID})
		e.SessionID = c.ID
		s.audit(ctx, e)
	}
}

// Me returns the principal's user.
func (s *Service) Me(ctx context.Context, p Principal) (store.User, PasswordState, error) {
	u, ok := s.cachedUser(p.TenantID, p.Subject)
	if !ok {
		var err error
		if u, err = s.store.GetUser(ctx, p.TenantID, p.Subject); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return store.User{}, PasswordState{}, errUnauthorized
			}
			return store.User{}, PasswordState{}, err
		}
		s.rememberUser(u)
	}
	if u.Status != store.StatusActive {
		return store.User{}, PasswordState{}, errUnauthorized
	}
	return u, s.passwordState(u, s.clock.Now()), nil
}

// UserSessions lists the live sessions of a user.
func (s *Service) UserSessions(ctx context.Context, tenantID, userID string) ([]store.Session, error) {
	return s.store.ListUserSessions(ctx, tenantID, userID, s.clock.Now())
}

// RevokeOwnSession revokes one of the principal's own sessions. Another
// user's session is reported as not found.
func (s *Service) RevokeOwnSession(ctx context.Context, p Principal, sessionID string, m Meta) error {
	sess, err := s.store.GetSession(ctx, p.TenantID, sessionID)
	if err != nil {
		return storeErr(err, "session")
	}
	if sess.UserID != p.Subject {
		return newError(CodeNotFound, "session not found")
	}
	return s.revokeSession(ctx, p.TenantID, sessionID, ReasonUser, m)
}

// RevokeSession revokes any session of the tenant (administrators).
func (s *Service) RevokeSession(ctx context.Context, tenantID, sessionID string, m Meta) error {
	return s.revokeSession(ctx, tenantID, sessionID, ReasonAdmin, m)
}

// revokeSession revokes a session and its children.
func (s *Service) revokeSession(ctx context.Context, tenantID, sessionID, reason string, m Meta) error {
	sess, children, err := s.store.RevokeSession(ctx, tenantID, sessionID, s.clock.Now(), reason)
	if err != nil {
		return storeErr(err, "session")
	}
	s.noteRevoked(sess)
	e := event(EventSessionRevoked, tenantID, sess.UserID, m, map[string]any{"reason": reason})
	e.SessionID = sess.ID
	s.audit(ctx, e)
	s.childrenRevoked(ctx, sess.ID, children, reason, m)
	return nil
}

// RevokeUserSessions revokes every live session of a user except keep.
func (s *Service) RevokeUserSessions(ctx context.Context, tenantID, userID, keep, reason string, m Meta) (int, error) {
	revoked, err := s.store.RevokeUserSessions(ctx, tenantID, userID, keep, s.clock.Now(), reason)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	s.noteRevoked(revoked...)
	for _, sess := range revoked {
		e := event(EventSessionRevoked, tenantID, userID, m, map[string]any{"reason": reason})
		e.SessionID = sess.ID
		s.audit(ctx, e)
	}
	return len(revoked), nil
}
