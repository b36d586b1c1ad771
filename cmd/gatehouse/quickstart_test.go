package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickStart returns the first two sh blocks after the "## Quick start"
// heading of README.md, as they are printed: the quick start itself and the
// line that stops its server.
func quickStart(t *testing.T) (block, stop string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## Quick start\n")
	if !ok {
		t.Fatal("README.md has no Quick start section")
	}
	rest, _, _ = strings.Cut(rest, "\n## ")
	var blocks []string
	for len(blocks) < 2 {
		var code string
		if _, rest, ok = strings.Cut(rest, "```sh\n"); !ok {
			t.Fatalf("the Quick start has %d sh blocks, want the quick start and the stop line", len(blocks))
		}
		if code, rest, ok = strings.Cut(rest, "```"); !ok {
			t.Fatal("an sh block of the Quick start is not closed")
		}
		blocks = append(blocks, code)
	}
	return blocks[0], blocks[1]
}

// goShim stands in for the go tool in the quick start: `go install
// ./cmd/gatehouse` delivers the binary this test run built once, and `go
// env GOPATH` names where it went. Everything else the block runs is real.
const goShim = `#!/bin/sh
case "$1 $2" in
"install ./cmd/gatehouse") mkdir -p "$QUICKSTART_GOPATH/bin" && cp "$QUICKSTART_BINARY" "$QUICKSTART_GOPATH/bin/gatehouse" ;;
"env GOPATH") echo "$QUICKSTART_GOPATH" ;;
*) echo "go shim: unexpected: go $*" >&2; exit 1 ;;
esac
`

// TestReadme_QuickStart pastes the README's quick start into bash, as a
// user would (the lines arrive on bash's stdin, one after the other), in an
// empty directory, with GATEHOUSE_ADDR naming a free port. Every step must
// succeed; then the README's stop line, pasted into the same shell, must
// stop the server.
func TestReadme_QuickStart(t *testing.T) {
	block, stop := quickStart(t)
	if strings.Contains(block, "8080/") || !strings.Contains(block, "${GATEHOUSE_ADDR:-127.0.0.1:8080}") {
		t.Fatalf("the quick start must reach the server through $URL, which follows GATEHOUSE_ADDR:\n%s", block)
	}
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	shims := filepath.Join(dir, "shims")
	for _, d := range []string{work, shims} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(shims, "go"), []byte(goShim), 0o755); err != nil {
		t.Fatal(err)
	}
	path := shims
	for _, tool := range []string{"bash", "curl", "sed", "seq", "sleep", "cat", "mkdir", "cp"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed", tool)
		}
		path += ":" + filepath.Dir(p)
	}
	addr := freePort(t)
	cmd := exec.Command("bash")
	cmd.Dir = work
	cmd.Env = []string{
		"PATH=" + path, "HOME=" + dir, "GATEHOUSE_ADDR=" + addr,
		"QUICKSTART_BINARY=" + binary, "QUICKSTART_GOPATH=" + filepath.Join(dir, "gopath"),
	}
	cmd.Stdin = strings.NewReader(block + stop)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, nothing the block started outlives the test.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("bash: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the quick start did not finish\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "curl:") {
		t.Errorf("a curl call failed:\n%s", stderr.String())
	}

	// Three answers: the user, the sign-in, the refresh.
	var answers []map[string]any
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %q", sc.Text())
		}
		answers = append(answers, m)
	}
	if len(answers) != 3 {
		t.Fatalf("%d answers on stdout, want 3 (user, login, refresh):\n%v\nstderr:\n%s", len(answers), answers, stderr.String())
	}
	if answers[0]["username"] != "alice" || answers[1]["refresh_token"] == nil || answers[2]["refresh_token"] == nil ||
		answers[2]["refresh_token"] == answers[1]["refresh_token"] {
		t.Fatalf("answers: %v", answers)
	}

	// The stop line stopped the server: the port closes.
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the server still listens on %s after the README's stop line %q", addr, stop)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
