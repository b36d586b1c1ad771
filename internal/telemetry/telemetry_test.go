package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestEnabled(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_SERVICE_NAME": "gatehouse"}, false},
	}
	for _, c := range cases {
		if got := Enabled(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("Enabled(%v) = %v, want %v", c.env, got, c.want)
		}
	}
	tp, stop, err := Setup(context.Background(), func(string) string { return "" }, "test")
	if tp != nil || err != nil || stop(context.Background()) != nil {
		t.Errorf("Setup without variables = %v, %v", tp, err)
	}
}

func TestLogHandler_AddsTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	log.InfoContext(context.Background(), "untraced")
	if strings.Contains(buf.String(), "trace_id") {
		t.Fatalf("an untraced line has a trace id: %s", buf.String())
	}
	ctx, span := sdktrace.NewTracerProvider().Tracer("t").Start(context.Background(), "op")
	defer span.End()
	buf.Reset()
	log.InfoContext(ctx, "traced")
	sc := span.SpanContext()
	if !strings.Contains(buf.String(), `"trace_id":"`+sc.TraceID().String()+`"`) ||
		!strings.Contains(buf.String(), `"span_id":"`+sc.SpanID().String()+`"`) ||
		!strings.Contains(buf.String(), `"component":"test"`) {
		t.Fatalf("traced line: %s", buf.String())
	}
}
