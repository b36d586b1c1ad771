package core

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Paging of the revocation feed.
const (
	// DefaultFeedLimit is the number of events a feed page holds at most
	// when the caller names no limit.
	DefaultFeedLimit = 500
	// MaxFeedLimit is the largest limit a caller may ask for.
	MaxFeedLimit = 1000
	// feedScanRows bounds the store rows one page reads (the store's feed
	// spans every tenant), so that one request always ends quickly.
	feedScanRows = 20000
	feedScanPage = 1000
)

// RevocationEvent is one entry of a tenant's revocation feed.
type RevocationEvent struct {
	Seq       int64
	SessionID string
	// Exp is when the last access token the session can have expires:
	// min(session expiry, revocation + access token lifetime). A verifier
	// may forget the session after it.
	Exp time.Time
}

// RevocationFeed returns the revocations of the confidential client c's
// tenant with a sequence number above since, oldest first, at most limit
// of them, and the cursor to ask for next (since for the next call).
// Revocations whose tokens have all expired are left out. The cursor may
// move past other tenants' revocations even when no event is returned.
func (s *Service) RevocationFeed(ctx context.Context, c store.Client, since int64, limit int) ([]RevocationEvent, int64, error) {
	if c.Public {
		return nil, 0, &Error{Code: CodeInvalidClient, Message: "a public client may not read the revocation feed"}
	}
	if since < 0 {
		return nil, 0, invalid("since must be a non-negative integer")
	}
	switch {
	case limit <= 0:
		limit = DefaultFeedLimit
	case limit > MaxFeedLimit:
		limit = MaxFeedLimit
	}
	now := s.clock.Now()
	events := []RevocationEvent{}
	next := since
	for scanned := 0; scanned < feedScanRows && len(events) < limit; {
		recs, err := s.store.ListRevocations(ctx, next, feedScanPage)
		if err != nil {
			return nil, 0, fmt.Errorf("list revocations: %w", err)
		}
		for _, r := range recs {
			if len(events) == limit {
				return events, next, nil
			}
			next = r.Seq
			scanned++
			if r.TenantID != c.TenantID {
				continue
			}
			exp := minTime(r.Exp, r.RevokedAt.Add(s.policy.AccessTTL))
			if now.Before(exp) {
				events = append(events, RevocationEvent{Seq: r.Seq, SessionID: r.SessionID, Exp: exp})
			}
		}
		if len(recs) < feedScanPage {
			break
		}
	}
	return events, next, nil
}
