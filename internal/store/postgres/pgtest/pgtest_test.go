package pgtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv marks the re-executed test binary of TestDSN_MissingDSN.
const childEnv = "GATEHOUSE_PGTEST_CHILD"

// TestDSN_MissingDSN runs DSN in a child process without a DSN: in CI the
// test must fail, elsewhere it must skip.
func TestDSN_MissingDSN(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		DSN(t)
		t.Log("DSN returned without a DSN")
		return
	}
	cases := []struct {
		name     string
		ci       string
		wantFail bool
		wantLine string
	}{
		{"in CI", "true", true, "--- FAIL: TestDSN_MissingDSN"},
		{"outside CI", "", false, "--- SKIP: TestDSN_MissingDSN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestDSN_MissingDSN$", "-test.v")
			env := []string{childEnv + "=1"}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, EnvDSN+"=") && !strings.HasPrefix(kv, "CI=") {
					env = append(env, kv)
				}
			}
			if tc.ci != "" {
				env = append(env, "CI="+tc.ci)
			}
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.wantFail {
				t.Errorf("child error = %v, want failure %v\n%s", err, tc.wantFail, out)
			}
			if !strings.Contains(string(out), tc.wantLine) {
				t.Errorf("child output lacks %q:\n%s", tc.wantLine, out)
			}
			if !strings.Contains(string(out), "scripts/test.sh") {
				t.Errorf("child output does not point to scripts/test.sh:\n%s", out)
			}
		})
	}
}

func TestWithDatabase(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/gh_test_x?sslmode=disable"},
		{"postgresql://u:p@localhost/", "postgresql://u:p@localhost/gh_test_x"},
		{"host=127.0.0.1 port=5432 user=postgres dbname=postgres",
			"host=127.0.0.1 port=5432 user=postgres dbname=postgres dbname=gh_test_x"},
	}
	for _, tc := range cases {
		got, err := withDatabase(tc.in, "gh_test_x")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
