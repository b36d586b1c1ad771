package loadtest

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// sample is what one operation reports.
type sample struct {
	// errKey is empty on success, else the error class ("401",
	// "transport", "200 code 31", ...).
	errKey string
	// kind indexes the run's kinds (the endpoint of a verify run).
	kind int
	// done means the worker has nothing left to do (a cold working set
	// is used up); no request was made.
	done bool
}

// worker is one concurrent client. Its fields are its own: no locking.
type worker struct {
	id    int
	n     int     // operations started by this worker
	lat   []int64 // latency of each successful operation, in nanoseconds
	kinds []uint8 // kind of each entry of lat
	errs  map[string]int64
	// state is the mode's per-client state.
	state any
}

// phase is a prepared measurement: its clients and their operation. It is
// measured in one or more slices (interleaved with the baseline's on a
// noisy machine) whose figures add up.
type phase struct {
	cfg     Config
	kinds   []string
	workers []*worker
	do      func(ctx context.Context, w *worker) sample
	// alongside, when set, runs next to every slice until stop is called
	// (the refreshes of a login run).
	alongside func(ctx context.Context) (stop func())
	// finish adds the mode's own figures to the result.
	finish func(*Result)

	started atomic.Int64 // operations started, against cfg.MaxRequests
	elapsed time.Duration
	over    atomic.Bool // the request bound or the working set is used up
}

// measure runs one phase of do for the whole duration.
func measure(ctx context.Context, c Config, kinds []string, workers []*worker, do func(ctx context.Context, w *worker) sample) Result {
	p := &phase{cfg: c, kinds: kinds, workers: workers, do: do}
	p.slice(ctx, c.Duration)
	return p.result()
}

// slice runs the workers for d, or until the request bound is reached,
// every worker is done or ctx ends. Operations in flight when d ends are
// completed and counted; the slice's time runs until the last of them.
func (p *phase) slice(ctx context.Context, d time.Duration) {
	if p.over.Load() || ctx.Err() != nil {
		return
	}
	var stop func()
	if p.alongside != nil {
		stop = p.alongside(ctx)
	}
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for _, w := range p.workers {
		if w.errs == nil {
			w.errs = map[string]int64{}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(end) {
				if p.cfg.MaxRequests > 0 && p.started.Add(1) > p.cfg.MaxRequests {
					p.over.Store(true)
					return
				}
				t0 := time.Now()
				s := p.do(ctx, w)
				if s.done {
					p.over.Store(true)
					return
				}
				w.n++
				if s.errKey != "" {
					w.errs[s.errKey]++
					continue
				}
				w.lat = append(w.lat, int64(time.Since(t0)))
				w.kinds = append(w.kinds, uint8(s.kind))
			}
		}()
	}
	wg.Wait()
	p.elapsed += time.Since(start)
	if stop != nil {
		stop()
	}
}

// result sums up the slices measured so far.
func (p *phase) result() Result {
	r := summarise(p.cfg, p.kinds, p.workers, p.elapsed)
	if p.finish != nil {
		p.finish(&r)
	}
	return r
}

// summarise merges the workers' samples into a Result.
func summarise(c Config, kinds []string, workers []*worker, elapsed time.Duration) Result {
	r := Result{
		Mode:        c.Mode,
		Target:      c.Target,
		Concurrency: c.Concurrency,
		Seconds:     elapsed.Seconds(),
		Errors:      map[string]int64{},
	}
	if c.Mode == ModeVerify {
		r.WorkingSet = "hot"
		if c.Cold {
			r.WorkingSet = "cold"
		}
		r.Endpoint = c.Endpoint
	}
	var all []int64
	byKind := make([][]int64, max(1, len(kinds)))
	for _, w := range workers {
		r.Requests += int64(w.n)
		all = append(all, w.lat...)
		for i, k := range w.kinds {
			byKind[k] = append(byKind[k], w.lat[i])
		}
		for k, n := range w.errs {
			r.Errors[k] += n
		}
	}
	r.Ops = int64(len(all))
	if elapsed > 0 {
		r.OpsPerSec = float64(r.Ops) / elapsed.Seconds()
	}
	r.Latency = latencyOf(all)
	if len(kinds) > 1 {
		r.ByKind = map[string]KindStats{}
		for i, name := range kinds {
			ks := KindStats{Ops: int64(len(byKind[i])), Latency: latencyOf(byKind[i])}
			if elapsed > 0 {
				ks.OpsPerSec = float64(ks.Ops) / elapsed.Seconds()
			}
			r.ByKind[name] = ks
		}
	}
	return r
}

// newWorkers returns n workers whose state is made by state(i).
func newWorkers(n int, state func(i int) any) []*worker {
	ws := make([]*worker, n)
	for i := range ws {
		ws[i] = &worker{id: i, errs: map[string]int64{}}
		if state != nil {
			ws[i].state = state(i)
		}
	}
	return ws
}
