package sdk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// maxFeedPages bounds the pages one poll reads, so that a poll always ends.
const maxFeedPages = 100

// DefaultMaxStaleness is how long Verify keeps trusting a revocation feed
// it cannot read before it fails closed with ErrRevocationsStale, when
// RevocationOptions.MaxStaleness is zero (and Interval is at most half of
// it; a longer Interval raises the default to two intervals).
const DefaultMaxStaleness = 5 * time.Minute

// RevocationOptions configure FollowRevocations.
type RevocationOptions struct {
	// ClientID and ClientSecret are the credentials of a confidential
	// Gatehouse client of the tenant whose revocations are followed (the
	// feed is tenant-scoped to the calling client).
	ClientID     string
	ClientSecret string
	// Interval is how often the feed is read: while the feed answers, a
	// revoked session's tokens are refused at the latest Interval (plus one
	// request) after the revocation. Required.
	Interval time.Duration
	// MaxStaleness bounds how long Verify trusts the feed while it cannot
	// be read: once the last successful read is older than MaxStaleness,
	// Verify fails with ErrRevocationsStale (fail closed; the middleware
	// answers 503) until a read succeeds again. So a revocation is honoured
	// within Interval while the feed answers, and no token is accepted more
	// than MaxStaleness after the last read that could have reported it.
	// Zero means DefaultMaxStaleness (5 minutes, or two intervals when
	// Interval is longer than 2.5 minutes). A positive value must be at
	// least two intervals, so that one failed read does not fail closed. A
	// negative value turns the bound off: tokens keep being accepted while
	// the feed is unreachable (fail open), and only OnError is told.
	MaxStaleness time.Duration
	// OnError receives the errors of background polls (default: ignored).
	OnError func(error)
	// URL overrides the feed's address (default: discovery's
	// revocation_feed_endpoint, else Issuer + "/oauth2/revocations").
	URL string
}

// feedPage is one answer of GET /oauth2/revocations.
type feedPage struct {
	Events []struct {
		Seq int64  `json:"seq"`
		SID string `json:"sid"`
		Exp int64  `json:"exp"`
	} `json:"events"`
	Next int64 `json:"next"`
}

// revocationSet is the set of revoked sessions read from the feed.
type revocationSet struct {
	mu       sync.RWMutex
	starting bool                 // a FollowRevocations is reading the feed for the first time
	active   bool                 // a first poll succeeded: check refuses revoked sessions
	follow   context.Context      // the running follower's context: once it ends, nothing is fresh
	until    map[string]time.Time // session id → exp: after it, no token of the session is valid anyway
	next     int64
	lastOK   time.Time
	maxStale time.Duration // 0: no bound
}

func newRevocationSet() *revocationSet {
	return &revocationSet{until: make(map[string]time.Time)}
}

// check refuses a revoked session, and every session when the feed is
// stale beyond MaxStaleness or no longer followed.
func (s *revocationSet) check(sid string, now time.Time) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.active {
		return nil
	}
	if _, ok := s.until[sid]; ok {
		return fmt.Errorf("%w: %w: session %s", ErrInvalidToken, ErrSessionRevoked, sid)
	}
	if s.follow.Err() != nil {
		// The follower was stopped: no read will come, so the set can no
		// longer honour the bound the Verifier was made to promise.
		return fmt.Errorf("%w: the feed is no longer followed", ErrRevocationsStale)
	}
	if s.maxStale > 0 && now.Sub(s.lastOK) > s.maxStale {
		return fmt.Errorf("%w: last read %s ago", ErrRevocationsStale, now.Sub(s.lastOK).Round(time.Second))
	}
	return nil
}

