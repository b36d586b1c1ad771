// Package legacy serves the legacy family: the "bo" platform's API v3
// token refresh, GET /bo/api/v3/auth/token/refresh, whose front ends must
// keep working unchanged. It rotates exactly like the native refresh (it
// is the same core call) and answers in the platform's shape: HTTP 200
// always, with success, code and either data or error.
package legacy

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// Values of the _nodejs parameter.
const (
	casingCamel = "common-data"       // lower camelCase keys (also the default)
	casingSnake = "common-data-under" // snake_case keys inside data
)

// detailHeaders are the platform headers recorded with the refresh: in
// the audit event of a detected reuse and in the debug log of a success.
var detailHeaders = []string{"XsysId", "XuserFromFirstShareId", "XuserFromSecondShareId"}

// maxDetailLen bounds each recorded header value.
const maxDetailLen = 128

// Handler serves the family.
type Handler struct {
	svc *core.Service
	ip  httpapi.ClientIP
	log *slog.Logger
}

// New returns the legacy family's handler.
func New(svc *core.Service, ip httpapi.ClientIP, log *slog.Logger) *Handler {
	return &Handler{svc: svc, ip: ip, log: log}
}

// Register adds the family's route to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /bo/api/v3/auth/token/refresh", h.refresh)
}

// refresh rotates the refresh token of the query string. The query string
// carries a secret, so nothing of it is ever logged (the access log writes
// the path only).
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request) {
	// A GET has no business with a body; read (and refuse) a large one
	// rather than leave it to the connection.
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, httpapi.MaxBodyBytes)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeFailure(w, http.StatusRequestEntityTooLarge, "request_too_large", fmt.Sprintf("the body exceeds %d bytes", httpapi.MaxBodyBytes))
			return
		}
		writeFailure(w, http.StatusBadRequest, core.CodeInvalidRequest, "the body could not be read")
		return
	}
	q := r.URL.Query()
	casing := q.Get("_nodejs")
	if casing == "" {
		casing = casingCamel
	}
	if casing != casingCamel && casing != casingSnake {
		writeFailure(w, http.StatusBadRequest, core.CodeInvalidRequest, "_nodejs must be common-data or common-data-under")
		return
	}
	tenant := r.Header.Get("XownerId")
	if tenant == "" || !core.ValidID(tenant) {
		writeFailure(w, http.StatusBadRequest, core.CodeInvalidRequest, "the XownerId header must name a tenant")
		return
	}
	refresh := q.Get("refreshToken")
	if refresh == "" {
		writeFailure(w, http.StatusBadRequest, core.CodeInvalidRequest, "refreshToken is required")
		return
	}
	details := map[string]any{"family": "legacy"}
	for _, name := range detailHeaders {
		if v := r.Header.Get(name); v != "" {
			details[name] = clip(v)
		}
	}
	res, err := h.svc.Refresh(r.Context(), core.RefreshRequest{
		TenantID: tenant, RefreshToken: refresh,
		Meta: core.Meta{IP: h.ip.Of(r), UserAgent: r.UserAgent()}, Details: details,
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.log.Debug("legacy refresh", "tenant", tenant, "session", res.Session.ID, "user", res.User.ID, "details", details)
	now := h.svc.Now()
	var out any = newData(res, now)
	if casing == casingSnake {
		if out, err = snakeData(out.(data)); err != nil {
			h.fail(w, err)
			return
		}
	}
	write(w, success{Success: true, Code: 0, CacheType: h.svc.StoreKind(), CacheDate: now.UTC().Format("2006-01-02T15:04:05Z07:00"), Data: out})
}

// fail answers a core error with the status the native family would have used.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	ce := core.AsError(err)
	status := httpapi.StatusOf(ce.Code)
	if status >= 500 {
		h.log.ErrorContext(httpapi.RequestContext(w), "legacy request failed", "code", ce.Code, "err", err)
	}
	writeFailure(w, status, ce.Code, ce.Message)
}

// clip bounds a recorded header value to maxDetailLen bytes of valid UTF-8.
func clip(v string) string {
	if len(v) > maxDetailLen {
		v = v[:maxDetailLen]
	}
	return strings.ToValidUTF8(v, "")
}
