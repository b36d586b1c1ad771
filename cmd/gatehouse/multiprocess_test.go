package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

const (
	testMasterKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	testAdminKey  = "multi-process-admin-key-0123456789abcdef"
)

func pgEnv(dsn string) map[string]string {
	return map[string]string{
		"GATEHOUSE_DB":                  dsn,
		"GATEHOUSE_MASTER_KEY":          testMasterKey,
		"GATEHOUSE_ADMIN_KEY":           testAdminKey,
		"GATEHOUSE_ISSUER":              "http://gatehouse.test",
		"GATEHOUSE_KEY_RELOAD_INTERVAL": "1s",
		"GATEHOUSE_DB_TIMEOUT":          "2s",
	}
}

// eventually retries check every 50 ms until it returns true or d passes.
func eventually(d time.Duration, check func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if check() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMultiProcess runs two Gatehouse processes on one PostgreSQL database.
func TestMultiProcess(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	env := pgEnv(dsn)
	a := start(t, t.TempDir(), env)
	b := start(t, t.TempDir(), env)
	if code, m := a.call("POST", "/admin/users", testAdminKey, map[string]any{"username": "alice", "password": "correct horse battery"}); code != 201 {
		t.Fatalf("create user: %d %v", code, m)
	}
	login := func(p *proc) map[string]any {
		code, m := p.call("POST", "/auth/login", "", map[string]any{"username": "alice", "password": "correct horse battery"})
		if code != 200 {
			t.Fatalf("login: %d %v", code, m)
		}
		return m
	}
	refresh := func(p *proc, tok string) (int, map[string]any) {
		return p.call("POST", "/auth/refresh", "", map[string]any{"refresh_token": tok})
	}

	// Login on A, refresh on B, and each verifies the other's tokens.
	first := login(a)
	code, second := refresh(b, first["refresh_token"].(string))
	if code != 200 {
		t.Fatalf("refresh on B of A's token: %d %v", code, second)
	}
	if code, _ := a.call("GET", "/auth/me", second["access_token"].(string), nil); code != 200 {
		t.Fatalf("A refuses B's access token: %d", code)
	}

	// Reuse of the first token on A kills the family on both.
	if code, _ := refresh(a, first["refresh_token"].(string)); code != 400 {
		t.Fatalf("reuse on A: %d", code)
	}
	newest := second["access_token"].(string)
	if !eventually(time.Second, func() bool { c, _ := b.call("GET", "/auth/me", newest, nil); return c == 401 }) {
		t.Fatal("B still accepts the revoked family's access token a second after the reuse")
	}
	if code, _ := refresh(b, second["refresh_token"].(string)); code != 400 {
		t.Fatalf("B rotated a token of the revoked family: %d", code)
	}

	// 20 concurrent refreshes of one token, split across A and B: one winner.
	tok := login(b)["refresh_token"].(string)
	var wg sync.WaitGroup
	codes := make([]int, 20)
	gate := make(chan struct{})
	for i := range codes {
		p := a
		if i%2 == 1 {
			p = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			codes[i], _ = refresh(p, tok)
		}()
	}
	close(gate)
	wg.Wait()
	wins := 0
	for _, c := range codes {
		switch c {
		case 200:
			wins++
		case 400:
		default:
			t.Fatalf("concurrent refresh answered %d", c)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of 20 concurrent refreshes across two processes won, want 1 (%v)", wins, codes)
	}

	// A key rotated on A is used by A, accepted by B at once, and published
	// by B within its reload interval.
	code, rot := a.call("POST", "/admin/keys/rotate", testAdminKey, nil)
	if code != 200 {
		t.Fatalf("rotate on A: %d %v", code, rot)
	}
	kid := rot["kid"].(string)
	fresh := login(a)["access_token"].(string)
	if !strings.Contains(jwtHeader(t, fresh), kid) {
		t.Fatalf("A does not sign with the rotated key %s", kid)
	}
	if code, _ := b.call("GET", "/auth/me", fresh, nil); code != 200 {
		t.Fatalf("B refuses a token of the key rotated on A: %d", code)
	}
	if !eventually(5*time.Second, func() bool { return strings.Contains(get(t, b.url+"/.well-known/jwks.json"), kid) }) {
		t.Fatal("B does not publish the key rotated on A")
	}
	if !eventually(5*time.Second, func() bool { return strings.Contains(jwtHeader(t, login(b)["access_token"].(string)), kid) }) {
		t.Fatal("B does not sign with the key rotated on A")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func jwtHeader(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	return decodeSegment(t, h)
}

// cluster is a private PostgreSQL cluster that a test may stop and start.
type cluster struct {
	dir, port, dsn, bin string
}

// newCluster starts a private cluster with scripts/pg.sh (the tests'
// shared cluster must not be stopped under the other tests).
func newCluster(t *testing.T) *cluster {
	t.Helper()
	pgtest.DSN(t) // PostgreSQL tests run where the shared cluster runs
	script, err := filepath.Abs("../../scripts/pg.sh")
	if err != nil {
		t.Fatal(err)
	}
	// pg.sh prints shell-quoted export lines: let bash evaluate them.
	cmd := exec.Command("bash", "-c", `eval "$(bash "$0" start)" && printf '%s\n' "$GATEHOUSE_PG_DIR" "$GATEHOUSE_PG_PORT" "$GATEHOUSE_TEST_POSTGRES_DSN"`, script)
	cmd.Env = withoutPGVars(os.Environ())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("start private PostgreSQL: %v", err)
	}
	c := &cluster{}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) == 3 {
		c.dir, c.port, c.dsn = lines[0], lines[1], lines[2]
	}
	if c.dir == "" || c.port == "" || c.dsn == "" {
		t.Fatalf("unexpected pg.sh output: %s", out)
	}
	c.bin = pgBin(t)
	t.Cleanup(func() {
		stop := exec.Command("bash", script, "stop", c.dir)
		stop.Env = withoutPGVars(os.Environ())
		_ = stop.Run()
	})
	return c
}

func withoutPGVars(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "GATEHOUSE_PG_") && !strings.HasPrefix(e, "GATEHOUSE_TEST_POSTGRES_DSN=") {
			out = append(out, e)
		}
	}
	return out
}

