package storetrace_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetrace"
)

func open(t *testing.T, tp *sdktrace.TracerProvider) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return storetrace.Wrap(st, tp)
}

// TestSpans: one span per call inside a trace (none outside), a child of
// the caller's, named after the method, errors recorded except the
// ordinary not-found answer.
func TestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	s := open(t, tp)
	if _, err := s.GetTenant(context.Background(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetTenant: %v", err)
	}
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("a call outside any trace made %d spans", n)
	}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	defer parent.End()
	if _, err := s.GetTenant(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetTenant: %v", err)
	}
	_ = s.Close()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
	spans := rec.Ended()
	if len(spans) != 2 || spans[0].Parent().SpanID() != parent.SpanContext().SpanID() || spans[0].Name() != "store.GetTenant" || spans[1].Name() != "store.Ping" {
		t.Fatalf("spans %v", spans)
	}
	if spans[0].Status().Code == codes.Error || spans[1].Status().Code != codes.Error {
		t.Errorf("statuses %v, %v", spans[0].Status(), spans[1].Status())
	}
}
