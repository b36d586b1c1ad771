package server

import (
	"net/http"
	"net/http/pprof"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// pprofHandler serves the runtime profiles of net/http/pprof under
// /debug/pprof/ to the holder of the admin key only: a profile reveals the
// process's inner workings, so neither anonymous callers nor tenant
// administrators get one. A CPU profile or trace must be shorter than the
// server's write timeout (30s), e.g. /debug/pprof/profile?seconds=20.
func (s *Server) pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.Service.AuthenticateAdmin(r.Context(), core.DefaultTenant, httpapi.BearerToken(r))
		if err != nil {
			httpapi.WriteError(w, s.log, err)
			return
		}
		if a.TenantID != "" { // a user with role admin: one tenant only
			httpapi.WriteError(w, s.log, &core.Error{Code: core.CodeForbidden, Message: "profiles need the admin key"})
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			httpapi.WriteStatus(w, http.StatusNotFound)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
