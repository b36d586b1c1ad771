package server

import (
	"context"
	"maps"
	"net/http"
	"net/url"
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
	"github.com/gatehouse-auth/gatehouse/internal/web"
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
	mux.Handle("GET /metrics", s.metricsHandler())
	doc, err := openapi.DocumentFor(s.Config.Families)
	if err != nil {
		s.log.Error("openapi document not restricted to the enabled families", "err", err)
		doc = openapi.Document()
	}
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
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
		web.New(s.Service, ip, s.log, s.Config.Issuer).Register(mux)
		styles["/oauth2/"] = oauth2.WriteStatus
	}
	h := hardened(httpapi.Observe(refuseNUL(unmatched(mux, styles), styles), s.Metrics, s.log),
		strings.HasPrefix(s.Config.Issuer, "https://"))
	if s.tracer != nil {
		// A server span per request, continuing a caller's traceparent,
		// named "METHOD /route" once the mux has matched.
		h = otelhttp.NewHandler(h, "http.server", otelhttp.WithTracerProvider(s.tracer))
	}
	return h
}

// refuseNUL answers 400, in the style of the path's family, a request whose
// path or query holds a NUL byte: no identifier or filter value can contain
// one, and PostgreSQL cannot even compare with one, so both stores refuse
// it alike before any handler runs. The legacy family's query carries the
// refresh token itself, whose every malformation gets the ordinary
// invalid-grant answer (the token is hashed before any lookup), so its
// query is left to the handler. (Header values with a NUL never get this
// far: net/http refuses them.)
func refuseNUL(next http.Handler, styles map[string]func(http.ResponseWriter, int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query := r.URL.RawQuery
		if strings.HasPrefix(r.URL.Path, "/bo/") {
			query = ""
		}
		if strings.IndexByte(r.URL.Path, 0) < 0 && !queryHasNUL(query) {
			next.ServeHTTP(w, r)
			return
		}
		styleOf(r.URL.Path, styles)(w, http.StatusBadRequest)
	})
}

func queryHasNUL(raw string) bool {
	if !strings.Contains(raw, "%00") && strings.IndexByte(raw, 0) < 0 {
		return false
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return true
	}
	for k, vs := range q {
		if strings.IndexByte(k, 0) >= 0 {
			return true
		}
		for _, v := range vs {
			if strings.IndexByte(v, 0) >= 0 {
				return true
			}
		}
	}
	return false
}

// styleOf is the status writer of the family whose prefix is the longest
// that path starts with (the native style when none).
func styleOf(path string, styles map[string]func(http.ResponseWriter, int)) func(http.ResponseWriter, int) {
	write, longest := httpapi.WriteStatus, 0
	for prefix, style := range styles {
		if len(prefix) > longest && strings.HasPrefix(path, prefix) {
			write, longest = style, len(prefix)
		}
	}
	return write
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
		styleOf(r.URL.Path, styles)(w, status)
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
