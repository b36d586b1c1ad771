package native

import (
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// LoginResponse is what every sign-in and refresh answers.
type LoginResponse struct {
	AccessToken        string          `json:"access_token,omitempty"`
	RefreshToken       string          `json:"refresh_token,omitempty"`
	TokenType          string          `json:"token_type,omitempty"`
	ExpiresIn          int             `json:"expires_in,omitempty"`
	User               *UserInfo       `json:"user,omitempty"`
	MustChangePassword bool            `json:"must_change_password"`
	PasswordExpiresIn  *int            `json:"password_expires_in,omitempty"`
	PasswordWarning    string          `json:"password_warning,omitempty"`
	RiskLevel          string          `json:"risk_level,omitempty"`
	RiskAssessment     *RiskAssessment `json:"risk_assessment,omitempty"`
	RequiresMFA        bool            `json:"requires_mfa,omitempty"`
	ChallengeToken     string          `json:"challenge_token,omitempty"`
	RequiredMFAMethods []string        `json:"required_mfa_methods,omitempty"`
	MFACheckReason     string          `json:"mfa_check_reason,omitempty"`
}

// RiskAssessment is the risk of a password sign-in.
type RiskAssessment struct {
	Level                 string   `json:"level"`
	Score                 int      `json:"score"`
	RequireMFA            bool     `json:"require_mfa"`
	RecommendedMFAMethods []string `json:"recommended_mfa_methods"`
}

// UserInfo is the user as the native family shows it.
type UserInfo struct {
	ID                 string `json:"id"`
	Username           string `json:"username"`
	Email              string `json:"email"`
	Phone              string `json:"phone"`
	Status             string `json:"status"`
	CreatedAt          string `json:"created_at"`
	MustChangePassword bool   `json:"must_change_password"`
	PasswordExpiresIn  *int   `json:"password_expires_in,omitempty"`
	PasswordWarning    string `json:"password_warning,omitempty"`
}

// SessionInfo is one entry of GET /auth/sessions.
type SessionInfo struct {
	ID         string   `json:"id"`
	ClientID   string   `json:"client_id"`
	AMR        []string `json:"amr"`
	IP         string   `json:"ip"`
	UserAgent  string   `json:"user_agent"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt string   `json:"last_used_at"`
	ExpiresAt  string   `json:"expires_at"`
	Current    bool     `json:"current"`
}

// NewUserInfo converts a user and their password state.
func NewUserInfo(u store.User, pw core.PasswordState) *UserInfo {
	return &UserInfo{
		ID:                 u.ID,
		Username:           u.Username,
		Email:              u.Email,
		Phone:              u.Phone,
		Status:             u.Status,
		CreatedAt:          FormatTime(u.CreatedAt),
		MustChangePassword: pw.MustChange,
		PasswordExpiresIn:  pw.ExpiresInDays,
		PasswordWarning:    pw.Warning,
	}
}

// NewLoginResponse converts the core's sign-in result.
func NewLoginResponse(r core.LoginResult) LoginResponse {
	if r.Challenge != nil {
		return challengeResponse(r)
	}
	resp := LoginResponse{
		AccessToken:        r.AccessToken,
		RefreshToken:       r.RefreshToken,
		TokenType:          "Bearer",
		ExpiresIn:          r.ExpiresIn,
		User:               NewUserInfo(r.User, r.Password),
		MustChangePassword: r.Password.MustChange,
		PasswordExpiresIn:  r.Password.ExpiresInDays,
		PasswordWarning:    r.Password.Warning,
	}
	withRisk(&resp, r.Risk)
	return resp
}

// NewSessionInfo converts a session; current marks the caller's own.
func NewSessionInfo(s store.Session, current bool) SessionInfo {
	amr := s.AMR
	if amr == nil {
		amr = []string{}
	}
	return SessionInfo{
		ID:         s.ID,
		ClientID:   s.ClientID,
		AMR:        amr,
		IP:         s.IP,
		UserAgent:  s.UserAgent,
		CreatedAt:  FormatTime(s.CreatedAt),
		LastUsedAt: FormatTime(s.LastUsedAt),
		ExpiresAt:  FormatTime(s.ExpiresAt),
		Current:    current,
	}
}

// FormatTime formats t as RFC 3339 in UTC, "" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
