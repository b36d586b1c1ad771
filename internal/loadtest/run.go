package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// run is one run against a server.
type run struct {
	cfg Config
	c   *client
	fx  *fixtures
}

// Run performs the run cfg describes and returns its figures. With
// cfg.Compare, the baseline runs first with the same concurrency and
// duration and the result carries the ratio to it.
func Run(ctx context.Context, cfg Config) (Result, error) {
	c, err := cfg.normalise()
	if err != nil {
		return Result{}, fmt.Errorf("loadtest: %w", err)
	}
	var base *Result
	if c.Compare && c.Mode != ModeBaseline {
		bc := c
		bc.Mode = ModeBaseline
		b, err := runBaseline(ctx, bc)
		if err != nil {
			return Result{}, fmt.Errorf("loadtest: baseline: %w", err)
		}
		base = &b
	}
	var res Result
	if c.Mode == ModeBaseline {
		res, err = runBaseline(ctx, c)
	} else {
		res, err = runServer(ctx, c)
	}
	if err != nil {
		return Result{}, fmt.Errorf("loadtest %s: %w", c.Mode, err)
	}
	if base != nil {
		res.Baseline = base
		if base.OpsPerSec > 0 {
			res.Ratio = res.OpsPerSec / base.OpsPerSec
		}
	}
	return res, nil
}

// runBaseline drives the bare handler of a separate process with the same
// client loop as the other modes.
func runBaseline(ctx context.Context, cfg Config) (Result, error) {
	cfg.Progress("starting the baseline process")
	p, err := startBaseline(ctx, cfg.BaselineCommand)
	if err != nil {
		return Result{}, err
	}
	defer p.stop()
	c := &client{hc: newHTTPClient(cfg.Concurrency), base: p.url}
	defer c.hc.CloseIdleConnections()
	body := jsonBody("refresh_token", strings.Repeat("x", 43))
	workers := newWorkers(cfg.Concurrency, func(int) any { return &bytes.Buffer{} })
	cfg.Progress("measuring the baseline")
	res := measure(ctx, cfg, nil, workers, func(ctx context.Context, w *worker) sample {
		status, err := c.do(ctx, request{method: "POST", path: baselinePath, ctype: "application/json", body: body}, w.state.(*bytes.Buffer))
		if err != nil || status != 200 {
			return sample{errKey: statusKey(status, err)}
		}
		return sample{}
	})
	res.Target = p.url
	return res, nil
}

// runServer prepares the fixtures of cfg.Mode on the server, measures,
// and removes the fixtures (unless cfg.KeepData).
func runServer(ctx context.Context, cfg Config) (res Result, err error) {
	c := &client{hc: newHTTPClient(cfg.Concurrency + 2), base: cfg.Target, tenant: cfg.Tenant, adminKey: cfg.AdminKey}
	defer c.hc.CloseIdleConnections()
	fx, err := newFixtures(c)
	if err != nil {
		return Result{}, err
	}
	r := &run{cfg: cfg, c: c, fx: fx}
	if !cfg.KeepData {
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if cerr := fx.cleanup(cctx); cerr != nil && err == nil {
				err = fmt.Errorf("remove the run's users and clients: %w", cerr)
			}
		}()
	}
	cfg.Progress("preparing users on %s", cfg.Target)
	var rss atomic.Int64
	sctx, stop := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { defer close(sampled); r.sampleRSS(sctx, &rss) }()
	defer func() { stop(); <-sampled; res.MaxRSSBytes = rss.Load() }()
	switch cfg.Mode {
	case ModeChain:
		return r.runChain(ctx)
	case ModeVerify:
		return r.runVerify(ctx)
	default:
		return r.runLogin(ctx)
	}
}

// sampleRSS records the largest process_resident_memory_bytes the server
// reports at /metrics, twice a second, until ctx ends.
func (r *run) sampleRSS(ctx context.Context, max *atomic.Int64) {
	var buf bytes.Buffer
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		status, err := r.c.do(ctx, request{method: "GET", path: "/metrics"}, &buf)
		if err == nil && status == 200 {
			if v, ok := metricValue(buf.Bytes(), "process_resident_memory_bytes"); ok && int64(v) > max.Load() {
				max.Store(int64(v))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// metricValue finds an unlabelled sample of the Prometheus text format.
func metricValue(body []byte, name string) (float64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}
