// Package servertest starts real Gatehouse servers for tests: a real store
// (SQLite in a temporary directory, or a fresh PostgreSQL database), a real
// net/http server on loopback, a clock the test moves, and captured logs.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
	"go.opentelemetry.io/otel/trace"
)

// AdminKey is the admin key of every test server.
const AdminKey = "test-admin-key-0123456789abcdefghijklmnop"

// MasterKey is the master key of every test server.
const MasterKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// Clock is a clock the test sets and moves.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t.UTC().Truncate(time.Microsecond)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d).Truncate(time.Microsecond)
	c.mu.Unlock()
}

// Logs collects everything the server logged.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns the logs so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Options select the store and adjust the configuration.
type Options struct {
	// Postgres runs the server on a fresh PostgreSQL database instead of SQLite.
	Postgres bool
	// Env are configuration variables (GATEHOUSE_*) applied over the defaults.
	Env map[string]string
	// Start is the initial time of the clock (default 2030-01-01T00:00:00Z).
	Start time.Time
	// RealClock uses the system clock instead of a test clock.
	RealClock bool
	// TracerProvider turns tracing on (server.Options.TracerProvider).
	TracerProvider trace.TracerProvider
}

// Env is a running test server.
type Env struct {
	T       testing.TB
	Server  *server.Server
	HTTP    *httptest.Server
	URL     string
	Clock   *Clock
	Logs    *Logs
	DataDir string
	// DB is the GATEHOUSE_DB the server runs on (see SQL).
	DB string
}

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"GATEHOUSE_DATA_DIR":   dir,
		"GATEHOUSE_DB":         "sqlite:" + filepath.Join(dir, "gatehouse.db"),
		"GATEHOUSE_ADMIN_KEY":  AdminKey,
		"GATEHOUSE_MASTER_KEY": MasterKey,
		"GATEHOUSE_ISSUER":     "http://gatehouse.test",
		"GATEHOUSE_LOG_LEVEL":  "debug",
		// Test providers (fedtest) listen on 127.0.0.1; tests of the
		// address rule set it back to false.
		"GATEHOUSE_PROVIDER_ALLOW_INSECURE": "true",
	}
	if opts.Postgres {
		env["GATEHOUSE_DB"] = pgtest.NewDatabase(t)
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	cfg, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	start := opts.Start
	if start.IsZero() {
		start = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	clock := NewClock(start)
	logs := &Logs{}
	sopts := server.Options{
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HashParams: &password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32},

		TracerProvider: opts.TracerProvider,
	}
	if !opts.RealClock {
		sopts.Clock = clock
	}
	srv, err := server.New(context.Background(), cfg, sopts)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return &Env{T: t, Server: srv, HTTP: hs, URL: hs.URL, Clock: clock, Logs: logs, DataDir: dir, DB: env["GATEHOUSE_DB"]}
}

// Response is a test response with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object (status %d): %q", r.Status, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode response (status %d): %v: %q", r.Status, err, r.Body)
	}
}

// Request is a request to send.
type Request struct {
	Method string
	Path   string
	// JSON is marshalled as the body with Content-Type application/json
	// unless Body is set.
	JSON   any
	Body   io.Reader
	Header map[string]string
	Bearer string
}

// Do sends a request to the server.
func (e *Env) Do(req Request) *Response {
	e.T.Helper()
	body := req.Body
	ctype := ""
	if body == nil && req.JSON != nil {
		b, err := json.Marshal(req.JSON)
		if err != nil {
			e.T.Fatalf("marshal: %v", err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	hr, err := http.NewRequest(req.Method, e.URL+req.Path, body)
	if err != nil {
		e.T.Fatalf("request: %v", err)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	if req.Bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Bearer)
	}
	for k, v := range req.Header {
		hr.Header.Set(k, v)
	}
	resp, err := e.HTTP.Client().Do(hr)
	if err != nil {
		e.T.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatalf("read body: %v", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Admin sends an admin request with the admin key for tenant ("" = default).
func (e *Env) Admin(method, path, tenant string, body any) *Response {
	e.T.Helper()
	h := map[string]string{}
	if tenant != "" {
		h["X-Tenant-ID"] = tenant
	}
	return e.Do(Request{Method: method, Path: path, JSON: body, Bearer: AdminKey, Header: h})
}

// CreateUser creates a user through the admin API and returns its id.
func (e *Env) CreateUser(tenant string, fields map[string]any) string {
	e.T.Helper()
	r := e.Admin("POST", "/admin/users", tenant, fields)
	if r.Status != http.StatusCreated {
		e.T.Fatalf("create user: %d %s", r.Status, r.Body)
	}
	return r.JSON(e.T)["id"].(string)
}

// Tokens is the token part of a LoginResponse.
type Tokens struct {
	AccessToken  string         `json:"access_token"`
	RefreshToken string         `json:"refresh_token"`
	TokenType    string         `json:"token_type"`
	ExpiresIn    int            `json:"expires_in"`
	User         map[string]any `json:"user"`
}

// Login signs in with a password and fails the test unless it succeeds.
func (e *Env) Login(tenant, username, pw string) Tokens {
	e.T.Helper()
	r := e.Do(Request{Method: "POST", Path: "/auth/login", JSON: map[string]any{"username": username, "password": pw},
		Header: tenantHeader(tenant)})
	if r.Status != http.StatusOK {
		e.T.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	var tk Tokens
	r.Decode(e.T, &tk)
	return tk
}

// Refresh presents a refresh token to POST /auth/refresh.
func (e *Env) Refresh(tenant, refresh string) *Response {
	e.T.Helper()
	return e.Do(Request{Method: "POST", Path: "/auth/refresh", JSON: map[string]any{"refresh_token": refresh}, Header: tenantHeader(tenant)})
}

// Me calls GET /auth/me with an access token.
func (e *Env) Me(tenant, access string) *Response {
	e.T.Helper()
	return e.Do(Request{Method: "GET", Path: "/auth/me", Bearer: access, Header: tenantHeader(tenant)})
}

func tenantHeader(t string) map[string]string {
	if t == "" {
		return nil
	}
	return map[string]string{"X-Tenant-ID": t}
}

// LogsContain reports whether s appears in the logs.
func (e *Env) LogsContain(s string) bool { return strings.Contains(e.Logs.String(), s) }
