package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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
// cfg.Compare the baseline is measured too, with the same concurrency and
// duration, in cfg.Slices slices alternating with the mode's, and the
// result carries the ratio to it.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	c, err := cfg.normalise()
	if err != nil {
		return Result{}, fmt.Errorf("loadtest: %w", err)
	}
	var base, main *phase
	if c.Compare || c.Mode == ModeBaseline {
		bc := c
		bc.Mode = ModeBaseline
		p, stop, err := prepareBaseline(ctx, bc)
		if err != nil {
			return Result{}, fmt.Errorf("loadtest: baseline: %w", err)
		}
		defer stop()
		base = p
	}
	if c.Mode == ModeBaseline {
		main, base = base, nil
	} else {
		s, err := newServerRun(c)
		if err != nil {
			return Result{}, fmt.Errorf("loadtest: %w", err)
		}
		defer func() {
			if cerr := s.close(ctx); cerr != nil && err == nil {
				err = fmt.Errorf("loadtest: %w", cerr)
			}
			res.MaxRSSBytes = s.rss.Load()
		}()
		if main, err = s.prepare(ctx); err != nil {
			return Result{}, fmt.Errorf("loadtest %s: %w", c.Mode, err)
		}
	}

	c.Progress("measuring")
	slice := c.Duration / time.Duration(c.Slices)
	for range c.Slices {
		if base != nil {
			base.slice(ctx, slice)
		}
		main.slice(ctx, slice)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("loadtest: %w", err)
	}
	res = main.result()
	if base != nil {
		b := base.result()
		res.Baseline = &b
		if b.OpsPerSec > 0 {
			res.Ratio = res.OpsPerSec / b.OpsPerSec
		}
	}
	return res, nil
}

// prepareBaseline starts the baseline process; its phase drives the bare
// handler with the same client loop as the other modes.
func prepareBaseline(ctx context.Context, cfg Config) (*phase, func(), error) {
	cfg.Progress("starting the baseline process")
	proc, err := startBaseline(ctx, cfg.BaselineCommand)
	if err != nil {
		return nil, nil, err
	}
	c := &client{hc: newHTTPClient(cfg.Concurrency), base: proc.url}
	stop := func() {
		c.hc.CloseIdleConnections()
		proc.stop()
	}
	cfg.Target = proc.url
	body := jsonBody("refresh_token", strings.Repeat("x", 43))
	p := &phase{cfg: cfg, workers: newWorkers(cfg.Concurrency, func(int) any { return &bytes.Buffer{} })}
	p.do = func(ctx context.Context, w *worker) sample {
		status, err := c.do(ctx, request{method: "POST", path: baselinePath, ctype: "application/json", body: body}, w.state.(*bytes.Buffer))
		if err != nil || status != 200 {
			return sample{errKey: statusKey(status, err)}
		}
		return sample{}
	}
	return p, stop, nil
}

// serverRun is the part of a run that talks to the server: the fixtures
// it creates there and the sampling of the server's memory.
type serverRun struct {
	*run
	rss      atomic.Int64
	stopRSS  context.CancelFunc
	rssDone  chan struct{}
	prepared bool
}

func newServerRun(cfg Config) (*serverRun, error) {
	c := &client{hc: newHTTPClient(cfg.Concurrency + 2), base: cfg.Target, tenant: cfg.Tenant, adminKey: cfg.AdminKey}
	fx, err := newFixtures(c)
	if err != nil {
		return nil, err
	}
	return &serverRun{run: &run{cfg: cfg, c: c, fx: fx}}, nil
}

// prepare creates the mode's fixtures and starts sampling the server's
// resident memory.
func (s *serverRun) prepare(ctx context.Context) (*phase, error) {
	s.cfg.Progress("preparing users on %s", s.cfg.Target)
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stopRSS, s.rssDone = cancel, make(chan struct{})
	go func() { defer close(s.rssDone); s.sampleRSS(sctx, &s.rss) }()
	s.prepared = true
	switch s.cfg.Mode {
	case ModeChain:
		return s.prepareChain(ctx)
	case ModeVerify:
		return s.prepareVerify(ctx)
	case ModeAuthorize:
		return s.prepareAuthorize(ctx)
	default:
		return s.prepareLogin(ctx)
	}
}

// close stops the sampling and removes the run's users and clients
// (unless KeepData).
func (s *serverRun) close(ctx context.Context) error {
	if s.prepared {
		s.stopRSS()
		<-s.rssDone
	}
	defer s.c.hc.CloseIdleConnections()
	if s.cfg.KeepData {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.fx.cleanup(cctx); err != nil {
		return fmt.Errorf("remove the run's users and clients: %w", err)
	}
	return nil
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
		} else if errors.Is(err, context.Canceled) {
			return
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
