package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/loadtest"
)

const loadtestSummary = `Drive a running Gatehouse server with concurrent clients and print ops/s,
p50/p90/p99/max latency, errors by status, and a last line of JSON.

Modes:
  chain     each client signs in once, then refreshes its own chain, always
            presenting the newest refresh token (the realistic rotation load)
  verify    access-token verification over a working set: the app family's
            POST /api/v1/app/token/access/verify and GET /auth/me (--endpoint);
            --hot cycles over a small set, --cold verifies each token once
  login     POST /auth/login with correct passwords, while one extra client
            keeps refreshing (reported as "refreshes meanwhile")
  authorize browsers signed in once through the hosted pages alternate
            GET /oauth2/authorize (single sign-on: 303 with a code) and the
            code's exchange at POST /oauth2/token (PKCE), reported per kind
  baseline  the same client loop against a bare net/http handler that this
            command serves in a separate process

Figures depend on the machine: compare them as ratios to the baseline of the
same run (--compare measures it too, with the same -c and -d; --slices N
alternates the two in N slices). The run creates its
own users (and an app client) through the admin API and deletes them at the
end. It refuses targets that are not loopback unless --allow-remote. With
--config (or GATEHOUSE_CONFIG) the server's configuration file gives the
defaults of --target, --admin-key and --data-dir.`

// runLoadtest implements `gatehouse loadtest`.
func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// The hidden --serve-baseline ADDR is the baseline process itself.
	if len(args) == 2 && (args[0] == "--serve-baseline" || args[0] == "-serve-baseline") {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		loadtest.WatchStdin(os.Stdin, cancel)
		return loadtest.ServeBaseline(ctx, args[1], stdout)
	}
	fs := newFlags("loadtest", loadtestSummary, stderr)
	target := fs.String("target", loadtest.DefaultTarget, "base URL of the server")
	mode := fs.String("mode", loadtest.ModeChain, "chain, verify, login, authorize or baseline")
	conc := fs.Int("c", loadtest.DefaultConcurrency, "concurrent clients")
	dur := fs.Duration("d", loadtest.DefaultDuration, "duration of the measured phase")
	maxReq := fs.Int64("max-requests", 0, "stop after this many operations (0: no bound)")
	adminKey := fs.String("admin-key", "", "admin key (default: env GATEHOUSE_ADMIN_KEY, else the file admin.key in --data-dir)")
	dataDir := fs.String("data-dir", "gatehouse-data", "data directory of a local server, where admin.key is read from")
	tenant := fs.String("tenant", "default", "tenant of the users and the client the run creates")
	allowRemote := fs.Bool("allow-remote", false, "allow a target that is not a loopback address")
	hot := fs.Bool("hot", false, "verify: cycle over a small working set (the default)")
	cold := fs.Bool("cold", false, "verify: verify each token once")
	hotSet := fs.Int("hot-set", loadtest.DefaultHotSet, "verify --hot: tokens in the working set")
	coldTokens := fs.Int("cold-tokens", loadtest.DefaultColdTokens, "verify --cold: tokens prepared (the run ends when all are used)")
	endpoint := fs.String("endpoint", loadtest.EndpointBoth, "verify: app, me or both (in turn)")
	loginUsers := fs.Int("login-users", loadtest.DefaultLoginUsers, "login: users signed in round robin")
	keep := fs.Bool("keep-data", false, "leave the run's users and client on the server")
	compare := fs.Bool("compare", false, "measure the baseline too, with the same -c and -d, and print the ratio")
	slices := fs.Int("slices", 1, "with --compare: alternate baseline and mode in this many slices of the duration (steadier ratios on a busy machine)")
	quiet := fs.Bool("quiet", false, "print only the JSON line")
	cfgPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath != "" {
		// The server's configuration supplies what the flags leave out: its
		// address, its admin key and its data directory.
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["target"] {
			*target = "http://" + cfg.Addr
		}
		if !set["admin-key"] && cfg.AdminKey != "" {
			*adminKey = cfg.AdminKey
		}
		if !set["data-dir"] {
			*dataDir = cfg.DataDir
		}
	}
	if *hot && *cold {
		return errors.New("loadtest: --hot and --cold exclude each other")
	}
	key := *adminKey
	if key == "" && *mode != loadtest.ModeBaseline {
		var err error
		if key, err = loadtestAdminKey(*dataDir); err != nil {
			return err
		}
	}
	cfg := loadtest.Config{
		Target: *target, Mode: *mode, Concurrency: *conc, Duration: *dur, MaxRequests: *maxReq,
		AdminKey: key, Tenant: *tenant, AllowRemote: *allowRemote, Cold: *cold, HotSet: *hotSet,
		ColdTokens: *coldTokens, Endpoint: *endpoint, LoginUsers: *loginUsers, KeepData: *keep,
		Compare: *compare, Slices: *slices, BaselineCommand: selfBaseline,
	}
	if !*quiet {
		cfg.Progress = func(format string, a ...any) { fmt.Fprintf(stderr, "loadtest: "+format+"\n", a...) }
	}
	res, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *quiet {
		_, err = fmt.Fprintf(stdout, "%s\n", res.JSON())
		return err
	}
	return res.WriteText(stdout)
}

// loadtestAdminKey reads the admin key from GATEHOUSE_ADMIN_KEY or the
// data directory of a local server.
func loadtestAdminKey(dataDir string) (string, error) {
	if k := os.Getenv("GATEHOUSE_ADMIN_KEY"); k != "" {
		return k, nil
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "admin.key"))
	if err != nil {
		return "", fmt.Errorf("loadtest: no --admin-key, no GATEHOUSE_ADMIN_KEY, and the key file cannot be read: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// selfBaseline runs this very binary as the baseline process.
func selfBaseline(ctx context.Context, addr string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.CommandContext(ctx, exe, "loadtest", "--serve-baseline", addr)
}
