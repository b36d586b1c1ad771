package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCLI_TicketIssue(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Dir = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	if _, stderr, _ := run("ticket", "issue", "--help"); !strings.Contains(stderr, "Usage: gatehouse ticket issue") {
		t.Fatalf("ticket issue --help: %s", stderr)
	}
	if _, _, err := run("ticket"); err == nil {
		t.Fatal("ticket without a subcommand succeeded")
	}
	if _, _, err := run("ticket", "issue"); err == nil {
		t.Fatal("ticket issue without --user-id succeeded")
	}
	out, stderr, err := run("user", "create", "--username", "alice", "--password", "correct horse battery")
	if err != nil {
		t.Fatalf("user create: %v %s", err, stderr)
	}
	var u struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(lastLine(out)), &u); err != nil || u.ID == "" {
		t.Fatalf("user create output %q: %v", out, err)
	}
	if _, _, err := run("ticket", "issue", "--user-id", "nobody"); err == nil {
		t.Fatal("ticket for an unknown user succeeded")
	}
	if _, _, err := run("ticket", "issue", "--user-id", u.ID, "--ttl", "soon"); err == nil {
		t.Fatal("ticket with a bad --ttl succeeded")
	}

	issue := func(args ...string) map[string]string {
		t.Helper()
		out, stderr, err := run(append([]string{"ticket", "issue", "--user-id", u.ID}, args...)...)
		if err != nil {
			t.Fatalf("ticket issue %v: %v %s", args, err, stderr)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(lastLine(out)), &m); err != nil || m["ticket"] == "" {
			t.Fatalf("ticket issue output %q: %v", out, err)
		}
		if strings.Contains(stderr, m["ticket"]) {
			t.Error("the ticket appears in the command's log")
		}
		return m
	}
	plain := issue()
	exp, err := time.Parse(time.RFC3339, plain["expires_at"])
	if err != nil || plain["purpose"] != "signin" || plain["user_id"] != u.ID ||
		exp.Before(time.Now().Add(30*time.Second)) || exp.After(time.Now().Add(61*time.Second)) {
		t.Fatalf("issued ticket: %v (%v)", plain, err)
	}
	imp := issue("--purpose", "impersonation", "--ttl", "2m", "--actor", "user:42")

	p := start(t, dir, nil)
	code, body := p.call("POST", "/auth/ticket/signin", "", map[string]any{"ticket": plain["ticket"]})
	if code != 200 {
		t.Fatalf("sign-in with the CLI ticket: %d %v", code, body)
	}
	if code, _ := p.call("POST", "/auth/ticket/signin", "", map[string]any{"ticket": plain["ticket"]}); code != 400 {
		t.Fatalf("second use of the CLI ticket: %d", code)
	}
	code, body = p.call("POST", "/auth/ticket/signin", "", map[string]any{"ticket": imp["ticket"]})
	if code != 200 {
		t.Fatalf("impersonation sign-in: %d %v", code, body)
	}
	parts := strings.Split(body["access_token"].(string), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Act struct {
			Sub string `json:"sub"`
		} `json:"act"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Act.Sub != "user:42" {
		t.Fatalf("act of a CLI impersonation ticket: %s (%v), want act.sub user:42", payload, err)
	}
	// The audit log names the same actor as the claim.
	key, err := os.ReadFile(filepath.Join(dir, "gatehouse-data", "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	code, audit := p.call("GET", "/admin/audit?type=ticket_redeemed&limit=1", strings.TrimSpace(string(key)), nil)
	events, _ := audit["events"].([]any)
	if code != 200 || len(events) != 1 || events[0].(map[string]any)["actor"] != claims.Act.Sub {
		t.Fatalf("audit of the impersonation: %d %v, want actor %s", code, audit, claims.Act.Sub)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
