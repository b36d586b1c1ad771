package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Defaults of Options.
const (
	DefaultPoll      = time.Second
	DefaultTimeout   = 10 * time.Second
	DefaultRetryBase = 5 * time.Second
	DefaultRetryMax  = time.Hour
	DefaultMaxAge    = 24 * time.Hour
	defaultWorkers   = 8
	maxErrorLen      = 300
	maxResponseRead  = 64 << 10
)

// Store is what the dispatcher needs of the store.
type Store interface {
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error)
	CompleteOutbox(ctx context.Context, seq int64, r store.OutboxResult) error
	GetWebhook(ctx context.Context, tenantID, id string) (store.Webhook, error)
}

// Options configure a Dispatcher. Store, Sealer and Client are required.
type Options struct {
	Store  Store
	Sealer *token.Sealer // opens the endpoints' secrets
	// Client posts deliveries; it must have timeouts and should refuse
	// internal addresses (see safeurl.Client). Redirects are not followed.
	Client *http.Client
	Now    func() time.Time
	Logger *slog.Logger
	// Poll is how often the outbox is scanned when nothing wakes the
	// dispatcher (messages written by other processes, retries).
	Poll time.Duration
	// Timeout bounds one delivery; the lease of a claimed message is twice
	// that, so a process that dies mid-delivery only delays its message.
	Timeout time.Duration
	// RetryBase is the first retry delay; each further one doubles, up to
	// RetryMax, with jitter (a random delay between half and all of it).
	RetryBase time.Duration
	RetryMax  time.Duration
	// MaxAge is how long a message is retried before it is marked failed.
	MaxAge time.Duration
	// Workers bounds the deliveries in flight at once.
	Workers int
	// TracerProvider makes each delivery a span (default: none).
	TracerProvider trace.TracerProvider
}

// Dispatcher delivers outbox messages. Run it in one goroutine per process;
// any number of processes may run one on the same store.
type Dispatcher struct {
	o      Options
	wake   chan struct{}
	tracer trace.Tracer
}

// New returns a Dispatcher with the defaults filled in.
func New(o Options) (*Dispatcher, error) {
	if o.Store == nil || o.Sealer == nil || o.Client == nil {
		return nil, errors.New("events: store, sealer and client are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Poll, DefaultPoll)
	def(&o.Timeout, DefaultTimeout)
	def(&o.RetryBase, DefaultRetryBase)
	def(&o.RetryMax, DefaultRetryMax)
	def(&o.MaxAge, DefaultMaxAge)
	if o.Workers <= 0 {
		o.Workers = defaultWorkers
	}
	c := *o.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.Client = &c
	if o.TracerProvider == nil {
		o.TracerProvider = noop.NewTracerProvider()
	}
	return &Dispatcher{o: o, wake: make(chan struct{}, 1),
		tracer: o.TracerProvider.Tracer("github.com/gatehouse-auth/gatehouse/internal/events")}, nil
}

// Wake asks the dispatcher to scan the outbox now; it never blocks, so the
// request that wrote a message is never slowed by its delivery.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers messages until ctx is done: whenever woken, every Poll, and
// whenever a delivery ends (the target's next message may be due). At most
// Workers deliveries are in flight; a slow endpoint holds one worker, never
// the others' deliveries. Run returns once the deliveries in flight have
// recorded their outcome.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.o.Poll)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, d.o.Workers)
	for {
		if free := cap(slots) - len(slots); free > 0 {
			ms, err := d.o.Store.ClaimOutbox(ctx, d.o.Now(), 2*d.o.Timeout, free)
			if err != nil && ctx.Err() == nil {
				d.o.Logger.Warn("outbox scan failed", "err", err)
			}
			for _, m := range ms {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					d.deliver(ctx, m)
					<-slots
					d.Wake()
				}()
			}
			if err == nil && len(ms) == free {
				continue // there may be more due
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-t.C:
		}
	}
}

// RunOnce claims the messages due now (at most Workers), delivers them and
// returns how many it claimed, once all of them are recorded.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	ms, err := d.o.Store.ClaimOutbox(ctx, d.o.Now(), 2*d.o.Timeout, d.o.Workers)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.deliver(ctx, m)
		}()
	}
	wg.Wait()
	return len(ms), nil
}

