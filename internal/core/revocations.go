package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// revocations is the in-memory set of revoked session ids, so that access
// token verification stays memory-only and still refuses a revoked session's
// tokens. Revocations made by this process enter it at once; those made by
// other processes arrive through the store's revocation feed (SyncRevocations).
type revocations struct {
	mu      sync.RWMutex
	until   map[string]time.Time // session id → when its last access token expires
	lastSeq int64
}

func newRevocations() *revocations {
	return &revocations{until: make(map[string]time.Time)}
}

func (r *revocations) add(sid string, until time.Time) {
	r.mu.Lock()
	if cur, ok := r.until[sid]; !ok || until.After(cur) {
		r.until[sid] = until
	}
	r.mu.Unlock()
}

func (r *revocations) has(sid string) bool {
	r.mu.RLock()
	_, ok := r.until[sid]
	r.mu.RUnlock()
	return ok
}

// prune forgets sessions whose access tokens have all expired at now.
func (r *revocations) prune(now time.Time) {
	r.mu.Lock()
	for sid, until := range r.until {
		if now.After(until) {
			delete(r.until, sid)
		}
	}
	r.mu.Unlock()
}

// revokedUntil is how long a session revoked at revokedAt must stay in the
// set: until every access token it could have been issued has expired.
func (s *Service) revokedUntil(revokedAt, sessionExp time.Time) time.Time {
	until := revokedAt.Add(s.policy.AccessTTL + time.Minute)
	if !sessionExp.IsZero() && sessionExp.Before(until) {
		return sessionExp
	}
	return until
}

// noteRevoked records sessions revoked by this process.
func (s *Service) noteRevoked(sessions ...store.Session) {
	now := s.clock.Now()
	for _, sess := range sessions {
		s.revoked.add(sess.ID, s.revokedUntil(now, sess.ExpiresAt))
	}
}

// SyncRevocations reads the revocation feed from where it stopped last time.
func (s *Service) SyncRevocations(ctx context.Context) error {
	const page = 1000
	for {
		s.revoked.mu.RLock()
		after := s.revoked.lastSeq
		s.revoked.mu.RUnlock()
		recs, err := s.store.ListRevocations(ctx, after, page)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		for _, rec := range recs {
			until := s.revokedUntil(rec.RevokedAt, rec.Exp)
			if now.Before(until) {
				s.revoked.add(rec.SessionID, until)
			}
		}
		if len(recs) > 0 {
			s.revoked.mu.Lock()
			if last := recs[len(recs)-1].Seq; last > s.revoked.lastSeq {
				s.revoked.lastSeq = last
			}
			s.revoked.mu.Unlock()
		}
		if len(recs) < page {
			return nil
		}
	}
}

// WatchRevocations polls the revocation feed every interval until ctx ends,
// so that revocations made by other processes sharing the database are
// honoured within interval. It also prunes expired entries.
func (s *Service) WatchRevocations(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	lastPrune := s.clock.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.SyncRevocations(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("revocation feed poll failed", "err", err)
		}
		if now := s.clock.Now(); now.Sub(lastPrune) > time.Minute {
			s.revoked.prune(now)
			lastPrune = now
		}
	}
}

// Sweep deletes expired tokens and sessions and clears leeway retry data
// that can no longer be used.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.clock.Now()
	if err := s.store.SweepMFA(ctx, now, now.Add(-time.Hour)); err != nil {
		return fmt.Errorf("sweep mfa: %w", err)
	}
	return s.store.Sweep(ctx, now, now.Add(-s.policy.ReuseLeeway))
}
