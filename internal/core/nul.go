package core

import (
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// A NUL byte is refused in every string that is stored: PostgreSQL text
// cannot hold it, and SQLite must refuse what PostgreSQL refuses, so that
// both stores answer bad input alike.

// hasNUL reports whether any of ss contains a NUL byte.
func hasNUL(ss ...string) bool {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// hasNULIn is hasNUL for a list.
func hasNULIn(ss []string) bool { return hasNUL(ss...) }

// hasNULAny reports whether a decoded JSON value (object keys included)
// holds a string with a NUL byte.
func hasNULAny(v any) bool {
	switch v := v.(type) {
	case string:
		return hasNUL(v)
	case map[string]any:
		for k, e := range v {
			if hasNUL(k) || hasNULAny(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasNULAny(e) {
				return true
			}
		}
	}
	return false
}

// scrubNUL replaces NUL bytes by U+FFFD, for values that are recorded
// rather than refused (audit details quote what a caller sent).
func scrubNUL(s string) string {
	if !hasNUL(s) {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// scrubAny is scrubNUL for a decoded JSON value, object keys included.
func scrubAny(v any) any {
	switch v := v.(type) {
	case string:
		return scrubNUL(v)
	case []string:
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = scrubNUL(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[scrubNUL(k)] = scrubAny(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = scrubAny(e)
		}
		return out
	}
	return v
}

// scrubAudit keeps an audit event writable on every store whatever a
// caller sent: an event is a record of an attempt, so it must not fail
// because the attempt carried a NUL.
func scrubAudit(e *store.AuditEvent) {
	for _, p := range []*string{&e.Type, &e.TenantID, &e.UserID, &e.SessionID, &e.Actor, &e.IP, &e.UserAgent} {
		*p = scrubNUL(*p)
	}
	if e.Details != nil {
		e.Details = scrubAny(e.Details).(map[string]any)
	}
}
