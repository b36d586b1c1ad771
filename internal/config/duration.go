package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// ParseDuration parses a non-negative duration in Go syntax ("90s", "15m",
// "2h30m") with an optional leading whole number of days ("7d", "1d12h").
// Negative durations are rejected.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New(`invalid duration ""`)
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	// Go's units (ns, us, µs, ms, s, m, h) contain no "d", so a "d" can
	// only be the day unit, and it must come first.
	days, rest, hasDays := strings.Cut(s, "d")
	if !hasDays {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return d, nil
	}
	if !isDigits(days) {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	n, err := strconv.ParseInt(days, 10, 64)
	if err != nil || n > int64(math.MaxInt64/day) {
		return 0, fmt.Errorf("invalid duration %q: too large", s)
	}
	total := time.Duration(n) * day
	if rest == "" {
		return total, nil
	}
	if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	if d > math.MaxInt64-total {
		return 0, fmt.Errorf("invalid duration %q: too large", s)
	}
	return total + d, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
