package sqlite

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Environment of the child processes of TestTwoProcessesOneWinner.
const (
	envChildDB    = "GATEHOUSE_SQLITE_CHILD_DB"
	envChildLabel = "GATEHOUSE_SQLITE_CHILD_LABEL"
	childRotators = 25
)

// TestTwoProcessesOneWinner runs the one-winner rotation race between two
// real operating-system processes on one database file: each child
// process rotates the same token from many goroutines, released together
// by the parent.
func TestTwoProcessesOneWinner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s := openMigrated(t, path)
	seedSession(t, s)

	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	var children []child
	for _, label := range []string{"a", "b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRotationChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChildDB+"="+path, envChildLabel+"="+label)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		c := child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
		if line, err := c.out.ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("child %s: %q, %v; want ready", label, line, err)
		}
		children = append(children, c)
	}
	for _, c := range children {
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	total := map[int]int{}
	for _, c := range children {
		line, err := c.out.ReadString('\n')
		if err != nil {
			t.Fatalf("child result: %v", err)
		}
		var counts map[int]int
		if err := json.Unmarshal([]byte(line), &counts); err != nil {
			t.Fatalf("child result %q: %v", line, err)
		}
		for k, v := range counts {
			total[k] += v
		}
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	if total[store.Rotated] != 1 || total[store.Reused] < 1 ||
		total[store.Rotated]+total[store.Reused]+total[store.Invalid] != 2*childRotators {
		t.Fatalf("outcomes over both processes %v: want one Rotated and the rest Reused or Invalid", total)
	}
}

// TestRotationChildProcess is the child side of TestTwoProcessesOneWinner;
// run on its own it does nothing.
func TestRotationChildProcess(t *testing.T) {
	path := os.Getenv(envChildDB)
	if path == "" {
		return
	}
	label := os.Getenv(envChildLabel)
	s, err := Open(context.Background(), path, Options{BusyTimeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("child open: %v", err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("child ping: %v", err)
	}
	fmt.Println("ready")
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil || line != "go\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	outcomes := make([]int, childRotators)
	errs := make([]error, childRotators)
	var wg sync.WaitGroup
	for i := range childRotators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.RotateRefreshToken(context.Background(), store.RotateRequest{
				TenantID: "t1", PresentedHash: tokenHash("rt0"), Now: testBase.Add(time.Hour),
				IdleTTL: time.Hour, New: store.RefreshToken{Hash: tokenHash(fmt.Sprint(label, i))},
				ReuseAudit: store.AuditEvent{Type: "refresh_token_reused"},
			})
			outcomes[i], errs[i] = res.Outcome, err
		}()
	}
	wg.Wait()
	counts := map[int]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("child rotation %d: %v", i, err)
		}
		counts[outcomes[i]]++
	}
	b, err := json.Marshal(counts)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(string(b))
}
