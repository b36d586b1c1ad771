package core

import (
	"math"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Password warnings, as LoginResponse and UserInfo name them.
const (
	PasswordExpiring     = "expiring"
	PasswordExpiredGrace = "expired_grace"
	PasswordExpired      = "expired"
)

// PasswordState is where a user's password stands in its lifecycle.
type PasswordState struct {
	MustChange bool
	// ExpiresInDays is nil when passwords never expire; negative once expired.
	ExpiresInDays *int
	Warning       string // "", expiring, expired_grace or expired
	// Restricted: tokens issued now only allow a password change.
	Restricted bool
}

// passwordState applies the expiry policy to u at now:
// within PasswordWarnBefore of expiry → expiring; expired but within
// PasswordGrace → expired_grace and must change; beyond → expired, must
// change, and tokens are restricted. An administrator's must_change_password
// behaves like expired.
func (s *Service) passwordState(u store.User, now time.Time) PasswordState {
	var st PasswordState
	p := s.policy
	if p.PasswordMaxAge > 0 && !u.PasswordChangedAt.IsZero() {
		remaining := u.PasswordChangedAt.Add(p.PasswordMaxAge).Sub(now)
		days := int(math.Floor(remaining.Hours() / 24))
		st.ExpiresInDays = &days
		switch {
		case remaining <= -p.PasswordGrace:
			st.Warning, st.MustChange, st.Restricted = PasswordExpired, true, true
		case remaining <= 0:
			st.Warning, st.MustChange = PasswordExpiredGrace, true
		case remaining <= p.PasswordWarnBefore:
			st.Warning = PasswordExpiring
		}
	}
	if u.MustChangePassword {
		st.Warning, st.MustChange, st.Restricted = PasswordExpired, true, true
	}
	return st
}
