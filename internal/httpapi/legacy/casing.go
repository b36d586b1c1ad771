package legacy

import (
	"strings"
	"unicode"
)

// snakeKeys returns v with every object key, at every depth, converted
// from lower camelCase to snake_case. v is what encoding/json decodes into
// an any: maps, slices and scalars.
func snakeKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[snakeCase(k)] = snakeKeys(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = snakeKeys(val)
		}
		return out
	}
	return v
}

// snakeCase converts a lower camelCase name to snake_case: "tokenUser" →
// "token_user", "mergeUserId" → "merge_user_id", "userIDCard" →
// "user_id_card". Names without capitals are unchanged.
func snakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			acronymEnd := i > 0 && unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if (prevLower || acronymEnd) && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
