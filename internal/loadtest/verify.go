package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
)

// Verification kinds, the indexes of a verify run's per-endpoint figures.
const (
	kindApp = iota
	kindMe
)

// maxTokenSources bounds the sessions a verify run opens; further tokens
// come from refreshing them.
const maxTokenSources = 16

// tokenPool is a verify run's working set of one endpoint.
type tokenPool struct {
	// bodies are the prepared requests: the form body of access/verify,
	// or the bearer token of /auth/me.
	items [][]byte
	next  atomic.Int64 // cold runs: the next unused item
}

// take returns the item a worker presents next: in a cold run each item
// once (false when none is left), in a hot run the items in turn.
func (p *tokenPool) take(cold bool, w *worker) ([]byte, bool) {
	if cold {
		i := p.next.Add(1) - 1
		if i >= int64(len(p.items)) {
			return nil, false
		}
		return p.items[i], true
	}
	return p.items[(w.id+w.n)%len(p.items)], true
}

// prepareVerify prepares a working set of access tokens; its phase verifies them
// with the app family's access/verify (client authenticated with HTTP
// Basic), GET /auth/me, or both in turn.
func (r *run) prepareVerify(ctx context.Context) (*phase, error) {
	n := r.cfg.HotSet
	if r.cfg.Cold {
		n = r.cfg.ColdTokens
	}
	useApp := r.cfg.Endpoint != EndpointMe
	useMe := r.cfg.Endpoint != EndpointApp
	if useApp && useMe && r.cfg.Cold {
		n = (n + 1) / 2 // the cold budget is shared by both endpoints
	}
	pools := make([]*tokenPool, 2)
	var ac appClient
	if useApp {
		var err error
		if ac, err = r.fx.createClient(ctx); err != nil {
			return nil, err
		}
	}
	sources, err := r.tokenSources(ctx, min(n, maxTokenSources))
	if err != nil {
		return nil, err
	}
	if useMe {
		r.cfg.Progress("preparing %d user access tokens", n)
		if pools[kindMe], err = r.userTokens(ctx, sources, n); err != nil {
			return nil, err
		}
	}
	if useApp {
		r.cfg.Progress("preparing %d app access tokens", n)
		if pools[kindApp], err = r.appTokens(ctx, ac, sources, n); err != nil {
			return nil, err
		}
	}
	kinds := []string{EndpointApp, EndpointMe}
	basic := &[2]string{ac.id, ac.secret}
	workers := newWorkers(r.cfg.Concurrency, func(int) any { return &bytes.Buffer{} })
	p := &phase{cfg: r.cfg, kinds: kinds, workers: workers}
	p.do = func(ctx context.Context, w *worker) sample {
		kind := kindApp
		switch {
		case !useApp:
			kind = kindMe
		case useMe && (w.id+w.n)%2 == 1:
			kind = kindMe
		}
		item, ok := pools[kind].take(r.cfg.Cold, w)
		if !ok {
			return sample{done: true}
		}
		buf := w.state.(*bytes.Buffer)
		if kind == kindApp {
			status, err := r.c.do(ctx, request{method: "POST", path: "/api/v1/app/token/access/verify",
				ctype: "application/x-www-form-urlencoded", body: item, basic: basic}, buf)
			if err != nil {
				return sample{errKey: "app " + statusKey(status, err), kind: kind}
			}
			if key := appKey(status, buf.Bytes()); key != "" {
				return sample{errKey: "app " + key, kind: kind}
			}
			return sample{kind: kind}
		}
		status, err := r.c.do(ctx, request{method: "GET", path: "/auth/me", bearer: string(item)}, buf)
		if err != nil || status != http.StatusOK {
			return sample{errKey: "me " + statusKey(status, err), kind: kind}
		}
		return sample{kind: kind}
	}
	return p, nil
}

// tokenSources signs in n sessions (over a few users).
func (r *run) tokenSources(ctx context.Context, n int) ([]pair, error) {
	users, err := r.fx.createUsers(ctx, min(n, 4))
	if err != nil {
		return nil, err
	}
	out := make([]pair, n)
	err = parallel(ctx, n, 8, func(ctx context.Context, i int) error {
		var buf bytes.Buffer
		p, _, err := r.c.prepLogin(ctx, users[i%len(users)], &buf)
		out[i] = p
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	return out, nil
}

// userTokens collects n distinct user access tokens: those of the
// sources, then those of refreshes of their chains.
func (r *run) userTokens(ctx context.Context, sources []pair, n int) (*tokenPool, error) {
	pool := &tokenPool{items: make([][]byte, n)}
	err := parallel(ctx, len(sources), len(sources), func(ctx context.Context, s int) error {
		var buf bytes.Buffer
		cur := sources[s]
		for i := s; i < n; i += len(sources) {
			if i >= len(sources) {
				next, _, err := r.c.refresh(ctx, cur.refresh, &buf)
				if err != nil {
					return err
				}
				cur = next
			}
			pool.items[i] = []byte(cur.access)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prepare user tokens: %w", err)
	}
	return pool, nil
}

// appTokens opens one app session per source and collects n distinct app
// access tokens from them (app refresh tokens do not rotate: each refresh
// answers a new access token of the same session).
func (r *run) appTokens(ctx context.Context, ac appClient, sources []pair, n int) (*tokenPool, error) {
	pool := &tokenPool{items: make([][]byte, n)}
	err := parallel(ctx, len(sources), len(sources), func(ctx context.Context, s int) error {
		var buf bytes.Buffer
		app, err := r.c.appLogin(ctx, ac, sources[s].access, &buf)
		if err != nil {
			return err
		}
		access := app.access
		for i := s; i < n; i += len(sources) {
			if i >= len(sources) {
				if access, err = r.c.appAccess(ctx, ac, app.refresh, &buf); err != nil {
					return err
				}
			}
			pool.items[i] = []byte(url.Values{"token": {access}}.Encode())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prepare app tokens: %w", err)
	}
	return pool, nil
}
