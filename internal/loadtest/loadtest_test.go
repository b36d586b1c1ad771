package loadtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/loadtest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// baselineAddrEnv makes the test binary the baseline process.
const baselineAddrEnv = "GATEHOUSE_LOADTEST_BASELINE_ADDR"

func TestMain(m *testing.M) {
	if addr := os.Getenv(baselineAddrEnv); addr != "" {
		ctx, cancel := context.WithCancel(context.Background())
		loadtest.WatchStdin(os.Stdin, cancel)
		if err := loadtest.ServeBaseline(ctx, addr, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// selfBaseline runs this test binary as the baseline process.
func selfBaseline(ctx context.Context, addr string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), baselineAddrEnv+"="+addr)
	return cmd
}

// newServer starts a real server on real time (rotation needs a moving clock).
func newServer(t *testing.T) *servertest.Env {
	t.Helper()
	return servertest.New(t, servertest.Options{RealClock: true})
}

// cfgFor is a short run against env: bounded by its request count, with a
// duration that only guards against a stuck run (the race detector makes
// SQLite many times slower).
func cfgFor(env *servertest.Env, mode string) loadtest.Config {
	return loadtest.Config{
		Target: env.URL, Mode: mode, Concurrency: 4, Duration: 30 * time.Second, MaxRequests: 60,
		AdminKey: servertest.AdminKey, BaselineCommand: selfBaseline,
	}
}

// metric reads one sample of the server's /metrics, 0 when absent.
func metric(t *testing.T, env *servertest.Env, series string) float64 {
	t.Helper()
	r := env.Do(servertest.Request{Method: "GET", Path: "/metrics"})
	for _, line := range strings.Split(string(r.Body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return v
		}
	}
	return 0
}

// userCount is the number of users of the default tenant.
func userCount(t *testing.T, env *servertest.Env) int {
	t.Helper()
	r := env.Admin("GET", "/admin/users?limit=1000", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list users: %d %s", r.Status, r.Body)
	}
	users, _ := r.JSON(t)["users"].([]any)
	return len(users)
}

func TestRun_ChainRotatesEveryClientsOwnChain(t *testing.T) {
	env := newServer(t)
	before := userCount(t, env)
	res, err := loadtest.Run(context.Background(), cfgFor(env, loadtest.ModeChain))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Ops != 60 || res.Requests != 60 || len(res.Errors) != 0 || res.Relogins != 0 {
		t.Fatalf("want 60 successful refreshes and no error, got %+v", res)
	}
	if res.OpsPerSec <= 0 || res.Latency.P50 <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max {
		t.Fatalf("implausible figures: %+v", res)
	}
	// The server rotated exactly that many tokens and saw no reuse: each
	// client always presented its newest token.
	if got := metric(t, env, `gatehouse_refreshes_total{outcome="rotated"}`); got != 60 {
		t.Fatalf("server rotated %v tokens, want 60", got)
	}
	if got := metric(t, env, "gatehouse_refresh_reuse_detected_total"); got != 0 {
		t.Fatalf("server detected %v reuses, want 0", got)
	}
	if res.MaxRSSBytes <= 0 {
		t.Fatalf("no resident memory sampled from /metrics")
	}
	if after := userCount(t, env); after != before {
		t.Fatalf("the run left users behind: %d before, %d after", before, after)
	}
}

func TestRun_ChainSurvivesBrokenChains(t *testing.T) {
	env := newServer(t)
	cfg := cfgFor(env, loadtest.ModeChain)
	cfg.MaxRequests, cfg.Duration, cfg.Concurrency = 0, 1500*time.Millisecond, 2
	// Revoke every session of every user now and then: each client's next
	// refresh fails, is counted by status, and the client signs in again.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			r := env.Admin("GET", "/admin/users?limit=1000", "", nil)
			users, _ := r.JSON(t)["users"].([]any)
			for _, u := range users {
				id := u.(map[string]any)["id"].(string)
				env.Admin("DELETE", "/admin/users/"+id+"/sessions", "", nil)
			}
		}
	}()
	res, err := loadtest.Run(context.Background(), cfg)
	close(stop)
	<-done
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	// A revoked token is an invalid grant: 400 in the native family.
	if res.Errors["400"] == 0 || res.Relogins != res.Errors["400"] || res.Ops == 0 {
		t.Fatalf("want 400s each followed by a relogin, and successful refreshes: %+v", res)
	}
	if res.Requests != res.Ops+res.Errors["400"] {
		t.Fatalf("requests %d != ops %d + errors %v", res.Requests, res.Ops, res.Errors)
	}
}

