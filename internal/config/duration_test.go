package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"0s", 0},
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"2h30m", 2*time.Hour + 30*time.Minute},
		{"250ms", 250 * time.Millisecond},
		{"7d", 7 * 24 * time.Hour},
		{"0d", 0},
		{"30d", 30 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"1d30m15s", 24*time.Hour + 30*time.Minute + 15*time.Second},
		{"1.5h", 90 * time.Minute},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil {
			t.Errorf("ParseDuration(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDuration_Rejects(t *testing.T) {
	tests := []struct {
		in      string
		wantMsg string
	}{
		{"", `invalid duration ""`},
		{"abc", `invalid duration "abc"`},
		{"-5m", "negative"},
		{"-1d", "negative"},
		{"1d-5m", "invalid duration"},
		{"1d+5m", "invalid duration"},
		{"d", "invalid duration"},
		{"1.5d", "invalid duration"},
		{"1h2d", "invalid duration"},
		{"7 d", "invalid duration"},
		{"1dd", "invalid duration"},
		{"15", "invalid duration"},
		{"99999999999999d", "too large"},
		{"106751d23h59m59s", "too large"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err == nil {
			t.Errorf("ParseDuration(%q) = %v, want error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("ParseDuration(%q) error %q does not contain %q", tt.in, err, tt.wantMsg)
		}
	}
}
