package loadtest

import (
	"bytes"
	"context"
	"net/http"
	"time"
)

// runLogin floods POST /auth/login with correct passwords of a few users
// while one extra client keeps refreshing its own chain, to show whether
// the server still serves refreshes meanwhile.
func (r *run) runLogin(ctx context.Context) (Result, error) {
	users, err := r.fx.createUsers(ctx, r.cfg.LoginUsers+1)
	if err != nil {
		return Result{}, err
	}
	side, flood := users[0], users[1:]
	var sideBuf bytes.Buffer
	first, _, err := r.c.prepLogin(ctx, side, &sideBuf)
	if err != nil {
		return Result{}, err
	}

	stop := make(chan struct{})
	sideDone := make(chan KindStats, 1)
	go func() { sideDone <- r.sideRefresh(ctx, side, first.refresh, stop) }()

	workers := newWorkers(r.cfg.Concurrency, func(int) any { return &bytes.Buffer{} })
	r.cfg.Progress("measuring")
	res := measure(ctx, r.cfg, nil, workers, func(ctx context.Context, w *worker) sample {
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
	})
	close(stop)
	s := <-sideDone
	res.SideRefresh = &s
	return res, nil
}

// sideRefresh refreshes one chain, one request at a time, until stop.
func (r *run) sideRefresh(ctx context.Context, a account, refresh string, stop <-chan struct{}) KindStats {
	var buf bytes.Buffer
	var lat []int64
	errs := map[string]int64{}
	start := time.Now()
	for {
		select {
		case <-stop:
			ks := KindStats{Ops: int64(len(lat)), Latency: latencyOf(lat), Errors: errs}
			ks.OpsPerSec = float64(ks.Ops) / time.Since(start).Seconds()
			return ks
		case <-ctx.Done():
			return KindStats{Ops: int64(len(lat)), Latency: latencyOf(lat), Errors: errs}
		default:
		}
		t0 := time.Now()
		p, status, err := r.c.refresh(ctx, refresh, &buf)
		if err == nil {
			lat = append(lat, int64(time.Since(t0)))
			refresh = p.refresh
			continue
		}
		errs[statusKey(status, err)]++
		// The chain may be broken: start a new one.
		if p, _, err := r.c.prepLogin(ctx, a, &buf); err == nil {
			refresh = p.refresh
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
}