func TestRun_VerifyHotUsesBothEndpoints(t *testing.T) {
	env := newServer(t)
	cfg := cfgFor(env, loadtest.ModeVerify)
	res, err := loadtest.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Ops != 60 || len(res.Errors) != 0 || res.WorkingSet != "hot" || res.Endpoint != loadtest.EndpointBoth {
		t.Fatalf("want 60 verifications without error: %+v", res)
	}
	app, me := res.ByKind[loadtest.EndpointApp], res.ByKind[loadtest.EndpointMe]
	// Each client alternates endpoints, so the split is close to even.
	if app.Ops < 20 || me.Ops < 20 || app.Ops+me.Ops != 60 {
		t.Fatalf("want about 30 verifications of each endpoint, got app %d, me %d", app.Ops, me.Ops)
	}
	if got := metric(t, env, `gatehouse_http_requests_total{code="200",route="POST /api/v1/app/token/access/verify"}`); got != float64(app.Ops) {
		t.Fatalf("server answered %v access/verify requests, the run counted %d", got, app.Ops)
	}
	if got := metric(t, env, `gatehouse_http_requests_total{code="200",route="GET /auth/me"}`); got != float64(me.Ops) {
		t.Fatalf("server answered %v /auth/me requests, the run counted %d", got, me.Ops)
	}
}

func TestRun_VerifyColdVerifiesEachTokenOnce(t *testing.T) {
	env := newServer(t)
	cfg := cfgFor(env, loadtest.ModeVerify)
	cfg.Cold, cfg.ColdTokens, cfg.MaxRequests, cfg.Endpoint = true, 30, 0, loadtest.EndpointApp
	res, err := loadtest.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	// The run ends when every prepared token has been verified once.
	if res.Ops != 30 || res.Requests != 30 || len(res.Errors) != 0 || res.WorkingSet != "cold" {
		t.Fatalf("want exactly 30 verifications: %+v", res)
	}
	if res.Seconds >= cfg.Duration.Seconds() {
		t.Fatalf("a cold run should end when its tokens are used, it took %.2fs", res.Seconds)
	}
}

func TestRun_LoginKeepsRefreshingMeanwhile(t *testing.T) {
	env := newServer(t)
	cfg := cfgFor(env, loadtest.ModeLogin)
	cfg.MaxRequests, cfg.LoginUsers, cfg.Duration = 40, 3, 2*time.Second
	res, err := loadtest.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	// Bounded by the request count or the duration, whichever comes first.
	if res.Requests > 40 || res.Ops == 0 || res.Ops+res.Errors["503"]+res.Errors["429"] != res.Requests {
		t.Fatalf("want at most 40 sign-ins, each answered 200 (or 429/503): %+v", res)
	}
	if res.SideRefresh == nil || res.SideRefresh.Ops == 0 || len(res.SideRefresh.Errors) != 0 {
		t.Fatalf("want refreshes served meanwhile: %+v", res.SideRefresh)
	}
}

func TestRun_BaselineAndCompare(t *testing.T) {
	env := newServer(t)
	cfg := cfgFor(env, loadtest.ModeChain)
	cfg.Compare = true
	res, err := loadtest.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	b := res.Baseline
	if b == nil || b.Mode != loadtest.ModeBaseline || b.Ops != 60 || len(b.Errors) != 0 || b.Concurrency != 4 {
		t.Fatalf("want a baseline of 60 requests at the same concurrency: %+v", b)
	}
	if b.Target == env.URL || !strings.HasPrefix(b.Target, "http://127.0.0.1:") {
		t.Fatalf("the baseline must be served by its own process on loopback, got %q", b.Target)
	}
	if want := res.OpsPerSec / b.OpsPerSec; res.Ratio != want || res.Ratio <= 0 {
		t.Fatalf("ratio %v, want %v", res.Ratio, want)
	}
	var out bytes.Buffer
	if err := res.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, `{"mode":"chain"`) || !strings.Contains(last, `"ratio_to_baseline":`) {
		t.Fatalf("the last line must be the JSON result: %q", last)
	}
	if !strings.Contains(out.String(), "% of baseline") {
		t.Fatalf("the text must give the ratio: %s", out.String())
	}
}

func TestRun_CompareInSlices(t *testing.T) {
	env := newServer(t)
	cfg := cfgFor(env, loadtest.ModeVerify)
	cfg.Compare, cfg.Slices, cfg.MaxRequests, cfg.Duration = true, 3, 0, 600*time.Millisecond
	res, err := loadtest.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	// Each side ran for its three slices: about the duration in all, not three times it.
	for _, r := range []loadtest.Result{res, *res.Baseline} {
		if r.Seconds < 0.6 || r.Seconds > 5 || r.Ops == 0 || len(r.Errors) != 0 {
			t.Fatalf("%s: %.2fs, %d ops, errors %v", r.Mode, r.Seconds, r.Ops, r.Errors)
		}
	}
	if res.Ratio <= 0 {
		t.Fatalf("no ratio: %+v", res)
	}
}

