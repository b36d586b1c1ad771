package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// BaselineCommand returns the command that runs ServeBaseline on addr in
// a separate process (for the gatehouse binary: `gatehouse loadtest
// --serve-baseline ADDR`). The process must print the line ServeBaseline
// prints, and stop when its standard input closes.
type BaselineCommand func(ctx context.Context, addr string) *exec.Cmd

// baselinePath is the path the baseline clients post to.
const baselinePath = "/baseline"

// baselineAnswer is what the bare handler answers.
var baselineAnswer = []byte(`{"status":"ok"}`)

// baselineLinePrefix starts the line ServeBaseline prints once it listens.
const baselineLinePrefix = "baseline listening on "

// BaselineHandler is the bare handler: it reads the body and answers a
// small JSON object, nothing else.
func BaselineHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<10))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(baselineAnswer)
	})
}

// ServeBaseline serves BaselineHandler on addr (a loopback address) with
// a plain net/http server until ctx ends. Once it listens it prints
// "baseline listening on http://HOST:PORT" to out.
func ServeBaseline(ctx context.Context, addr string, out io.Writer) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("baseline address %q: %w", addr, err)
	}
	if !isLoopback(host) {
		return fmt.Errorf("baseline address %q: the baseline serves on loopback only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	hs := &http.Server{Handler: BaselineHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if _, err := fmt.Fprintf(out, "%shttp://%s\n", baselineLinePrefix, ln.Addr()); err != nil {
		_ = hs.Close()
		return fmt.Errorf("baseline: %w", err)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("baseline: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("baseline shutdown: %w", err)
	}
	return nil
}

// baselineProcess is a running baseline server.
type baselineProcess struct {
	url    string
	cmd    *exec.Cmd
	stdin  io.Closer
	stderr *bytes.Buffer
}

// startBaseline starts the baseline process on a free loopback port and
// waits for the line that gives its URL.
func startBaseline(ctx context.Context, bc BaselineCommand) (*baselineProcess, error) {
	cmd := bc(ctx, "127.0.0.1:0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("baseline process: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("baseline process: %w", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the baseline process: %w", err)
	}
	p := &baselineProcess{cmd: cmd, stdin: stdin, stderr: &stderr}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-lines:
		if ok && strings.HasPrefix(line, baselineLinePrefix) {
			p.url = strings.TrimPrefix(line, baselineLinePrefix)
			return p, nil
		}
		p.stop()
		return nil, fmt.Errorf("the baseline process did not start: %q %s", line, strings.TrimSpace(stderr.String()))
	case <-time.After(15 * time.Second):
		p.stop()
		return nil, errors.New("the baseline process did not start within 15s")
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// stop closes the process's standard input, which ends it, and kills it
// when it lingers.
func (p *baselineProcess) stop() {
	_ = p.stdin.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// WatchStdin calls cancel once r reaches its end or fails: the baseline
// process ends with the process that started it.
func WatchStdin(r io.Reader, cancel func()) {
	go func() {
		_, _ = io.Copy(io.Discard, r)
		cancel()
	}()
}
