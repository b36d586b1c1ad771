package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// statusWriter records the status code a handler wrote, and carries the
// request's context to the error writers, whose log lines then carry the
// request's trace id (see RequestContext).
type statusWriter struct {
	http.ResponseWriter
	status int
	ctx    context.Context
}

// RequestContext returns the context of the request w answers when w comes
// from Observe (possibly wrapped), else context.Background(). Error writers
// that get only the ResponseWriter log with it.
func RequestContext(w http.ResponseWriter) context.Context {
	for {
		switch x := w.(type) {
		case *statusWriter:
			return x.ctx
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return context.Background()
		}
	}
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Observe wraps the whole router: it recovers panics (500, logged with the
// stack), records request metrics by route pattern, and writes one access
// log line per request. The log carries the path but never the query
// string, which can hold tokens (the legacy family sends refresh tokens in it).
func Observe(next http.Handler, m *metrics.Metrics, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, ctx: r.Context()}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					WriteJSON(sw, http.StatusInternalServerError, map[string]any{
						"code": 500, "message": "internal error", "error": "internal_error",
						"timestamp": time.Now().UTC().Format(time.RFC3339)})
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if m != nil {
				m.ObserveRequest(route, strconv.Itoa(status), elapsed)
			}
			if span := trace.SpanFromContext(r.Context()); span.IsRecording() && r.Pattern != "" {
				// The server span (otelhttp) is named "METHOD /path" from
				// the pattern; the route attribute is the path alone.
				_, path, hasMethod := strings.Cut(r.Pattern, " ")
				if !hasMethod {
					path = r.Pattern
				}
				span.SetAttributes(attribute.String("http.route", path))
			}
			// LogAttrs with typed attributes: no boxing on every request.
			log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.String("route", route), slog.Int("status", status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000), slog.String("remote", r.RemoteAddr))
		}()
		next.ServeHTTP(sw, r)
	})
}
