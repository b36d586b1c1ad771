package core

import "strings"

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
