package core

import (
	"context"
	"encoding/json"
	"errors"
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
	// Client is the authenticated client of the token endpoint; empty for
	// Gatehouse's own refresh paths (native, legacy). A session bound to a
	// confidential client rotates only when that client presents it; any
	// other presentation gets the invalid-grant answer and revokes nothing.
	Client string
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
		Client:       in.Client,
		SharedClient: DefaultClientID,
	})
	if err != nil {
		return LoginResult{}, "error", fmt.Errorf("rotate refresh token: %w", err)
	}
	switch res.Outcome {
	case store.Rotated:
		if res.User.Status != store.StatusActive {
			return LoginResult{}, "invalid", errInvalidGrant
		}
		if err := s.clientStillExists(ctx, res.Session, in.Meta); err != nil {
			return LoginResult{}, "invalid", err
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
		s.childrenRevoked(ctx, res.Session.ID, res.Children, ReasonRefreshReused, in.Meta)
		s.events.Wake() // the store queued the reuse event's webhooks
		s.log.WarnContext(ctx, "refresh token reuse detected; session revoked", "tenant", in.TenantID, "session", res.Session.ID, "user", res.Session.UserID)
		return LoginResult{}, "reused", errInvalidGrant
	case store.WrongClient:
		return LoginResult{}, "wrong_client", errInvalidGrant
	default:
		return LoginResult{}, "invalid", errInvalidGrant
	}
}

// clientStillExists ends a session whose client was deleted after it
// opened it: deleting a client revokes its sessions, but another process
// may still have authenticated the client from its cache (ClientCacheTTL)
// and opened one since. Such a session dies at its first rotation here.
func (s *Service) clientStillExists(ctx context.Context, sess store.Session, m Meta) error {
	if sess.ClientID == DefaultClientID {
		return nil
	}
	_, err := s.lookupClient(ctx, sess.ClientID, s.clock.Now())
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("find session client: %w", err)
	}
	if err := s.revokeSession(ctx, sess.TenantID, sess.ID, ReasonClientDeleted, m); err != nil {
		return err
	}
	return errInvalidGrant
}

// ReasonRefreshReused is recorded on the children of a session revoked for
// a refresh token reuse.
const ReasonRefreshReused = "refresh_token_reused"
