package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs the gatehouse binary in a directory of its own.
type cli struct {
	t   *testing.T
	dir string
	env []string
}

func newCLI(t *testing.T) *cli { return &cli{t: t, dir: t.TempDir()} }

// run returns stdout, stderr and the exit code.
func (c *cli) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	c.t.Fatalf("run %v: %v", args, err)
	return "", "", -1
}

// fails runs a command that must fail with one line on stderr that contains
// every one of wants and none of the internals that used to leak.
func (c *cli) fails(stdin string, args []string, wants ...string) {
	c.t.Helper()
	_, stderr, code := c.run(stdin, args...)
	if code == 0 {
		c.t.Errorf("%v: exit 0, want a failure", args)
		return
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 {
		c.t.Errorf("%v: %d lines on stderr, want one:\n%s", args, len(lines), stderr)
	}
	for _, w := range wants {
		if !strings.Contains(stderr, w) {
			c.t.Errorf("%v: stderr does not say %q:\n%s", args, w, stderr)
		}
	}
	for _, leak := range []string{"UNIQUE constraint", "(2067)", "sql: no rows", "store: not found", "store: conflict", "open sqlite: open sqlite", "master key:"} {
		if strings.Contains(stderr, leak) {
			c.t.Errorf("%v: stderr leaks %q:\n%s", args, leak, stderr)
		}
	}
}

func TestCLI_HelpExitsZero(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"serve", "--help"}, {"migrate", "--help"}, {"version", "--help"},
		{"user", "--help"}, {"user", "create", "--help"}, {"user", "delete", "--help"},
		{"keys", "--help"}, {"keys", "rotate", "--help"}, {"ticket", "--help"}, {"ticket", "issue", "--help"},
		{"loadtest", "--help"}, {"serve", "-h"},
	} {
		stdout, stderr, code := c.run("", args...)
		if code != 0 || !strings.Contains(stdout+stderr, "Usage: gatehouse") {
			t.Errorf("%v: exit %d, want 0 with the usage; output:\n%s%s", args, code, stdout, stderr)
		}
	}
	if _, _, code := c.run(""); code == 0 {
		t.Error("no command: exit 0, want a failure")
	}
}

