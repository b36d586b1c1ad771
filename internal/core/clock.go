package core

import "time"

// Clock tells the time. Tests pass a clock they can move instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC and truncated to microseconds (the
// precision the stores keep).
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
