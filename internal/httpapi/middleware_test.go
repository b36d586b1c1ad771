package httpapi_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/telemetry"
)

// TestObserve_ErrorLogCarriesTraceID: an error logged by WriteError, which
// gets only the ResponseWriter, carries the trace id of the request, as
// does the request's access log line.
func TestObserve_ErrorLogCarriesTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, nil)))
	h := httpapi.Observe(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpapi.WriteError(w, log, errors.New("disk on fire"))
	}), nil, log)
	ctx, span := sdktrace.NewTracerProvider().Tracer("t").Start(t.Context(), "request")
	defer span.End()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil).WithContext(ctx))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	id := `"trace_id":"` + span.SpanContext().TraceID().String() + `"`
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log lines: %s", buf.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, id) {
			t.Errorf("log line without the trace id: %s", l)
		}
	}
}
