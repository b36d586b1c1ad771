package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the gatehouse binary built once for the tests that run it as a
// real process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatehouse:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running gatehouse process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `gatehouse serve` in dir with env and waits for /healthz.
func start(t *testing.T, dir string, env map[string]string) *proc {
	t.Helper()
	addr := env["GATEHOUSE_ADDR"]
	if addr == "" {
		addr = freePort(t)
	}
	cmd := exec.Command(binary, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GATEHOUSE_ADDR="+addr)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, url: "http://" + addr, logs: logs, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("gatehouse logs:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err // for the cleanup
			t.Fatalf("gatehouse exited early: %v\n%s", err, logs.String())
		default:
		}
		if r, err := http.Get(p.url + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("gatehouse did not become healthy:\n%s", logs.String())
	return nil
}

func (p *proc) call(method, path, bearer string, body any) (int, map[string]any) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestServe_ZeroConfig(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, map[string]string{"GATEHOUSE_FAMILYS": "native"})
	keyFile := filepath.Join(dir, "gatehouse-data", "admin.key")
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("admin key file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse-data", "gatehouse.db")); err != nil {
		t.Fatalf("database: %v", err)
	}
	key, _ := os.ReadFile(keyFile)
	adminKey := strings.TrimSpace(string(key))
	logs := p.logs.String()
	if !strings.Contains(logs, keyFile) && !strings.Contains(logs, filepath.Join("gatehouse-data", "admin.key")) {
		t.Fatalf("admin key path not logged:\n%s", logs)
	}
	if strings.Contains(logs, adminKey) {
		t.Fatal("admin key logged")
	}
	// Where the database is, and the misspelled variable with the one meant.
	if !strings.Contains(logs, `"database":"sqlite:`+filepath.Join(dir, "gatehouse-data", "gatehouse.db")+`"`) {
		t.Errorf("the database's location is not logged:\n%s", logs)
	}
	// The default issuer's host is an IP address: passkeys are off, and the log says why.
	if !strings.Contains(logs, "passkeys are off: the issuer's host 127.0.0.1 is an IP address") {
		t.Errorf("no line says that passkeys are off:\n%s", logs)
	}
	if !strings.Contains(logs, `"name":"GATEHOUSE_FAMILYS","closest":"GATEHOUSE_FAMILIES"`) {
		t.Errorf("no warning about GATEHOUSE_FAMILYS:\n%s", logs)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("log line is not JSON: %q", line)
		}
	}
	if code, _ := p.call("GET", "/readyz", "", nil); code != 200 {
		t.Fatalf("readyz: %d", code)
	}
	if code, m := p.call("GET", "/admin/tenants", adminKey, nil); code != 200 || !strings.Contains(fmt.Sprint(m), "default") {
		t.Fatalf("default tenant: %d %v", code, m)
	}
	if code, m := p.call("GET", "/.well-known/openid-configuration", "", nil); code != 200 || m["issuer"] != p.url {
		t.Fatalf("discovery: %d %v", code, m)
	}
	// SIGTERM: graceful stop, exit 0.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
		p.done <- nil
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

func TestServe_InvalidConfigNamesKey(t *testing.T) {
	cmd := exec.Command(binary, "serve")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GATEHOUSE_ACCESS_TOKEN_TTL=soon")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "GATEHOUSE_ACCESS_TOKEN_TTL") {
		t.Fatalf("want a failure naming the key, got %v: %s", err, out)
	}
}

// TestDurability_KillNine refreshes from several clients in a loop, kills
// the process with SIGKILL, restarts it on the same data directory and
// checks that every client's last received refresh token still works.
//
// A client whose request was in flight at the kill may have had its token
// rotated by a commit whose answer never arrived: that is what the reuse
// leeway is for. With a leeway, every client must continue (the retry gets
// the committed pair). Without one (the default), every client that was not
// in flight must continue; the test paces the clients so most are idle.
func TestDurability_KillNine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		leeway string
		pause  time.Duration
	}{
		{"leeway", "60s", 0},
		{"no leeway", "0s", 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) { killNine(t, tc.leeway, tc.pause) })
	}
}

