package core

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Audit event types. The names are stable: operators alert on them.
const (
	EventLoginSucceeded     = "login_succeeded"
	EventLoginFailed        = "login_failed"
	EventLoginLocked        = "login_locked"
	EventRefreshTokenReused = "refresh_token_reused"
	EventSessionRevoked     = "session_revoked"
	EventLogout             = "logout"
	EventPasswordChanged    = "password_changed"
	// EventPasswordChangeFailed: a password change gave a wrong old password.
	EventPasswordChangeFailed = "password_change_failed"
	// EventReauthFailed: a wrong current password given to prove a recent
	// authentication (second-factor enrolment).
	EventReauthFailed  = "reauthentication_failed"
	EventUserCreated   = "user_created"
	EventUserUpdated   = "user_updated"
	EventUserDeleted   = "user_deleted"
	EventTenantCreated = "tenant_created"
	EventKeyRotated    = "key_rotated"
)

// Audit event types of clients and app-backend sessions.
const (
	EventClientCreated       = "client_created"
	EventClientUpdated       = "client_updated"
	EventClientDeleted       = "client_deleted"
	EventClientSecretRotated = "client_secret_rotated"
	EventClientAuthFailed    = "client_auth_failed"
	EventAppSessionCreated   = "app_session_created"
)

// Audit event types of second factors and risk.
const (
	EventMFAEnrollStarted = "mfa_enrollment_started"
	EventMFAEnrolled      = "mfa_enrolled"
	EventMFAChallenged    = "mfa_challenged"
	EventMFASucceeded     = "mfa_succeeded"
	EventMFAFailed        = "mfa_failed"
	EventRecoveryCodeUsed = "recovery_code_used"
	EventMFAReset         = "mfa_reset"
	EventLoginHighRisk    = "login_high_risk"
)

// Audit event types of passkeys.
const (
	EventPasskeyRegistered = "passkey_registered"
	EventPasskeyRenamed    = "passkey_renamed"
	EventPasskeyRemoved    = "passkey_removed"
	EventPasskeySignIn     = "passkey_signin"
	EventPasskeyFailed     = "passkey_failed"
)

// Meta describes who asked and from where; it goes into audit events and sessions.
type Meta struct {
	IP        string
	UserAgent string
	Actor     string // the administrator or service acting, when not the user
}

// audit writes an event. A failure to write is logged, not returned: the
// action it describes has already happened.
func (s *Service) audit(ctx context.Context, e store.AuditEvent) {
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	scrubAudit(&e)
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit event not written", "type", e.Type, "tenant", e.TenantID, "err", err)
		return
	}
	s.events.Wake() // the store queued the event's webhooks with it

}

func event(typ, tenantID, userID string, m Meta, details map[string]any) store.AuditEvent {
	return store.AuditEvent{
		Type:      typ,
		TenantID:  tenantID,
		UserID:    userID,
		Actor:     m.Actor,
		IP:        m.IP,
		UserAgent: m.UserAgent,
		Details:   details,
	}
}

// AuditQuery selects audit events.
type AuditQuery struct {
	TenantID string
	UserID   string
	Type     string
	Limit    int
}

// ListAudit returns a tenant's audit events, newest first.
func (s *Service) ListAudit(ctx context.Context, q AuditQuery) ([]store.AuditEvent, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Limit > 1000 {
		q.Limit = 1000
	}
	return s.store.ListAudit(ctx, q.TenantID, store.AuditFilter{UserID: q.UserID, Type: q.Type, Limit: q.Limit})
}

// RotateKeys generates a new signing key (alg "" keeps the configured one)
// and publishes it at once; new tokens use it from activeFrom, after the
// configured activation delay (at once without one). The old public key
// stays published until the tokens it signed have expired.
func (s *Service) RotateKeys(ctx context.Context, alg string, m Meta) (kid string, activeFrom time.Time, err error) {
	switch alg {
	case "", "EdDSA", "ES256", "RS256":
	default:
		return "", time.Time{}, newError(CodeInvalidRequest, "alg must be EdDSA, ES256 or RS256")
	}
	if alg == "" {
		alg = s.keys.DefaultAlg() // the audit records the alg the key has
	}
	kid, err = s.keys.Rotate(ctx, alg)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("rotate keys: %w", err)
	}
	activeFrom, _ = s.keys.SignsFrom(kid)
	s.audit(ctx, event(EventKeyRotated, DefaultTenant, "", m, map[string]any{
		"kid": kid, "alg": alg, "active_from": activeFrom.UTC().Format(time.RFC3339Nano)}))
	return kid, activeFrom, nil
}
