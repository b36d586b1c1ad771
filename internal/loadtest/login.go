package loadtest

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"time"
)

// prepareLogin creates the users of a login flood; its phase signs them in
// with correct passwords while one extra client keeps refreshing its own
// chain, to show whether the server still serves refreshes meanwhile.
func (r *run) prepareLogin(ctx context.Context) (*phase, error) {
	users, err := r.fx.createUsers(ctx, r.cfg.LoginUsers+1)
	if err != nil {
		return nil, err
	}
	side := &sideChain{r: r, acct: users[0]}
	first, _, err := r.c.prepLogin(ctx, side.acct, &side.buf)
	if err != nil {
		return nil, err
	}
	side.refresh = first.refresh
	flood := users[1:]

	workers := newWorkers(r.cfg.Concurrency, func(int) any { return &bytes.Buffer{} })
	p := &phase{cfg: r.cfg, workers: workers, alongside: side.start, finish: side.finish}
	p.do = func(ctx context.Context, w *worker) sample {
		buf := w.state.(*bytes.Buffer)
		a := flood[(w.id+w.n)%len(flood)]
		_, status, err := r.c.login(ctx, a, buf)
		if err != nil {
			if status == http.StatusOK {
				return sample{errKey: "200 without tokens"}
			}
			return sample{errKey: statusKey(status, err)}
		}
		return sample{}
	}
	return p, nil
}

// sideChain is the one client that refreshes, one request at a time,
// while the login flood runs.
type sideChain struct {
	r       *run
	acct    account
	refresh string
	buf     bytes.Buffer

	mu      sync.Mutex
	lat     []int64
	errs    map[string]int64
	elapsed time.Duration
}

// start runs the chain until the returned stop is called.
func (c *sideChain) start(ctx context.Context) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(ctx, quit)
	}()
	return func() { close(quit); <-done }
}

func (c *sideChain) run(ctx context.Context, quit <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.errs == nil {
		c.errs = map[string]int64{}
	}
	start := time.Now()
	defer func() { c.elapsed += time.Since(start) }()
	for {
		select {
		case <-quit:
			return
		case <-ctx.Done():
			return
		default:
		}
		t0 := time.Now()
		p, status, err := c.r.c.refresh(ctx, c.refresh, &c.buf)
		if err == nil {
			c.lat = append(c.lat, int64(time.Since(t0)))
			c.refresh = p.refresh
			continue
		}
		c.errs[statusKey(status, err)]++
		// The chain may be broken: start a new one.
		if p, _, err := c.r.c.prepLogin(ctx, c.acct, &c.buf); err == nil {
			c.refresh = p.refresh
		}
	}
}

// finish adds the chain's figures to a login result.
func (c *sideChain) finish(res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ks := KindStats{Ops: int64(len(c.lat)), Latency: latencyOf(c.lat), Errors: c.errs}
	if c.elapsed > 0 {
		ks.OpsPerSec = float64(ks.Ops) / c.elapsed.Seconds()
	}
	res.SideRefresh = &ks
}