// deliver makes one attempt and records its outcome. The outcome is
// recorded even when ctx ends meanwhile (shutdown): the attempt happened.
func (d *Dispatcher) deliver(ctx context.Context, m store.OutboxMessage) {
	ctx, span := d.tracer.Start(ctx, "outbox.deliver", trace.WithAttributes(
		attribute.String("outbox.kind", m.Kind), attribute.String("outbox.message_id", m.ID),
		attribute.String("outbox.event_type", m.EventType), attribute.Int("outbox.attempt", m.Attempts)))
	defer span.End()
	r := d.attempt(ctx, m)
	r.At = d.o.Now()
	if r.Status == "" {
		r.Status = store.OutboxPending
		delay := backoff(d.o.RetryBase, d.o.RetryMax, m.Attempts)
		r.RetryAt = r.At.Add(delay)
		if r.RetryAt.After(m.CreatedAt.Add(d.o.MaxAge)) {
			r.Status = store.OutboxFailed
		}
	}
	if len(r.Error) > maxErrorLen {
		r.Error = r.Error[:maxErrorLen]
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.o.Store.CompleteOutbox(cctx, m.Seq, r); err != nil && !errors.Is(err, store.ErrNotFound) {
		// The lease will end and the message be delivered again: at least once.
		d.o.Logger.WarnContext(ctx, "outbox result not recorded", "message", m.ID, "err", err)
		return
	}
	span.SetAttributes(attribute.String("outbox.status", r.Status))
	if r.Status != store.OutboxDelivered {
		span.SetStatus(codes.Error, r.Error)
	}
	if r.Status == store.OutboxFailed {
		d.o.Logger.WarnContext(ctx, "outbox message given up", "message", m.ID, "kind", m.Kind, "target", m.Target,
			"attempts", m.Attempts, "status", r.HTTPStatus, "err", r.Error)
	}
}

// attempt posts m once. A result without Status is a failure to retry.
func (d *Dispatcher) attempt(ctx context.Context, m store.OutboxMessage) store.OutboxResult {
	switch m.Kind {
	case store.OutboxWebhook:
		return d.webhook(ctx, m)
	default:
		return store.OutboxResult{Status: store.OutboxFailed, Error: "no deliverer for kind " + m.Kind}
	}
}

func (d *Dispatcher) webhook(ctx context.Context, m store.OutboxMessage) store.OutboxResult {
	w, err := d.o.Store.GetWebhook(ctx, m.TenantID, m.Target)
	if errors.Is(err, store.ErrNotFound) {
		return store.OutboxResult{Status: store.OutboxFailed, Error: "endpoint deleted"}
	}
	if err != nil {
		return store.OutboxResult{Error: "read endpoint: " + err.Error()}
	}
	secret, err := d.o.Sealer.Open(w.SecretEnc, SecretAAD(w.TenantID, w.ID))
	if err != nil {
		return store.OutboxResult{Status: store.OutboxFailed, Error: "endpoint secret does not open"}
	}
	key, err := ParseSecret(string(secret))
	if err != nil {
		return store.OutboxResult{Status: store.OutboxFailed, Error: "endpoint secret is malformed"}
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := NewRequest(ctx, w.URL, key, m.ID, d.o.Now(), m.Payload)
	if err != nil {
		return store.OutboxResult{Status: store.OutboxFailed, Error: err.Error()}
	}
	resp, err := d.o.Client.Do(req)
	if err != nil {
		return store.OutboxResult{Error: err.Error()}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return store.OutboxResult{Status: store.OutboxDelivered, HTTPStatus: resp.StatusCode}
	}
	return store.OutboxResult{HTTPStatus: resp.StatusCode, Error: fmt.Sprintf("endpoint answered %d", resp.StatusCode)}
}

// NewRequest builds the signed POST of one delivery.
func NewRequest(ctx context.Context, url string, key []byte, id string, at time.Time, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse-Webhooks/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(at.Unix()))
	req.Header.Set(HeaderSignature, Sign(key, id, at, body))
	return req, nil
}

// backoff is the delay before the retry that follows attempt n (1 for the
// first attempt): base·2^(n-1), capped at maxDelay, then a random point in
// its upper half so that endpoints coming back are not hit in lockstep.
func backoff(base, maxDelay time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	half := d / 2
	return half + rand.N(half+1)
}
