// Package loadtest drives a running Gatehouse server with concurrent clients
// and measures what it sustains: refresh-token rotation chains, access-token
// verification over a hot or cold working set, password sign-ins, and a bare
// HTTP handler served by a separate process as the baseline every other
// figure is divided by.
package loadtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Modes of a run.
const (
	ModeChain     = "chain"     // each client signs in once, then rotates its own refresh chain
	ModeVerify    = "verify"    // access-token verification over a working set
	ModeLogin     = "login"     // password sign-ins
	ModeAuthorize = "authorize" // signed-in browsers: the authorization request, then the code exchange
	ModeBaseline  = "baseline"  // the same client loop against a bare handler
)

// Verification endpoints of ModeVerify.
const (
	EndpointApp  = "app"  // POST /api/v1/app/token/access/verify (HTTP Basic client auth)
	EndpointMe   = "me"   // GET /auth/me
	EndpointBoth = "both" // alternately
)

// Defaults of Config.
const (
	DefaultTarget      = "http://127.0.0.1:8080"
	DefaultConcurrency = 16
	DefaultDuration    = 10 * time.Second
	DefaultHotSet      = 16
	DefaultColdTokens  = 20000
	DefaultLoginUsers  = 8
	// MaxConcurrency bounds -c: far above any useful figure, far below
	// what would exhaust the client machine's ports.
	MaxConcurrency = 4096
	// MaxDuration bounds -d.
	MaxDuration = time.Hour
	// RequestTimeout bounds every single request of a run.
	RequestTimeout = 30 * time.Second
)

// Config describes one run.
type Config struct {
	// Target is the base URL of the server (not used by ModeBaseline).
	Target string
	// Mode is one of the Mode constants.
	Mode string
	// Concurrency is the number of concurrent clients.
	Concurrency int
	// Duration bounds the measured phase.
	Duration time.Duration
	// MaxRequests bounds the measured phase by operations; 0 = no bound.
	MaxRequests int64
	// AdminKey authenticates the preparation (users, clients) at /admin/*.
	AdminKey string
	// Tenant is the tenant of every user and client the run creates.
	Tenant string
	// AllowRemote admits a target that is not a loopback address.
	AllowRemote bool
	// Cold makes ModeVerify verify each token once instead of cycling
	// over a small hot set.
	Cold bool
	// HotSet is the number of tokens of the hot working set.
	HotSet int
	// ColdTokens is the number of tokens prepared for a cold run; the
	// run stops when each has been verified once.
	ColdTokens int
	// Endpoint selects ModeVerify's endpoint: EndpointApp, EndpointMe or EndpointBoth.
	Endpoint string
	// LoginUsers is the number of users ModeLogin signs in (round robin).
	LoginUsers int
	// KeepData leaves the users and clients of the run in place.
	KeepData bool
	// Compare also runs ModeBaseline with the same concurrency and
	// duration first, so the result carries its ratio to the baseline.
	Compare bool
	// Slices splits the duration into this many slices, the mode's
	// alternating with the baseline's (with Compare), so that a machine
	// whose load drifts during the run weighs on both alike; default 1.
	Slices int
	// BaselineCommand starts the baseline server process (see
	// StartBaseline); required by ModeBaseline and Compare.
	BaselineCommand BaselineCommand
	// Progress, when set, receives one line per preparation step.
	Progress func(format string, args ...any)
}

// normalise validates c and fills in the defaults.
func (c Config) normalise() (Config, error) {
	if c.Target == "" {
		c.Target = DefaultTarget
	}
	c.Target = strings.TrimRight(c.Target, "/")
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.HotSet == 0 {
		c.HotSet = DefaultHotSet
	}
	if c.ColdTokens == 0 {
		c.ColdTokens = DefaultColdTokens
	}
	if c.LoginUsers == 0 {
		c.LoginUsers = DefaultLoginUsers
	}
	if c.Slices == 0 {
		c.Slices = 1
	}
	if c.Endpoint == "" {
		c.Endpoint = EndpointBoth
	}
	if c.Tenant == "" {
		c.Tenant = "default"
	}
	if c.Progress == nil {
		c.Progress = func(string, ...any) {}
	}
	switch {
	case c.Mode != ModeChain && c.Mode != ModeVerify && c.Mode != ModeLogin && c.Mode != ModeAuthorize && c.Mode != ModeBaseline:
		return c, fmt.Errorf("mode %q: want chain, verify, login, authorize or baseline", c.Mode)
	case c.Concurrency < 1 || c.Concurrency > MaxConcurrency:
		return c, fmt.Errorf("concurrency %d: want 1 to %d", c.Concurrency, MaxConcurrency)
	case c.Duration < 0 || c.Duration > MaxDuration:
		return c, fmt.Errorf("duration %s: want at most %s", c.Duration, MaxDuration)
	case c.Slices < 1 || c.Slices > 1000 || c.Duration/time.Duration(c.Slices) < 10*time.Millisecond:
		return c, fmt.Errorf("slices %d: want 1 to 1000, each at least 10ms of the duration", c.Slices)
	case c.MaxRequests < 0:
		return c, fmt.Errorf("max requests %d: must not be negative", c.MaxRequests)
	case c.HotSet < 1 || c.ColdTokens < 1 || c.LoginUsers < 1:
		return c, errors.New("hot set, cold tokens and login users must be positive")
	case c.Endpoint != EndpointApp && c.Endpoint != EndpointMe && c.Endpoint != EndpointBoth:
		return c, fmt.Errorf("endpoint %q: want app, me or both", c.Endpoint)
	case (c.Mode == ModeBaseline || c.Compare) && c.BaselineCommand == nil:
		return c, errors.New("the baseline needs a command that starts its server")
	}
	if c.Mode != ModeBaseline {
		if err := CheckTarget(c.Target, c.AllowRemote); err != nil {
			return c, err
		}
		if c.AdminKey == "" {
			return c, errors.New("an admin key is required to prepare users")
		}
	}
	return c, nil
}

// CheckTarget accepts an http(s) URL whose host is a loopback address (an
// IP literal or "localhost"); any other host only when allowRemote.
func CheckTarget(target string, allowRemote bool) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("target %q: want an http:// or https:// URL", target)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("target %q: no host", target)
	}
	if allowRemote || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("target %q is not a loopback address; pass --allow-remote to load a remote server", target)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