func TestRun_BaselineAlone(t *testing.T) {
	res, err := loadtest.Run(context.Background(), loadtest.Config{
		Mode: loadtest.ModeBaseline, Concurrency: 2, Duration: time.Second, MaxRequests: 50, BaselineCommand: selfBaseline,
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Ops != 50 || len(res.Errors) != 0 {
		t.Fatalf("want 50 answers: %+v", res)
	}
}

func TestRun_Refusals(t *testing.T) {
	env := newServer(t)
	for name, tc := range map[string]struct {
		mutate func(*loadtest.Config)
		want   string
	}{
		"remote target":     {func(c *loadtest.Config) { c.Target = "http://192.0.2.1:8080" }, "not a loopback address"},
		"remote name":       {func(c *loadtest.Config) { c.Target = "http://example.com" }, "not a loopback address"},
		"unknown mode":      {func(c *loadtest.Config) { c.Mode = "stress" }, "mode"},
		"no admin key":      {func(c *loadtest.Config) { c.AdminKey = "" }, "admin key"},
		"wrong admin key":   {func(c *loadtest.Config) { c.AdminKey = "wrong" }, "status 401"},
		"zero clients":      {func(c *loadtest.Config) { c.Concurrency = -1 }, "concurrency"},
		"too many clients":  {func(c *loadtest.Config) { c.Concurrency = loadtest.MaxConcurrency + 1 }, "concurrency"},
		"negative bound":    {func(c *loadtest.Config) { c.MaxRequests = -1 }, "max requests"},
		"too many slices":   {func(c *loadtest.Config) { c.Slices = 5000 }, "slices"},
		"unknown endpoint":  {func(c *loadtest.Config) { c.Mode, c.Endpoint = loadtest.ModeVerify, "x" }, "endpoint"},
		"baseline, no exec": {func(c *loadtest.Config) { c.Mode, c.BaselineCommand = loadtest.ModeBaseline, nil }, "baseline"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := cfgFor(env, loadtest.ModeChain)
			tc.mutate(&cfg)
			_, err := loadtest.Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error mentioning %q, got %v", tc.want, err)
			}
		})
	}
}

func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct {
		target string
		remote bool
		ok     bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://localhost:8080", false, true},
		{"https://[::1]:8443", false, true},
		{"http://127.0.0.2", false, true},
		{"http://10.0.0.1:8080", false, false},
		{"http://10.0.0.1:8080", true, true},
		{"http://auth.example.com", false, false},
		{"ftp://127.0.0.1", true, false},
		{"127.0.0.1:8080", false, false},
		{"http://", true, false},
	} {
		err := loadtest.CheckTarget(tc.target, tc.remote)
		if (err == nil) != tc.ok {
			t.Errorf("CheckTarget(%q, %v) = %v, want ok=%v", tc.target, tc.remote, err, tc.ok)
		}
	}
}

func TestServeBaseline_AnswersAndRefusesRemote(t *testing.T) {
	if err := loadtest.ServeBaseline(context.Background(), "0.0.0.0:0", io.Discard); err == nil {
		t.Fatal("the baseline must refuse a non-loopback address")
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- loadtest.ServeBaseline(ctx, "127.0.0.1:0", pw) }()
	line := make([]byte, 128)
	n, err := pr.Read(line)
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(strings.TrimPrefix(string(line[:n]), "baseline listening on "))
	resp, err := http.Post(url+"/baseline", "application/json", strings.NewReader(`{"refresh_token":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != `{"status":"ok"}` {
		t.Fatalf("baseline answered %d %q", resp.StatusCode, body)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestRun_AuthorizeAlternatesRedirectAndExchange(t *testing.T) {
	env := newServer(t)
	res, err := loadtest.Run(context.Background(), cfgFor(env, loadtest.ModeAuthorize))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 || res.Ops < 60 {
		t.Fatalf("ops %d, errors %v", res.Ops, res.Errors)
	}
	a, x := res.ByKind[loadtest.KindAuthorize], res.ByKind[loadtest.KindExchange]
	if a.Ops < 28 || x.Ops < 28 {
		t.Errorf("authorize %d, exchange %d ops; want about half each", a.Ops, x.Ops)
	}
	if n := metric(t, env, `gatehouse_logins_total{outcome="success"}`); n < 4 {
		t.Errorf("%v successful sign-ins, want one per browser", n)
	}
}
