package sdk_test

import (
	"context"
	"errors"
	"strings"
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