func killNine(t *testing.T, leeway string, pause time.Duration) {
	dir := t.TempDir()
	env := map[string]string{"GATEHOUSE_ADMIN_KEY": "durability-admin-key-0123456789abcdef", "GATEHOUSE_REFRESH_REUSE_LEEWAY": leeway}
	p := start(t, dir, env)
	if code, m := p.call("POST", "/admin/users", env["GATEHOUSE_ADMIN_KEY"], map[string]any{"username": "alice", "password": "correct horse battery"}); code != 201 {
		t.Fatalf("create user: %d %v", code, m)
	}
	const clients = 6
	last := make([]string, clients)
	for i := range last {
		code, m := p.call("POST", "/auth/login", "", map[string]any{"username": "alice", "password": "correct horse battery"})
		if code != 200 {
			t.Fatalf("login: %d %v", code, m)
		}
		last[i] = m["refresh_token"].(string)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	rotations := make([]int, clients)
	inFlight := make([]bool, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(pause):
				}
				inFlight[i] = true
				code, m := p.call("POST", "/auth/refresh", "", map[string]any{"refresh_token": last[i]})
				if code == 0 {
					return // the server is gone mid-request: inFlight stays true
				}
				if code != 200 {
					t.Errorf("client %d: refresh %d %v", i, code, m)
					return
				}
				last[i] = m["refresh_token"].(string) // only what the server answered counts
				rotations[i]++
				inFlight[i] = false
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil
	close(stop)
	wg.Wait()
	total := 0
	for _, n := range rotations {
		total += n
	}
	if total < clients {
		t.Fatalf("only %d rotations before the kill", total)
	}
	q := start(t, dir, env)
	checked := 0
	for i, tok := range last {
		code, m := q.call("POST", "/auth/refresh", "", map[string]any{"refresh_token": tok})
		if code == 200 {
			checked++
			continue
		}
		if leeway == "0s" && inFlight[i] {
			continue // its answer was lost with the process; only a leeway can recover it
		}
		t.Fatalf("client %d: last received token lost after kill -9 (%d rotations): %d %v", i, rotations[i], code, m)
	}
	if checked == 0 {
		t.Fatal("no client could be checked")
	}
	t.Logf("leeway %s: %d rotations before kill -9; %d of %d clients continued after restart", leeway, total, checked, clients)
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	// run returns the standard output (usage goes to stderr, which is
	// appended when stdout is empty).
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if stdout.Len() == 0 {
			return stderr.String(), err
		}
		return stdout.String(), err
	}
	if out, err := run("", "version"); err != nil || !strings.HasPrefix(out, "gatehouse ") {
		t.Fatalf("version: %v %s", err, out)
	}
	for _, c := range [][]string{{"serve", "--help"}, {"migrate", "--help"}, {"user", "create", "--help"}, {"keys", "rotate", "--help"}, {"import", "--help"}, {"export", "--help"}, {"version", "--help"}} {
		if out, _ := run("", c...); !strings.Contains(out, "Usage: gatehouse") {
			t.Fatalf("%v: no usage: %s", c, out)
		}
	}
	if out, err := run("", "migrate"); err != nil || !strings.Contains(out, "sqlite") {
		t.Fatalf("migrate: %v %s", err, out)
	}
	out, err := run("correct horse battery\n", "user", "create", "--username", "root", "--roles", "admin", "--password-stdin")
	if err != nil {
		t.Fatalf("user create: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var created map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &created); err != nil || created["username"] != "root" {
		t.Fatalf("user create output: %s", out)
	}
	if out, err := run("", "user", "create", "--username", "root", "--password", "another password"); err == nil {
		t.Fatalf("duplicate user created: %s", out)
	}
	out, err = run("", "keys", "rotate")
	if err != nil {
		t.Fatalf("keys rotate: %v %s", err, out)
	}
	kid := strings.TrimSpace(out)
	p := start(t, dir, nil)
	code, m := p.call("POST", "/auth/login", "", map[string]any{"username": "root", "password": "correct horse battery"})
	if code != 200 {
		t.Fatalf("login of the CLI-created user: %d %v", code, m)
	}
	if kid == "" || strings.ContainsAny(kid, " \n{") {
		t.Fatalf("keys rotate printed %q, want the new kid", out)
	}
	resp, err := http.Get(p.url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), kid) {
		t.Fatalf("rotated key %s not published: %s", kid, b)
	}

	// With an activation delay the new key is published at once and signs
	// only later: a server started now publishes it and signs with kid.
	delayed := exec.Command(binary, "keys", "rotate")
	delayed.Dir = dir
	delayed.Env = append(os.Environ(), "GATEHOUSE_KEY_ACTIVATION_DELAY=1h")
	var dout, derr bytes.Buffer
	delayed.Stdout, delayed.Stderr = &dout, &derr
	if err := delayed.Run(); err != nil {
		t.Fatalf("keys rotate with a delay: %v %s", err, derr.String())
	}
	pending := strings.TrimSpace(dout.String())
	if pending == "" || pending == kid || !strings.Contains(derr.String(), "signs new tokens from") {
		t.Fatalf("keys rotate with a delay printed %q, %q", dout.String(), derr.String())
	}
	q := start(t, dir, nil)
	code, m = q.call("POST", "/auth/login", "", map[string]any{"username": "root", "password": "correct horse battery"})
	if code != 200 {
		t.Fatalf("login during the delay: %d %v", code, m)
	}
	at, _ := m["access_token"].(string)
	if h := decodeSegment(t, strings.Split(at, ".")[0]); !strings.Contains(h, `"kid":"`+kid+`"`) {
		t.Fatalf("during the delay the token header is %s, want kid %s", h, kid)
	}
	resp, err = http.Get(q.url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), pending) {
		t.Fatalf("key %s awaiting activation not published: %s", pending, b)
	}
	if _, err := run("", "nonsense"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func decodeSegment(t *testing.T, seg string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode JWT segment: %v", err)
	}
	return string(b)
}
