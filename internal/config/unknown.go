package config

import (
	"slices"
	"strings"
)

// UnknownVar is a GATEHOUSE_* environment variable that no setting reads.
type UnknownVar struct {
	Name string
	// Closest is the known variable nearest to Name by edit distance, or ""
	// when none is near enough to be the one meant.
	Closest string
}

// otherVars are GATEHOUSE_* variables read by something else than the
// server's configuration: the configuration file's path, the SDK's examples
// and the test and development scripts. They draw no warning.
var (
	otherVars     = []string{FileEnv, "GATEHOUSE_CLIENT_ID", "GATEHOUSE_CLIENT_SECRET"}
	otherPrefixes = []string{"GATEHOUSE_TEST_", "GATEHOUSE_PG_", "GATEHOUSE_PGTEST_", "GATEHOUSE_SQLITE_CHILD_", "GATEHOUSE_LOADTEST_"}
)

// UnknownEnv returns the GATEHOUSE_* variables of environ ("NAME=value"
// entries, as os.Environ returns them) that no setting reads, sorted by
// name. A misspelled variable would otherwise be ignored without a word,
// while an unknown key in the file is an error; the environment is shared
// with other programs, so this is a warning to log, not a failure.
func UnknownEnv(environ []string) []UnknownVar {
	known := make([]string, 0, len(fields)+len(otherVars))
	for _, f := range fields {
		known = append(known, f.env)
	}
	var out []UnknownVar
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || slices.Contains(known, name) || slices.Contains(otherVars, name) {
			continue
		}
		if slices.ContainsFunc(otherPrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		out = append(out, UnknownVar{Name: name, Closest: closest(name, append(known, FileEnv))})
	}
	slices.SortFunc(out, func(a, b UnknownVar) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// closest returns the candidate nearest to name, when the edit distance of
// the part after the prefix is at most a third of its length (at least 2),
// or when one of the two names extends the other by whole words
// (GATEHOUSE_DB_URL for GATEHOUSE_DB).
func closest(name string, candidates []string) string {
	key := strings.TrimPrefix(name, envPrefix)
	limit := max(len(key)/3, 2)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		ck := strings.TrimPrefix(c, envPrefix)
		d := editDistance(key, ck)
		if strings.HasPrefix(key, ck+"_") || strings.HasPrefix(ck, key+"_") {
			d = min(d, limit)
		}
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (ASCII names).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