func pgBin(t *testing.T) string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(r)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(dirs) == 0 {
		t.Fatal("pg_ctl not found")
	}
	return dirs[len(dirs)-1]
}

func (c *cluster) pgctl(t *testing.T, args ...string) {
	t.Helper()
	full := append([]string{filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data")}, args...)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--"}, full...)...)
	} else {
		cmd = exec.Command(full[0], full[1:]...)
	}
	cmd.Dir = c.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %v: %v: %s", args, err, out)
	}
}

func (c *cluster) stop(t *testing.T) { c.pgctl(t, "-m", "immediate", "-w", "stop") }

func (c *cluster) start(t *testing.T) {
	c.pgctl(t, "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60", "-o",
		fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1", c.port, c.dir), "start")
}

// TestOutage stops PostgreSQL under a running Gatehouse, checks that it
// answers 503 in each family's style within a bounded time, starts the
// database again and checks that Gatehouse recovers without a restart.
func TestOutage(t *testing.T) {
	c := newCluster(t)
	p := start(t, t.TempDir(), pgEnv(c.dsn))
	if code, m := p.call("POST", "/admin/users", testAdminKey, map[string]any{"username": "alice", "password": "correct horse battery"}); code != 201 {
		t.Fatalf("create user: %d %v", code, m)
	}
	code, tk := p.call("POST", "/auth/login", "", map[string]any{"username": "alice", "password": "correct horse battery"})
	if code != 200 {
		t.Fatalf("login: %d", code)
	}

	c.stop(t)
	if !eventually(10*time.Second, func() bool { code, _ := p.call("GET", "/readyz", "", nil); return code == 503 }) {
		t.Fatal("/readyz does not answer 503 while the database is down")
	}
	if code, _ := p.call("GET", "/healthz", "", nil); code != 200 {
		t.Fatalf("/healthz while the database is down: %d", code)
	}
	for _, req := range []struct {
		method, path, bearer string
		body                 any
	}{
		{"POST", "/auth/login", "", map[string]any{"username": "alice", "password": "correct horse battery"}},
		{"POST", "/auth/refresh", "", map[string]any{"refresh_token": tk["refresh_token"]}},
		{"GET", "/auth/me", tk["access_token"].(string), nil},
		{"GET", "/admin/users", testAdminKey, nil},
	} {
		began := time.Now()
		code, m := p.call(req.method, req.path, req.bearer, req.body)
		if code != 503 || m["error"] != "unavailable" || m["code"] != float64(503) {
			t.Fatalf("%s %s during the outage: %d %v", req.method, req.path, code, m)
		}
		if d := time.Since(began); d > 8*time.Second {
			t.Fatalf("%s %s took %v during the outage", req.method, req.path, d)
		}
	}

	c.start(t)
	if !eventually(30*time.Second, func() bool { code, _ := p.call("GET", "/readyz", "", nil); return code == 200 }) {
		t.Fatal("/readyz did not recover after the database came back")
	}
	if code, m := p.call("POST", "/auth/refresh", "", map[string]any{"refresh_token": tk["refresh_token"]}); code != 200 {
		t.Fatalf("refresh after recovery: %d %v", code, m)
	}
	if code, _ := p.call("POST", "/auth/login", "", map[string]any{"username": "alice", "password": "correct horse battery"}); code != 200 {
		t.Fatalf("login after recovery: %d", code)
	}
}
