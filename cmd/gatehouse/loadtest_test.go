package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestLoadtest_RealBinary runs `gatehouse loadtest --compare` against a
// real `gatehouse serve` started with no configuration: the admin key comes
// from gatehouse-data/admin.key, and the baseline is this very binary
// re-executed as a separate process.
func TestLoadtest_RealBinary(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, nil)
	cmd := exec.Command(binary, "loadtest", "--target", p.url, "--mode", "chain", "-c", "2", "-d", "20s",
		"--max-requests", "20", "--compare", "--quiet")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("loadtest: %v\n%s", err, stderr.String())
	}
	var res struct {
		Mode     string           `json:"mode"`
		Ops      int64            `json:"ops"`
		Errors   map[string]int64 `json:"errors"`
		Ratio    float64          `json:"ratio_to_baseline"`
		Baseline struct {
			Ops    int64  `json:"ops"`
			Target string `json:"target"`
		} `json:"baseline"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("--quiet must print one JSON line: %v: %q", err, stdout.String())
	}
	if res.Mode != "chain" || res.Ops != 20 || len(res.Errors) != 0 || res.Baseline.Ops != 20 || res.Ratio <= 0 {
		t.Fatalf("unexpected result: %s", stdout.String())
	}
	if res.Baseline.Target == p.url || !strings.HasPrefix(res.Baseline.Target, "http://127.0.0.1:") {
		t.Fatalf("baseline target %q: want its own loopback server", res.Baseline.Target)
	}
}

func TestLoadtest_CommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"help lists the modes", []string{"loadtest", "--help"}, "baseline  the same client loop"},
		{"remote target refused", []string{"loadtest", "--target", "http://192.0.2.1:8080", "--admin-key", "k"}, "not a loopback address"},
		{"hot and cold", []string{"loadtest", "--mode", "verify", "--hot", "--cold", "--admin-key", "k"}, "exclude each other"},
		{"no admin key", []string{"loadtest", "--data-dir", "/nonexistent"}, "the key file cannot be read"},
		{"baseline only on loopback", []string{"loadtest", "--serve-baseline", "0.0.0.0:0"}, "loopback only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, tc.args...)
			cmd.Env = append(cmd.Environ(), "GATEHOUSE_ADMIN_KEY=")
			out, err := cmd.CombinedOutput()
			if help := tc.args[len(tc.args)-1] == "--help"; help != (err == nil) {
				t.Fatalf("--help: %v, error: %v; want success exactly for --help; output:\n%s", help, err, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("output does not mention %q:\n%s", tc.want, out)
			}
		})
	}
}
