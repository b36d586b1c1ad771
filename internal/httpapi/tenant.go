package httpapi

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/core"
)

// Tenant returns the tenant a native or admin request names with
// X-Tenant-ID (default "default"), or a 400 request error for a malformed id.
func Tenant(r *http.Request) (string, error) {
	t := r.Header.Get("X-Tenant-ID")
	if t == "" {
		return core.DefaultTenant, nil
	}
	if !core.ValidID(t) {
		return "", &RequestError{Status: http.StatusBadRequest, Message: "X-Tenant-ID must be 1-64 characters of A-Za-z0-9._-"}
	}
	return t, nil
}
