package server

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// Security headers of every answer.
const (
	// htmlCSP is the policy of an HTML answer that sets none of its own:
	// same-origin resources only, and never inside a frame.
	htmlCSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	// hstsValue asks browsers to use https only, for a year. Subdomains are
	// left out: they may belong to other services of the operator.
	hstsValue = "max-age=31536000"
)

// hardened adds the headers every answer carries: nosniff and no referrer
// always, Strict-Transport-Security when the issuer is https, and for HTML
// a Content-Security-Policy that forbids framing (a page with a policy of
// its own keeps it, with frame-ancestors 'none' added when it lacks one).
func hardened(next http.Handler, https bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if https {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		next.ServeHTTP(&htmlGuard{ResponseWriter: w}, r)
	})
}

// htmlGuard adds the HTML headers just before the status line is written,
// when the content type is known.
type htmlGuard struct {
	http.ResponseWriter
	wrote bool
}

func (g *htmlGuard) WriteHeader(code int) {
	if !g.wrote {
		g.wrote = true
		g.guard()
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *htmlGuard) Write(b []byte) (int, error) {
	if !g.wrote {
		if g.Header().Get("Content-Type") == "" {
			// What net/http would sniff anyway, decided here so that an
			// HTML answer without a declared type gets its policy too.
			g.Header().Set("Content-Type", http.DetectContentType(b))
		}
		g.WriteHeader(http.StatusOK)
	}
	return g.ResponseWriter.Write(b)
}

func (g *htmlGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// Flush lets streaming handlers (pprof traces) flush through the guard.
func (g *htmlGuard) Flush() {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (g *htmlGuard) guard() {
	h := g.Header()
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Get("Content-Type"))), "text/html") {
		return
	}
	switch csp := h.Get("Content-Security-Policy"); {
	case csp == "":
		h.Set("Content-Security-Policy", htmlCSP)
	case !strings.Contains(csp, "frame-ancestors"):
		h.Set("Content-Security-Policy", csp+"; frame-ancestors 'none'")
	}
	h.Set("X-Frame-Options", "DENY")
}

// metricsHandler serves /metrics, behind a bearer when
// GATEHOUSE_METRICS_AUTH is on: the admin key (never a user's token) or
// GATEHOUSE_METRICS_TOKEN, compared in constant time.
func (s *Server) metricsHandler() http.Handler {
	metrics := s.Metrics.Handler()
	if !s.Config.MetricsAuth {
		return metrics
	}
	token := []byte(s.Config.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer := httpapi.BearerToken(r)
		ok := len(token) > 0 && subtle.ConstantTimeCompare([]byte(bearer), token) == 1
		if !ok && bearer != "" {
			a, err := s.Service.AuthenticateAdmin(r.Context(), core.DefaultTenant, bearer)
			ok = err == nil && a.TenantID == "" // the admin key, not a user's token
		}
		if !ok {
			httpapi.WriteError(w, s.log, &core.Error{Code: core.CodeUnauthorized, Message: "metrics need the admin key or the metrics token"})
			return
		}
		metrics.ServeHTTP(w, r)
	})
}