// FollowRevocations makes the Verifier revocation-aware: it reads the
// revocation feed once now (returning its error, e.g. for wrong client
// credentials) and then every opts.Interval until ctx ends. From then on
// Verify refuses the tokens of revoked sessions, at the latest one Interval
// after their revocation while the feed answers, and fails closed with
// ErrRevocationsStale once the feed has not been read for MaxStaleness.
//
// Once ctx ends, the Verifier stops claiming to know the revocations:
// Verify fails with ErrRevocationsStale until FollowRevocations is called
// again. So give it a context that lives as long as the service verifies
// tokens (cancel it after the HTTP server has shut down, not before).
// Only one follower runs at a time.
func (v *Verifier) FollowRevocations(ctx context.Context, opts RevocationOptions) error {
	if opts.Interval <= 0 {
		return errors.New("gatehouse: follow revocations: Interval must be positive")
	}
	if opts.ClientID == "" {
		return errors.New("gatehouse: follow revocations: ClientID is required")
	}
	maxStale, err := staleness(opts)
	if err != nil {
		return err
	}
	if opts.URL == "" {
		opts.URL = v.revocationsURL
	}
	s := v.revoked
	s.mu.Lock()
	if s.starting || (s.follow != nil && s.follow.Err() == nil) {
		s.mu.Unlock()
		return errors.New("gatehouse: follow revocations: already following")
	}
	s.starting = true
	s.mu.Unlock()
	err = v.pollRevocations(ctx, opts)
	s.mu.Lock()
	s.starting = false
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("gatehouse: follow revocations: %w", err)
	}
	s.active, s.maxStale, s.follow = true, maxStale, ctx
	s.mu.Unlock()
	go v.watchRevocations(ctx, opts)
	return nil
}

// staleness returns the staleness bound opts ask for (0: none) or why it
// is refused.
func staleness(opts RevocationOptions) (time.Duration, error) {
	switch {
	case opts.MaxStaleness < 0:
		return 0, nil
	case opts.MaxStaleness == 0:
		return max(DefaultMaxStaleness, 2*opts.Interval), nil
	case opts.MaxStaleness < 2*opts.Interval:
		return 0, fmt.Errorf("gatehouse: follow revocations: MaxStaleness %s is shorter than two intervals (%s): one failed read would fail closed; make it at least %s, or negative to turn it off",
			opts.MaxStaleness, 2*opts.Interval, 2*opts.Interval)
	}
	return opts.MaxStaleness, nil
}

// watchRevocations polls until ctx ends.
func (v *Verifier) watchRevocations(ctx context.Context, opts RevocationOptions) {
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := v.pollRevocations(ctx, opts); err != nil && ctx.Err() == nil && opts.OnError != nil {
			opts.OnError(fmt.Errorf("gatehouse: revocation feed: %w", err))
		}
	}
}

// pollRevocations reads the feed from where the last poll stopped until it
// is exhausted, then forgets sessions whose tokens have all expired.
func (v *Verifier) pollRevocations(ctx context.Context, opts RevocationOptions) error {
	s := v.revoked
	auth := func(r *http.Request) {
		r.SetBasicAuth(url.QueryEscape(opts.ClientID), url.QueryEscape(opts.ClientSecret))
	}
	for range maxFeedPages {
		s.mu.RLock()
		since := s.next
		s.mu.RUnlock()
		u, err := url.Parse(opts.URL)
		if err != nil {
			return fmt.Errorf("feed URL: %w", err)
		}
		q := u.Query()
		q.Set("since", strconv.FormatInt(since, 10))
		u.RawQuery = q.Encode()
		var page feedPage
		if err := fetchJSON(ctx, v.cfg.HTTPClient, u.String(), auth, &page); err != nil {
			return err
		}
		s.mu.Lock()
		for _, e := range page.Events {
			s.until[e.SID] = time.Unix(e.Exp, 0)
		}
		if page.Next > s.next {
			s.next = page.Next
		}
		s.mu.Unlock()
		if len(page.Events) == 0 || page.Next <= since {
			break
		}
	}
	now := v.cfg.Now()
	s.mu.Lock()
	s.lastOK = now
	for sid, exp := range s.until {
		if now.After(exp.Add(v.cfg.Leeway)) {
			delete(s.until, sid)
		}
	}
	s.mu.Unlock()
	return nil
}
