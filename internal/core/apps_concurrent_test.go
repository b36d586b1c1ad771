package core

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestAppState_ConcurrentUse drives client authentication, access-token
// verification, payload changes and a destruction at once (run it with
// -race): the shared caches stay consistent and, once the destruction has
// returned, no verification succeeds.
func TestAppState_ConcurrentUse(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, secret := f.client(t, "shop")
	res := f.appLogin(t, c, f.user(t, "alice"), "p")

	var destroyed atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				after := destroyed.Load()
				cl, err := f.svc.AuthenticateClient(ctx, c.ID, secret, Meta{IP: "192.0.2.1"})
				if err != nil {
					errs <- "authenticate: " + err.Error()
					return
				}
				_, err = f.svc.AppVerifyAccess(ctx, cl, res.AccessToken)
				if after && err == nil {
					errs <- "a verification succeeded after the destruction"
					return
				}
				if g%2 == 0 && !after {
					_, _ = f.svc.AppSetPayload(ctx, cl, res.RefreshToken, "q", false, Meta{})
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := f.svc.AppDestroy(ctx, c, res.RefreshToken, Meta{}); err != nil {
			errs <- "destroy: " + err.Error()
		}
		destroyed.Store(true)
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if _, err := f.svc.AppVerifyAccess(ctx, c, res.AccessToken); ErrorCode(err) != CodeUnauthorized {
		t.Fatalf("verify after everything: %v", err)
	}
}
