// Package storetrace wraps a store.Store so that every call that takes a
// context is an OpenTelemetry span named store.<Method>, with the error
// recorded. The server wraps its store only when tracing is on, so an
// untraced server pays nothing.
//
// Only calls made inside a trace (a request, a webhook delivery) become
// spans: the background polls (revocation feed, outbox scan) run several
// times a second without one, and a root span for each would bury the
// traces that matter.
package storetrace

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

//go:generate go run gen.go

// Store is a traced store.Store.
type Store struct {
	next   store.Store
	tracer trace.Tracer
	kind   attribute.KeyValue
}

// Wrap returns s traced with spans of tp.
func Wrap(s store.Store, tp trace.TracerProvider) *Store {
	return &Store{next: s, tracer: tp.Tracer("github.com/gatehouse-auth/gatehouse/internal/store"),
		kind: attribute.String("db.system.name", dbSystem(s.Kind()))}
}

// Unwrap returns the traced store.
func (s *Store) Unwrap() store.Store { return s.next }

func dbSystem(kind string) string {
	if kind == "postgres" {
		return "postgresql"
	}
	return kind
}

func (s *Store) start(ctx context.Context, name string) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx) // a non-recording span: End does nothing
	}
	return s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(s.kind))
}

// end records err on the span, except the store's ordinary answers (not
// found, conflict), which are outcomes rather than failures.
func end(span trace.Span, err error) {
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

var _ store.Store = (*Store)(nil)
