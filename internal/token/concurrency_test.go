package token

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Sign, Verify, JWKS, ActiveKID and Algs run while keys rotate and reload;
// run with -race. Every token signed must verify: a rotation never leaves a
// window in which a freshly signed token names an unpublished key.
func TestConcurrent_SignVerifyDuringRotateAndReload(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	other := e.open(t, AlgEdDSA) // a second process on the same store
	ctx := context.Background()
	now := e.clock.Now()

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				for _, ks := range []*KeySet{e.ks, other} {
					tok, err := ks.Sign(claimsAt(now))
					if err != nil {
						report(err)
						return
					}
					// The signing key set accepts its own token at once.
					if _, err := ks.Verify(ctx, tok, now); err != nil {
						report(err)
						return
					}
					// The other may not know a key created in the last
					// second (its unknown-kid reloads are rate-limited and
					// the clock stands still), but nothing else may fail.
					v := other
					if ks == other {
						v = e.ks
					}
					if _, err := v.Verify(ctx, tok, now); err != nil && !strings.Contains(err.Error(), "is unknown") {
						report(err)
						return
					}
					if len(ks.JWKS()) == 0 || ks.ActiveKID() == "" || len(ks.Algs()) == 0 {
						report(errEmpty)
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			if err := other.Reload(ctx); err != nil {
				report(err)
				return
			}
		}
	})
	for i := range 6 {
		alg := algs[i%2] // EdDSA and ES256: RSA generation would slow the test down
		if _, err := e.ks.Rotate(ctx, alg); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(jwksKIDs(t, e.ks.JWKS())); got != 7 {
		t.Fatalf("JWKS has %d keys, want 7", got)
	}
	if err := other.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(other.JWKS(), e.ks.JWKS()) || other.ActiveKID() != e.ks.ActiveKID() {
		t.Fatal("the two key sets differ after a reload")
	}
}

var errEmpty = errors.New("empty key set view")
