package sdk_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/sdk"
)

func TestFollowRevocations_RefusesRevokedSessionWithinInterval(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	// Revocations made before the verifier starts are read at once, across pages.
	f.Revoke("sid-early1", time.Now().Add(time.Hour))
	f.Revoke("sid-early2", time.Now().Add(time.Hour))
	f.Revoke("sid-early3", time.Now().Add(time.Hour))
	v := newVerifier(t, f, sdk.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tokA, tokB := f.Token(f.Claims("A")), f.Token(f.Claims("B"))
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatalf("before following: %v", err)
	}
	interval := 50 * time.Millisecond
	if err := v.FollowRevocations(ctx, sdk.RevocationOptions{ClientID: f.ClientID, ClientSecret: f.ClientSecret, Interval: interval}); err != nil {
		t.Fatalf("FollowRevocations: %v", err)
	}
	if _, err := v.Verify(ctx, f.Token(f.Claims("early3"))); !errors.Is(err, sdk.ErrSessionRevoked) {
		t.Errorf("session revoked before start: %v, want ErrSessionRevoked", err)
	}
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatalf("live session refused: %v", err)
	}
	f.Revoke("sid-A", time.Now().Add(time.Hour))
	deadline := time.Now().Add(interval + time.Second) // one interval plus a request
	for {
		_, err := v.Verify(ctx, tokA)
		if errors.Is(err, sdk.ErrSessionRevoked) && errors.Is(err, sdk.ErrInvalidToken) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked session still accepted after the interval: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := v.Verify(ctx, tokB); err != nil {
		t.Errorf("other session refused: %v", err)
	}
	if err := v.FollowRevocations(ctx, sdk.RevocationOptions{ClientID: f.ClientID, ClientSecret: f.ClientSecret, Interval: interval}); err == nil {
		t.Error("second FollowRevocations accepted")
	}
}

func TestFollowRevocations_BadCredentialsFailAtOnce(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{})
	err := v.FollowRevocations(context.Background(), sdk.RevocationOptions{ClientID: f.ClientID, ClientSecret: "wrong", Interval: time.Second})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := v.FollowRevocations(context.Background(), sdk.RevocationOptions{ClientID: f.ClientID}); err == nil {
		t.Error("no interval accepted")
	}
	// After a failed start, a correct one still works.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := v.FollowRevocations(ctx, sdk.RevocationOptions{ClientID: f.ClientID, ClientSecret: f.ClientSecret, Interval: time.Second}); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

func TestFollowRevocations_MaxStalenessFailsClosed(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 100)
	err := v.FollowRevocations(ctx, sdk.RevocationOptions{
		ClientID: f.ClientID, ClientSecret: f.ClientSecret, Interval: 20 * time.Millisecond,
		MaxStaleness: 100 * time.Millisecond, OnError: func(err error) {
			select {
			case errs <- err:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.Token(f.Claims("A"))
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	f.Down.Store(true)
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := v.Verify(ctx, tok)
		if errors.Is(err, sdk.ErrRevocationsStale) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stale feed still trusted: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "503") {
			t.Errorf("OnError got %v", err)
		}
	default:
		t.Error("OnError was not called")
	}
	f.Down.Store(false)
	deadline = time.Now().Add(3 * time.Second)
	for {
		if _, err := v.Verify(ctx, tok); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("feed back, token still refused: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFollowRevocations_StalenessBoundValidated: a staleness bound shorter
// than two intervals is refused before anything is read; zero takes the
// default, negative turns the bound off.
func TestFollowRevocations_StalenessBoundValidated(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := sdk.RevocationOptions{ClientID: f.ClientID, ClientSecret: f.ClientSecret, Interval: time.Second}
	for _, ms := range []time.Duration{time.Millisecond, time.Second, 1999 * time.Millisecond} {
		o := opts
		o.MaxStaleness = ms
		err := v.FollowRevocations(ctx, o)
		if err == nil || !strings.Contains(err.Error(), "two intervals") {
			t.Errorf("MaxStaleness %s with Interval 1s: %v, want an error", ms, err)
		}
	}
	if got := f.FeedHits.Load(); got != 0 {
		t.Errorf("feed read %d times by refused configurations", got)
	}
	for _, ms := range []time.Duration{0, -1, 2 * time.Second} {
		o := opts
		o.MaxStaleness = ms
		fctx, stop := context.WithCancel(ctx)
		if err := newVerifier(t, f, sdk.Config{}).FollowRevocations(fctx, o); err != nil {
			t.Errorf("MaxStaleness %s: %v", ms, err)
		}
		stop()
	}
}

// TestFollowRevocations_DefaultStalenessFailsClosed: without MaxStaleness,
// a feed unread for longer than DefaultMaxStaleness fails closed; with a
// negative one it fails open.
func TestFollowRevocations_DefaultStalenessFailsClosed(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	closed := newVerifier(t, f, sdk.Config{Now: clock, Leeway: -1})
	open := newVerifier(t, f, sdk.Config{Now: clock, Leeway: -1})
	opts := sdk.RevocationOptions{ClientID: f.ClientID, ClientSecret: f.ClientSecret, Interval: time.Minute}
	if err := closed.FollowRevocations(ctx, opts); err != nil {
		t.Fatal(err)
	}
	opts.MaxStaleness = -1
	if err := open.FollowRevocations(ctx, opts); err != nil {
		t.Fatal(err)
	}
	c := f.Claims("A")
	c["exp"] = now.Add(24 * time.Hour).Unix()
	tok := f.Token(c)
	mu.Lock()
	now = now.Add(sdk.DefaultMaxStaleness)
	mu.Unlock()
	if _, err := closed.Verify(ctx, tok); err != nil {
		t.Errorf("feed read exactly DefaultMaxStaleness ago: %v", err)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if _, err := closed.Verify(ctx, tok); !errors.Is(err, sdk.ErrRevocationsStale) || errors.Is(err, sdk.ErrInvalidToken) {
		t.Errorf("feed unread beyond DefaultMaxStaleness: %v, want ErrRevocationsStale", err)
	}
	if _, err := open.Verify(ctx, tok); err != nil {
		t.Errorf("negative MaxStaleness: %v, want accepted", err)
	}
}

// TestFollowRevocations_CancelledFollowerIsNotFresh: once the follower's
// context ends, Verify stops relying on the feed and fails with
// ErrRevocationsStale, even with the staleness bound off; following again
// restores it.
func TestFollowRevocations_CancelledFollowerIsNotFresh(t *testing.T) {
	f := newFakeIssuer()
	defer f.Close()
	v := newVerifier(t, f, sdk.Config{})
	opts := sdk.RevocationOptions{ClientID: f.ClientID, ClientSecret: f.ClientSecret, Interval: time.Hour, MaxStaleness: -1}
	ctx, cancel := context.WithCancel(context.Background())
	if err := v.FollowRevocations(ctx, opts); err != nil {
		t.Fatal(err)
	}
	tok := f.Token(f.Claims("A"))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, sdk.ErrRevocationsStale) {
		t.Errorf("after the follower stopped: %v, want ErrRevocationsStale", err)
	}
	again, stop := context.WithCancel(context.Background())
	defer stop()
	if err := v.FollowRevocations(again, opts); err != nil {
		t.Fatalf("following again: %v", err)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("following again: %v", err)
	}
}
