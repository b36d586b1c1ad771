package admin

import (
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/native"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// User is a user as administrators see it (never the password hash).
type User struct {
	ID                 string         `json:"id"`
	TenantID           string         `json:"tenant_id"`
	Username           string         `json:"username"`
	Email              string         `json:"email"`
	Phone              string         `json:"phone"`
	DisplayName        string         `json:"display_name"`
	AvatarURL          string         `json:"avatar_url"`
	Groups             []string       `json:"groups"`
	Roles              []string       `json:"roles"`
	Attributes         map[string]any `json:"attributes"`
	Status             string         `json:"status"`
	MustChangePassword bool           `json:"must_change_password"`
	HasPassword        bool           `json:"has_password"`
	CreatedAt          string         `json:"created_at"`
	UpdatedAt          string         `json:"updated_at"`
	PasswordChangedAt  string         `json:"password_changed_at,omitempty"`
}

func newUser(u store.User) User {
	groups, roles, attrs := u.Groups, u.Roles, u.Attributes
	if groups == nil {
		groups = []string{}
	}
	if roles == nil {
		roles = []string{}
	}
	if attrs == nil {
		attrs = map[string]any{}
	}
	return User{
		ID: u.ID, TenantID: u.TenantID, Username: u.Username, Email: u.Email, Phone: u.Phone,
		DisplayName: u.DisplayName, AvatarURL: u.AvatarURL, Groups: groups, Roles: roles,
		Attributes: attrs, Status: u.Status, MustChangePassword: u.MustChangePassword,
		HasPassword: u.PasswordHash != "", CreatedAt: native.FormatTime(u.CreatedAt),
		UpdatedAt: native.FormatTime(u.UpdatedAt), PasswordChangedAt: native.FormatTime(u.PasswordChangedAt),
	}
}

// Session is a session as administrators see it.
type Session struct {
	native.SessionInfo
	UserID    string `json:"user_id"`
	Kind      string `json:"kind"`
	Actor     string `json:"actor,omitempty"`
	RevokedAt string `json:"revoked_at,omitempty"`
}

func newSession(s store.Session) Session {
	return Session{SessionInfo: native.NewSessionInfo(s, false), UserID: s.UserID, Kind: s.Kind, Actor: s.Actor,
		RevokedAt: native.FormatTime(s.RevokedAt)}
}

// AuditEvent is one audit event.
type AuditEvent struct {
	ID        string         `json:"id"`
	Time      string         `json:"time"`
	Type      string         `json:"type"`
	TenantID  string         `json:"tenant_id"`
	UserID    string         `json:"user_id"`
	SessionID string         `json:"session_id"`
	Actor     string         `json:"actor"`
	IP        string         `json:"ip"`
	UserAgent string         `json:"user_agent"`
	Details   map[string]any `json:"details"`
}

func newAuditEvent(e store.AuditEvent) AuditEvent {
	d := e.Details
	if d == nil {
		d = map[string]any{}
	}
	return AuditEvent{ID: e.ID, Time: e.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), Type: e.Type, TenantID: e.TenantID,
		UserID: e.UserID, SessionID: e.SessionID, Actor: e.Actor, IP: e.IP, UserAgent: e.UserAgent, Details: d}
}

// Tenant is a tenant.
type Tenant struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

func newTenant(t store.Tenant) Tenant {
	return Tenant{ID: t.ID, Name: t.Name, CreatedAt: native.FormatTime(t.CreatedAt)}
}