func TestCLI_ConfigFlagEverywhere(t *testing.T) {
	c := newCLI(t)
	cfg := filepath.Join(c.dir, "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("addr: 127.0.0.1:1\nadmin_key: loadtest-config-admin-key-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, stderr, code := c.run("", "version", "--config", cfg); code != 0 || !strings.HasPrefix(out, "gatehouse ") {
		t.Errorf("version --config: exit %d: %s%s", code, out, stderr)
	}
	// loadtest takes the target and the admin key from the file: the run
	// gets as far as connecting to the configured address (nothing listens).
	_, stderr, code := c.run("", "loadtest", "--config", cfg, "-d", "1s", "--quiet")
	if code == 0 || !strings.Contains(stderr, "127.0.0.1:1") {
		t.Errorf("loadtest --config: exit %d, want a failure to reach 127.0.0.1:1:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "key file cannot be read") {
		t.Errorf("loadtest --config did not take admin_key from the file:\n%s", stderr)
	}
}

func TestCLI_StrayArgumentsRefused(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{"serve", "extra"}, {"migrate", "now"}, {"version", "x"}, {"keys", "rotate", "EdDSA"},
		{"user", "create", "--username", "a", "--no-password", "b"}, {"ticket", "issue", "--user-id", "1", "x"},
	} {
		c.fails("", args, "unexpected argument")
	}
	c.fails("", []string{"user", "remove"}, `unknown subcommand "remove"`, "create or delete")
	c.fails("", []string{"keys", "list"}, `unknown subcommand "list"`, "rotate")
	c.fails("", []string{"ticket", "redeem"}, `unknown subcommand "redeem"`, "issue")
}

func TestCLI_UserPasswordRequired(t *testing.T) {
	c := newCLI(t)
	c.fails("", []string{"user", "create", "--username", "nopw"}, "no password given", "--no-password")
	c.fails("", []string{"user", "create", "--username", "nopw", "--password-stdin"}, "empty password")
	c.fails("\n", []string{"user", "create", "--username", "nopw", "--password-stdin"}, "empty password")
	c.fails("pw\n", []string{"user", "create", "--username", "nopw", "--password-stdin", "--no-password"}, "exclude each other")
	// Nothing was created by the refusals: the name is still free.
	out, stderr, code := c.run("", "user", "create", "--username", "nopw", "--no-password")
	if code != 0 {
		t.Fatalf("user create --no-password: exit %d: %s", code, stderr)
	}
	var u map[string]any
	if err := json.Unmarshal([]byte(lastLine(out)), &u); err != nil || u["username"] != "nopw" {
		t.Fatalf("user create --no-password output: %q", out)
	}
}

func TestCLI_ErrorsAreOneClearLine(t *testing.T) {
	c := newCLI(t)
	out, stderr, code := c.run("correct horse battery\n", "user", "create", "--username", "alice", "--password-stdin")
	if code != 0 {
		t.Fatalf("user create: exit %d: %s", code, stderr)
	}
	var u struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(lastLine(out)), &u); err != nil {
		t.Fatal(err)
	}
	c.fails("correct horse battery\n", []string{"user", "create", "--username", "ALICE", "--password-stdin"}, `tenant "default" already has a user`, "choose another")
	c.fails("", []string{"user", "create", "--username", "bob", "--no-password", "--tenant", "nope"}, `tenant "nope" does not exist`)
	c.fails("", []string{"ticket", "issue", "--user-id", "999"}, `no user with id "999"`, "check --user-id")
	c.fails("", []string{"user", "delete", "--id", "999"}, `no user with id "999"`, "check --id")
	c.fails("", []string{"keys", "rotate", "--alg", "HS256"}, "keys rotate: alg must be")

	file := filepath.Join(c.dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.env = []string{"GATEHOUSE_DB=sqlite:" + filepath.Join(file, "x.db")}
	c.fails("", []string{"migrate"}, "database sqlite:"+filepath.Join(file, "x.db"), "GATEHOUSE_DB")
	c.env = []string{"GATEHOUSE_DATA_DIR=" + filepath.Join(file, "data")}
	c.fails("", []string{"keys", "rotate"}, "data directory "+filepath.Join(file, "data")+" is not usable", "GATEHOUSE_DATA_DIR")
	c.env = []string{"GATEHOUSE_DB=postgres://gh:s3cret-pw@127.0.0.1:1/auth", "GATEHOUSE_MASTER_KEY=" + testMasterKey, "GATEHOUSE_DB_TIMEOUT=1s"}
	_, stderr, _ = c.run("", "migrate")
	if strings.Contains(stderr, "s3cret-pw") || !strings.Contains(stderr, "postgres://gh:xxxxx@127.0.0.1:1/auth") {
		t.Errorf("unreachable PostgreSQL: the message must name the database without its password:\n%s", stderr)
	}
	c.env = nil

	// The user is deleted once, then no more.
	if _, stderr, code := c.run("", "user", "delete", "--id", u.ID); code != 0 {
		t.Fatalf("user delete: exit %d: %s", code, stderr)
	}
	c.fails("", []string{"user", "delete", "--id", u.ID}, "no user with id")
}

func TestCLI_QuietLogAndUnknownEnv(t *testing.T) {
	c := newCLI(t)
	c.env = []string{"GATEHOUSE_ACESS_TOKEN_TTL=5m"}
	// The first call creates the key files, the second reads them.
	for _, args := range [][]string{{"keys", "rotate"}, {"keys", "rotate"}, {"migrate"}} {
		_, stderr, code := c.run("", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if strings.Contains(stderr, `"level":"INFO"`) {
			t.Errorf("a command logs INFO lines:\n%s", stderr)
		}
		if !strings.Contains(stderr, "GATEHOUSE_ACESS_TOKEN_TTL") || !strings.Contains(stderr, "did you mean GATEHOUSE_ACCESS_TOKEN_TTL") {
			t.Errorf("misspelled variable not warned about:\n%s", stderr)
		}
	}
}
