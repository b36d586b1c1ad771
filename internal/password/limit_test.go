package password

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// blockFirst makes the first hash of h wait, holding its slot, until the
// returned release function is called; entered is closed once it holds it.
func blockFirst(h *Hasher) (entered <-chan struct{}, release func()) {
	in := make(chan struct{})
	out := make(chan struct{})
	var once sync.Once
	h.beforeWork = func(Params) {
		first := false
		once.Do(func() { first = true })
		if first {
			close(in)
			<-out
		}
	}
	return in, func() { close(out) }
}

func TestHasher_BusyWhenSlotsTaken(t *testing.T) {
	ctx := context.Background()
	h := New(fast, 1, 20*time.Millisecond)
	encoded, err := h.Hash(ctx, "pw") // before the hook: not blocked
	if err != nil {
		t.Fatal(err)
	}
	entered, release := blockFirst(h)

	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "first")
		done <- err
	}()
	<-entered

	start := time.Now()
	if _, err := h.Hash(ctx, "second"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash while saturated: %v, want ErrBusy", err)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Errorf("gave up after %v, before maxWait", waited)
	}
	if _, _, err := h.Verify(ctx, encoded, "pw"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify while saturated: %v, want ErrBusy", err)
	}
	if err := h.VerifyDummy(ctx, "pw"); !errors.Is(err, ErrBusy) {
		t.Errorf("VerifyDummy while saturated: %v, want ErrBusy", err)
	}

	release()
	if err := <-done; err != nil {
		t.Fatalf("first Hash: %v", err)
	}
	if _, err := h.Hash(ctx, "third"); err != nil {
		t.Fatalf("Hash after the slot was freed: %v", err)
	}
}

func TestHasher_WaitsForSlotWithinMaxWait(t *testing.T) {
	ctx := context.Background()
	h := New(fast, 1, 5*time.Second)
	entered, release := blockFirst(h)
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "first")
		done <- err
	}()
	<-entered
	time.AfterFunc(20*time.Millisecond, release)
	if _, err := h.Hash(ctx, "second"); err != nil {
		t.Fatalf("second Hash should have waited for the slot: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestHasher_ContextCancelledWhileWaiting(t *testing.T) {
	h := New(fast, 1, 5*time.Second)
	entered, release := blockFirst(h)
	defer release()
	go func() { _, _ = h.Hash(context.Background(), "first") }()
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "second"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with expiring context: %v, want context.DeadlineExceeded", err)
	}
	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if _, err := New(fast, 1, 0).Hash(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with cancelled context: %v, want context.Canceled", err)
	}
}

func TestHasher_RunsAtMostMaxConcurrent(t *testing.T) {
	const limit = 3
	h := New(fast, limit, 10*time.Second)
	var running, peak atomic.Int32
	h.beforeWork = func(Params) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), "pw"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Hash: %v", err)
	}
	if p := peak.Load(); p > limit || p < 2 {
		t.Fatalf("peak concurrent hashes = %d, want between 2 and %d", p, limit)
	}
}

func TestNew_RejectsParamsItCouldNotVerify(t *testing.T) {
	for _, p := range []Params{
		{Memory: 1 << 21},
		{Iterations: 1000},
		{SaltLen: 4},
		{KeyLen: 8},
		{Memory: 8, Parallelism: 4},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", p)
				}
			}()
			New(p, 1, 0)
		}()
	}
}

func BenchmarkHash(b *testing.B) {
	h := New(Params{}, 0, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
