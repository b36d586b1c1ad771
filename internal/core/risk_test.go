package core

import (
	"slices"
	"testing"
	"time"
)

func TestAssessRisk(t *testing.T) {
	known := RiskSignals{HasSecondFactor: true, SinceLastSignIn: time.Hour}
	with := func(f func(*RiskSignals)) RiskSignals {
		s := known
		f(&s)
		return s
	}
	tests := []struct {
		name    string
		sig     RiskSignals
		score   int
		level   string
		signals []string
	}{
		{"known device with a factor", known, 0, RiskLow, nil},
		{"first sign-in ever", RiskSignals{NewIP: true, NewUserAgent: true}, 50, RiskMedium,
			[]string{SignalNewIP, SignalNewUserAgent, SignalNoSecondFactor}},
		{"new IP only", with(func(s *RiskSignals) { s.NewIP = true }), 25, RiskLow, []string{SignalNewIP}},
		{"new User-Agent only", with(func(s *RiskSignals) { s.NewUserAgent = true }), 15, RiskLow, []string{SignalNewUserAgent}},
		{"new IP and User-Agent", with(func(s *RiskSignals) { s.NewIP, s.NewUserAgent = true, true }), 40, RiskMedium,
			[]string{SignalNewIP, SignalNewUserAgent}},
		{"new device after failures", with(func(s *RiskSignals) { s.NewIP, s.NewUserAgent, s.UserFailures = true, true, 2 }), 60, RiskHigh,
			[]string{SignalNewIP, SignalNewUserAgent, SignalRecentFailures}},
		{"one typo on a known device", with(func(s *RiskSignals) { s.UserFailures = 1 }), 20, RiskLow, []string{SignalRecentFailures}},
		{"few IP failures do not count", with(func(s *RiskSignals) { s.IPFailures = IPFailuresAt - 1 }), 0, RiskLow, nil},
		{"many IP failures", with(func(s *RiskSignals) { s.IPFailures = IPFailuresAt }), 15, RiskLow, []string{SignalIPFailures}},
		{"no second factor", with(func(s *RiskSignals) { s.HasSecondFactor = false }), 10, RiskLow, []string{SignalNoSecondFactor}},
		{"absence just under the limit", with(func(s *RiskSignals) { s.SinceLastSignIn = LongAbsenceAfter - time.Second }), 0, RiskLow, nil},
		{"long absence", with(func(s *RiskSignals) { s.SinceLastSignIn = LongAbsenceAfter }), 15, RiskLow, []string{SignalLongAbsence}},
		{"long absence from a new IP", with(func(s *RiskSignals) { s.SinceLastSignIn, s.NewIP = 200*24*time.Hour, true }), 40, RiskMedium,
			[]string{SignalNewIP, SignalLongAbsence}},
		{"medium threshold", with(func(s *RiskSignals) { s.UserFailures, s.HasSecondFactor = 1, false }), 30, RiskMedium,
			[]string{SignalRecentFailures, SignalNoSecondFactor}},
		{"everything", RiskSignals{NewIP: true, NewUserAgent: true, UserFailures: 9, IPFailures: 9, SinceLastSignIn: 365 * 24 * time.Hour}, 100, RiskHigh,
			[]string{SignalNewIP, SignalNewUserAgent, SignalRecentFailures, SignalIPFailures, SignalNoSecondFactor, SignalLongAbsence}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AssessRisk(tc.sig)
			if got.Score != tc.score || got.Level != tc.level {
				t.Errorf("AssessRisk = score %d level %s, want %d %s", got.Score, got.Level, tc.score, tc.level)
			}
			if got.Signals == nil {
				t.Error("Signals is nil, want an empty list")
			}
			if !slices.Equal(got.Signals, tc.signals) && (len(got.Signals) != 0 || len(tc.signals) != 0) {
				t.Errorf("Signals = %q, want %q", got.Signals, tc.signals)
			}
		})
	}
}

func TestAssessRisk_WeightsAddUpTo100(t *testing.T) {
	sum := WeightNewIP + WeightNewUserAgent + WeightRecentFailures + WeightIPFailures + WeightNoSecondFactor + WeightLongAbsence
	if sum != 100 {
		t.Fatalf("the weights add up to %d, want 100", sum)
	}
}

func TestRequiresSecondFactor(t *testing.T) {
	tests := []struct {
		mode, threshold, level string
		hasFactor, want        bool
	}{
		{MFAAlways, "", RiskLow, true, true},
		{MFAAlways, "", RiskHigh, false, false},
		{"", "", RiskLow, true, true}, // empty mode is always
		{MFAOff, "", RiskHigh, true, false},
		{MFAAdaptive, RiskMedium, RiskLow, true, false},
		{MFAAdaptive, RiskMedium, RiskMedium, true, true},
		{MFAAdaptive, RiskMedium, RiskHigh, true, true},
		{MFAAdaptive, RiskHigh, RiskMedium, true, false},
		{MFAAdaptive, RiskHigh, RiskHigh, true, true},
		{MFAAdaptive, "", RiskMedium, true, true}, // empty threshold is medium
		// Without a factor the policy still asks (the response recommends enrolment).
		{MFAAdaptive, RiskMedium, RiskHigh, false, true},
	}
	for _, tc := range tests {
		p := Policy{MFAMode: tc.mode, MFARiskLevel: tc.threshold}
		if got := p.requiresSecondFactor(tc.level, tc.hasFactor); got != tc.want {
			t.Errorf("mode %q threshold %q level %s factor %v: %v, want %v", tc.mode, tc.threshold, tc.level, tc.hasFactor, got, tc.want)
		}
	}
}
