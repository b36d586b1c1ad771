package postgres_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gatehouse-auth/gatehouse/internal/store/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

// TestTracer_SpanPerStatement: with a tracer provider every statement is a
// client span in the caller's trace, with its (parameterised) text and
// never its arguments.
func TestTracer_SpanPerStatement(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	_, _ = s.GetTenant(ctx, "secret-looking-argument")
	parent.End()
	var found bool
	for _, sp := range rec.Ended() {
		if sp.Name() != "postgres.query" || sp.Parent().SpanID() != parent.SpanContext().SpanID() {
			continue
		}
		for _, a := range sp.Attributes() {
			if a.Key == attribute.Key("db.query.text") {
				found = strings.Contains(a.Value.AsString(), "tenants")
				if strings.Contains(a.Value.AsString(), "secret-looking-argument") {
					t.Fatal("a query argument was recorded")
				}
			}
		}
	}
	if !found {
		t.Fatalf("no postgres.query span under the request: %v", rec.Ended())
	}
}
