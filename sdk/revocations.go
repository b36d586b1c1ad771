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

// RevocationOptions configure FollowRevocations.
type RevocationOptions struct {
	// ClientID and ClientSecret are the credentials of a confidential
	// Gatehouse client of the tenant whose revocations are followed (the
	// feed is tenant-scoped to the calling client).
	ClientID     string
	ClientSecret string
	// Interval is how often the feed is read: a revoked session's tokens
	// are refused at the latest Interval (plus one request) after the
	// revocation. Required.
	Interval time.Duration
	// MaxStaleness, when positive, makes Verify fail with
	// ErrRevocationsStale once the feed has not been read successfully for
	// that long (fail closed). Zero keeps accepting tokens while the feed
	// cannot be read (fail open); OnError is told of every failure.
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
	claimed  bool                 // FollowRevocations was called
	active   bool                 // the first poll succeeded: check refuses revoked sessions
	until    map[string]time.Time // session id → exp: after it, no token of the session is valid anyway
	next     int64
	lastOK   time.Time
	maxStale time.Duration
}

func newRevocationSet() *revocationSet {
	return &revocationSet{until: make(map[string]time.Time)}
}

// check refuses a revoked session, and every session when the feed is
// stale beyond MaxStaleness.
func (s *revocationSet) check(sid string, now time.Time) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.active {
		return nil
	}
	if _, ok := s.until[sid]; ok {
		return fmt.Errorf("%w: %w: session %s", ErrInvalidToken, ErrSessionRevoked, sid)
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
// after their revocation. It may be called once per Verifier.
func (v *Verifier) FollowRevocations(ctx context.Context, opts RevocationOptions) error {
	if opts.Interval <= 0 {
		return errors.New("gatehouse: follow revocations: Interval must be positive")
	}
	if opts.ClientID == "" {
		return errors.New("gatehouse: follow revocations: ClientID is required")
	}
	if opts.URL == "" {
		opts.URL = v.revocationsURL
	}
	s := v.revoked
	s.mu.Lock()
	if s.claimed {
		s.mu.Unlock()
		return errors.New("gatehouse: follow revocations: already following")
	}
	s.claimed = true
	s.mu.Unlock()
	if err := v.pollRevocations(ctx, opts); err != nil {
		s.mu.Lock()
		s.claimed = false
		s.mu.Unlock()
		return fmt.Errorf("gatehouse: follow revocations: %w", err)
	}
	s.mu.Lock()
	s.active, s.maxStale = true, opts.MaxStaleness
	s.mu.Unlock()
	go v.watchRevocations(ctx, opts)
	return nil
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
