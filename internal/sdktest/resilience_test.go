package sdktest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/sdk"
)

// rotate rotates the live server's signing key and returns the new kid.
func (l *live) rotate(t *testing.T) string {
	t.Helper()
	r := l.env.Admin("POST", "/admin/keys/rotate", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	kid, _ := r.JSON(t)["kid"].(string)
	return kid
}

// TestLive_TwoRotationsWithinASecond: with the default configuration, two
// rotations less than a second apart, each followed at once by a token of
// the new key: every token verifies at its first try (Verify waits for the
// next allowed fetch instead of calling the new kid unknown).
func TestLive_TwoRotationsWithinASecond(t *testing.T) {
	l := newLive(t, nil)
	v := l.verifier(t, sdk.Config{})
	ctx := context.Background()
	first := l.env.Login("", "alice", password)
	if _, err := v.Verify(ctx, first.AccessToken); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	tokens := []string{first.AccessToken}
	for range 2 {
		kid := l.rotate(t)
		fresh := l.env.Login("", "alice", password)
		if got := headerOf(t, fresh.AccessToken)["kid"]; got != kid {
			t.Fatalf("new token signed by %v, rotated to %s", got, kid)
		}
		if _, err := v.Verify(ctx, fresh.AccessToken); err != nil {
			t.Fatalf("token of the key rotated in %s after the first fetch: %v", time.Since(began).Round(time.Millisecond), err)
		}
		tokens = append(tokens, fresh.AccessToken)
	}
	for i, tok := range tokens {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("token %d after both rotations: %v", i, err)
		}
	}
}

// TestLive_OutageIsKeysUnavailable: with Gatehouse stopped, a token of a
// key the verifier has not seen is ErrKeysUnavailable on every try (the
// middleware answers 503), never invalid; a token of a known key keeps
// verifying offline.
func TestLive_OutageIsKeysUnavailable(t *testing.T) {
	l := newLive(t, nil)
	v := l.verifier(t, sdk.Config{KeyRefetchInterval: 10 * time.Millisecond})
	ctx := context.Background()
	known := l.env.Login("", "alice", password)
	if _, err := v.Verify(ctx, known.AccessToken); err != nil {
		t.Fatal(err)
	}
	l.rotate(t)
	unseen := l.env.Login("", "alice", password)
	l.env.HTTP.Close() // Gatehouse stops answering

	api := httptest.NewServer(v.Require()(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
	defer api.Close()
	for i := range 20 {
		_, err := v.Verify(ctx, unseen.AccessToken)
		if !errors.Is(err, sdk.ErrKeysUnavailable) || errors.Is(err, sdk.ErrInvalidToken) {
			t.Fatalf("try %d: %v, want ErrKeysUnavailable only", i, err)
		}
		if _, err := v.Verify(ctx, known.AccessToken); err != nil {
			t.Fatalf("try %d, known key: %v", i, err)
		}
		req, _ := http.NewRequest("GET", api.URL, nil)
		req.Header.Set("Authorization", "Bearer "+unseen.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("try %d: middleware answered %d, want 503", i, resp.StatusCode)
		}
		time.Sleep(5 * time.Millisecond) // some tries start a new fetch, some meet the last one
	}
}

// TestLive_StaleFeedRefusedAfterMaxStaleness: with Gatehouse stopped, the
// revocation feed goes unread; with the default configuration tokens are
// accepted until DefaultMaxStaleness has passed since the last read, then
// refused with ErrRevocationsStale.
func TestLive_StaleFeedRefusedAfterMaxStaleness(t *testing.T) {
	l := newLive(t, nil)
	v := l.verifier(t, sdk.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tk := l.env.Login("", "alice", password)
	if _, err := v.Verify(ctx, tk.AccessToken); err != nil {
		t.Fatal(err)
	}
	const interval, maxStale = 20 * time.Millisecond, sdk.DefaultMaxStaleness
	errs := make(chan error, 1)
	err := v.FollowRevocations(ctx, sdk.RevocationOptions{ClientID: l.client.ID, ClientSecret: l.client.Secret,
		Interval: interval, OnError: func(err error) {
			select {
			case errs <- err:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	l.env.HTTP.Close()
	select { // a read failed: the last successful one happened before the clock moves
	case <-errs:
	case <-time.After(5 * time.Second):
		t.Fatal("no read of the feed failed with Gatehouse stopped")
	}
	l.env.Clock.Advance(maxStale)
	if _, err := v.Verify(ctx, tk.AccessToken); err != nil {
		t.Errorf("feed unread for exactly MaxStaleness: %v", err)
	}
	l.env.Clock.Advance(time.Second)
	if _, err := v.Verify(ctx, tk.AccessToken); !errors.Is(err, sdk.ErrRevocationsStale) || errors.Is(err, sdk.ErrInvalidToken) {
		t.Errorf("feed unread beyond MaxStaleness: %v, want ErrRevocationsStale", err)
	}
}

// TestLive_ShortLivedTokenRefusedAtExpPlusLeeway: a 5-second access token
// is accepted until its exp plus the default leeway, and refused from then
// on; with no leeway, from its exp.
func TestLive_ShortLivedTokenRefusedAtExpPlusLeeway(t *testing.T) {
	l := newLive(t, map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "5s"})
	v := l.verifier(t, sdk.Config{})
	strict := l.verifier(t, sdk.Config{Leeway: -1})
	ctx := context.Background()
	tk := l.env.Login("", "alice", password)
	c, err := v.Verify(ctx, tk.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if ttl := c.ExpiresAt.Sub(c.IssuedAt); ttl != 5*time.Second {
		t.Fatalf("token lifetime %s, want 5s", ttl)
	}
	l.env.Clock.Advance(c.ExpiresAt.Sub(l.env.Clock.Now()) - time.Millisecond) // just before exp
	if _, err := strict.Verify(ctx, tk.AccessToken); err != nil {
		t.Errorf("just before exp, no leeway: %v", err)
	}
	l.env.Clock.Advance(time.Millisecond) // exp
	if _, err := strict.Verify(ctx, tk.AccessToken); !errors.Is(err, sdk.ErrTokenExpired) {
		t.Errorf("at exp, no leeway: %v, want ErrTokenExpired", err)
	}
	l.env.Clock.Advance(sdk.DefaultLeeway - time.Millisecond) // just before exp + leeway
	if _, err := v.Verify(ctx, tk.AccessToken); err != nil {
		t.Errorf("just before exp + leeway: %v", err)
	}
	l.env.Clock.Advance(time.Millisecond) // exp + leeway
	if _, err := v.Verify(ctx, tk.AccessToken); !errors.Is(err, sdk.ErrTokenExpired) {
		t.Errorf("at exp + leeway (%s): %v, want ErrTokenExpired", sdk.DefaultLeeway, err)
	}
}
