package core

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// maxOpaqueLen bounds presented opaque tokens; ours are 43 characters.
const maxOpaqueLen = 256

// RefreshRequest presents a refresh token for rotation.
type RefreshRequest struct {
	TenantID     string
	RefreshToken string
	Meta
	// Details are added to the audit event of a detected reuse (e.g. the
	// legacy family's system ids).
	Details map[string]any
}

// retryData is what a rotation keeps (encrypted) so that a retry within the
// leeway answers with the same pair: the successor refresh token and the
// identity of the access token, which is re-signed from the same claims.
type retryData struct {
	Refresh string    `json:"r"`
	JTI     string    `json:"j"`
	IAT     time.Time `json:"i"`
}

// Refresh rotates a refresh token: the presented token becomes rotated and a
// new pair is returned, all in one store transaction. Presenting a rotated
// token again revokes the whole session (reuse detection), except within the
// configured leeway, where the first rotation's pair is returned again.
// Every failure is the same invalid-grant error.
func (s *Service) Refresh(ctx context.Context, in RefreshRequest) (LoginResult, error) {
	res, outcome, err := s.refresh(ctx, in)
	s.metrics.Refresh(outcome)
	return res, err
}

func (s *Service) refresh(ctx context.Context, in RefreshRequest) (LoginResult, string, error) {
	if in.RefreshToken == "" {
		return LoginResult{}, "invalid", newError(CodeInvalidRequest, "refresh_token is required")
	}
	if len(in.RefreshToken) > maxOpaqueLen {
		return LoginResult{}, "invalid", errInvalidGrant
	}
	now := s.clock.Now()
	presented := token.HashOpaque(in.RefreshToken)
	next := token.NewOpaque()
	jti := newRandomID()
	var sealed []byte
	if s.policy.ReuseLeeway > 0 {
		plain, err := json.Marshal(retryData{Refresh: next, JTI: jti, IAT: now})
		if err != nil {
			return LoginResult{}, "error", err
		}
		if sealed, err = s.sealer.Seal(plain, []byte(presented)); err != nil {
			return LoginResult{}, "error", fmt.Errorf("seal retry data: %w", err)
		}
	}
	details := map[string]any{}
	for k, v := range in.Details {
		details[k] = v
	}
	res, err := s.store.RotateRefreshToken(ctx, store.RotateRequest{
		TenantID:      in.TenantID,
		PresentedHash: presented,
		Now:           now,
		IdleTTL:       s.policy.RefreshTTL,
		Leeway:        s.policy.ReuseLeeway,
		New:           store.RefreshToken{Hash: token.HashOpaque(next), TenantID: in.TenantID, CreatedAt: now},
		RetryData:     sealed,
		ReuseAudit: store.AuditEvent{Type: EventRefreshTokenReused, TenantID: in.TenantID, Time: now,
			IP: in.IP, UserAgent: in.UserAgent, Details: details},
	})
	if err != nil {
		return LoginResult{}, "error", fmt.Errorf("rotate refresh token: %w", err)
	}
	switch res.Outcome {
	case store.Rotated:
		if res.User.Status != store.StatusActive {
			return LoginResult{}, "invalid", errInvalidGrant
		}
		out, err := s.issue(res.User, res.Session, next, jti, now)
		return out, "rotated", err
	case store.Retried:
		plain, err := s.sealer.Open(res.RetryData, []byte(presented))
		if err != nil {
			return LoginResult{}, "invalid", errInvalidGrant
		}
		var rd retryData
		if err := json.Unmarshal(plain, &rd); err != nil {
			return LoginResult{}, "invalid", errInvalidGrant
		}
		if res.User.Status != store.StatusActive {
			return LoginResult{}, "invalid", errInvalidGrant
		}
		out, err := s.issue(res.User, res.Session, rd.Refresh, rd.JTI, rd.IAT)
		return out, "retried", err
	case store.Reused:
		s.noteRevoked(res.Session)
		s.events.Wake() // the store queued the reuse event's webhooks
		s.log.WarnContext(ctx, "refresh token reuse detected; session revoked", "tenant", in.TenantID, "session", res.Session.ID, "user", res.Session.UserID)
		return LoginResult{}, "reused", errInvalidGrant
	default:
		return LoginResult{}, "invalid", errInvalidGrant
	}
}
