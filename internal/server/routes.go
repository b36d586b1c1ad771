package server

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/admin"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/app"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/legacy"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/native"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/oauth2"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/wellknown"
	"github.com/gatehouse-auth/gatehouse/internal/openapi"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// routes builds the server's handler: operational endpoints, the
// always-served admin and discovery families, and the enabled API families.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	ip := httpapi.ClientIP{Trusted: s.Config.TrustedProxies}

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.Metrics.Handler())
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.Document())
	})

	wk := wellknown.New(s.Keys, s.Config.Issuer)
	if s.Config.FamilyEnabled("oauth2") {
		maps.Copy(wk.Extra, oauth2.Discovery(s.Config.Issuer))
	}
	wk.Register(mux)
	admin.New(s.Service, ip, s.log).Register(mux)
	mux.Handle("/debug/pprof/", s.pprofHandler()) // admin key only
	if s.Config.FamilyEnabled("native") {
		native.New(s.Service, ip, s.log).Register(mux)
	}
	// styles answer unmatched paths of an enabled family in its own error style.
	styles := map[string]func(http.ResponseWriter, int){}
	if s.Config.FamilyEnabled("legacy") {
		legacy.New(s.Service, ip, s.log).Register(mux)
		styles["/bo/"] = legacy.WriteStatus
	}
	if s.Config.FamilyEnabled("app") {
		app.New(s.Service, ip, s.log).Register(mux)
		styles["/api/v1/"] = app.WriteStatus
	}
	if s.Config.FamilyEnabled("oauth2") {
		oauth2.New(s.Service, ip, s.log).Register(mux)
		styles["/oauth2/"] = oauth2.WriteStatus
	}
	h := httpapi.Observe(unmatched(mux, styles), s.Metrics, s.log)
	if s.tracer != nil {
		// A server span per request, continuing a caller's traceparent,
		// named "METHOD /route" once the mux has matched.
		h = otelhttp.NewHandler(h, "http.server", otelhttp.WithTracerProvider(s.tracer))
	}
	return h
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Service.Ready(ctx); err != nil {
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// unmatched answers paths and methods that no route serves in the native
// error style (404 or 405 with Allow) instead of the mux's plain text, or in
// the style of styles' longest path prefix that matches.
func unmatched(mux *http.ServeMux, styles map[string]func(http.ResponseWriter, int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		h, _ := mux.Handler(r)
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		status := probe.status
		if status != http.StatusMethodNotAllowed {
			status = http.StatusNotFound
		}
		write, longest := httpapi.WriteStatus, 0
		for prefix, style := range styles {
			if len(prefix) > longest && strings.HasPrefix(r.URL.Path, prefix) {
				write, longest = style, len(prefix)
			}
		}
		write(w, status)
	})
}

// statusProbe captures what the mux's own 404/405 handler would answer.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(code int)        { p.status = code }
