package core

import (
	"strings"
	"time"
)

// Risk levels, as LoginResponse names them.
const (
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

// Risk signals: the stable names mfa_check_reason lists.
const (
	SignalNewIP          = "new_ip"
	SignalNewUserAgent   = "new_user_agent"
	SignalRecentFailures = "recent_failures"
	SignalIPFailures     = "ip_failures"
	SignalNoSecondFactor = "no_second_factor"
	SignalLongAbsence    = "long_absence"
)

// The weight of each signal in the score. They add up to 100; docs/security.md
// documents them and says why.
const (
	WeightNewIP          = 25
	WeightNewUserAgent   = 15
	WeightRecentFailures = 20
	WeightIPFailures     = 15
	WeightNoSecondFactor = 10
	WeightLongAbsence    = 15
)

// Thresholds of the risk levels: a score of RiskMediumAt or more is medium,
// RiskHighAt or more is high, anything below is low.
const (
	RiskMediumAt = 30
	RiskHighAt   = 60
)

// Signal thresholds.
const (
	// IPFailuresAt is the number of recent failed sign-ins from the client IP
	// (any username) from which SignalIPFailures fires; below it, a few
	// typing errors behind a shared address do not count.
	IPFailuresAt = 3
	// LongAbsenceAfter is the time without a sign-in after which
	// SignalLongAbsence fires.
	LongAbsenceAfter = 90 * 24 * time.Hour
)

// RiskSignals are the facts a risk assessment is computed from.
type RiskSignals struct {
	// NewIP: the client IP was never seen in a successful sign-in of the user.
	NewIP bool
	// NewUserAgent: the User-Agent was never seen in a successful sign-in of the user.
	NewUserAgent bool
	// UserFailures is the number of recent failed sign-ins for the username.
	UserFailures int
	// IPFailures is the number of recent failed sign-ins from the client IP.
	IPFailures int
	// HasSecondFactor: the user has a confirmed second factor.
	HasSecondFactor bool
	// SinceLastSignIn is the time since the user's last successful sign-in;
	// zero when unknown (the first sign-in).
	SinceLastSignIn time.Duration
}

// RiskScore is the outcome of AssessRisk.
type RiskScore struct {
	Score   int      // 0-100
	Level   string   // RiskLow, RiskMedium or RiskHigh
	Signals []string // the signals that fired, in a fixed order
}

// AssessRisk scores a sign-in from its signals. It is pure policy: the same
// signals always give the same score.
func AssessRisk(sig RiskSignals) RiskScore {
	rules := []struct {
		fired  bool
		name   string
		weight int
	}{
		{sig.NewIP, SignalNewIP, WeightNewIP},
		{sig.NewUserAgent, SignalNewUserAgent, WeightNewUserAgent},
		{sig.UserFailures > 0, SignalRecentFailures, WeightRecentFailures},
		{sig.IPFailures >= IPFailuresAt, SignalIPFailures, WeightIPFailures},
		{!sig.HasSecondFactor, SignalNoSecondFactor, WeightNoSecondFactor},
		{sig.SinceLastSignIn >= LongAbsenceAfter, SignalLongAbsence, WeightLongAbsence},
	}
	r := RiskScore{Signals: []string{}}
	for _, rule := range rules {
		if rule.fired {
			r.Score += rule.weight
			r.Signals = append(r.Signals, rule.name)
		}
	}
	r.Score = min(r.Score, 100)
	r.Level = riskLevel(r.Score)
	return r
}

func riskLevel(score int) string {
	switch {
	case score >= RiskHighAt:
		return RiskHigh
	case score >= RiskMediumAt:
		return RiskMedium
	default:
		return RiskLow
	}
}

// riskRank orders the levels; an unknown level ranks as medium.
func riskRank(level string) int {
	switch level {
	case RiskLow:
		return 0
	case RiskHigh:
		return 2
	default:
		return 1
	}
}

// MFA modes of Policy.MFAMode.
const (
	MFAAlways   = "always"
	MFAAdaptive = "adaptive"
	MFAOff      = "off"
)

// requiresSecondFactor applies the MFA mode to a sign-in: in "always" mode
// every user with a confirmed factor needs it; in "adaptive" mode a sign-in
// whose risk reaches MFARiskLevel needs it (a user without a factor cannot
// be challenged and is told to enrol); "off" never needs it. An empty mode
// is "always", the default.
func (p Policy) requiresSecondFactor(level string, hasFactor bool) bool {
	switch strings.ToLower(p.MFAMode) {
	case MFAOff:
		return false
	case MFAAdaptive:
		threshold := p.MFARiskLevel
		if threshold == "" {
			threshold = RiskMedium
		}
		return riskRank(level) >= riskRank(threshold)
	default:
		return hasFactor
	}
}
