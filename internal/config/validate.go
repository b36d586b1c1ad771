package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate reports every invalid setting of c, each as a *KeyError, joined
// into one error; nil when c is usable. Secret values (keys, the database
// URL) are never quoted in the messages.
// AndroidOriginPrefix starts the WebAuthn origin of an Android app: the
// base64url SHA-256 of its signing certificate follows.
const AndroidOriginPrefix = "android:apk-key-hash:"

func (c Config) Validate() error {
	var errs []error
	bad := func(env, format string, args ...any) {
		errs = append(errs, &KeyError{Env: env, Key: keyOf(env), Err: fmt.Errorf(format, args...)})
	}

	if err := checkAddr(c.Addr); err != nil {
		bad("GATEHOUSE_ADDR", "%v", err)
	}
	if err := checkDB(c.DB); err != nil {
		bad("GATEHOUSE_DB", "%v", err)
	}
	if c.DataDir == "" {
		bad("GATEHOUSE_DATA_DIR", "must not be empty")
	}
	if err := checkIssuer(c.Issuer); err != nil {
		bad("GATEHOUSE_ISSUER", "%v", err)
	}
	if c.AdminKey != "" && len(c.AdminKey) < 32 {
		bad("GATEHOUSE_ADMIN_KEY", "must be at least 32 characters long")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 32 {
		bad("GATEHOUSE_METRICS_TOKEN", "must be at least 32 characters long")
	}
	switch {
	case c.MasterKey != "":
		if k, err := hex.DecodeString(c.MasterKey); err != nil || len(k) != 32 {
			bad("GATEHOUSE_MASTER_KEY", "must be 64 hexadecimal characters (32 bytes)")
		}
	case c.DBKind() == "postgres":
		bad("GATEHOUSE_MASTER_KEY", "is required with a PostgreSQL database (every process must share it)")
	}

	checkEnum := func(env, value string, allowed []string) {
		if !slices.Contains(allowed, value) {
			bad(env, "must be one of %s, got %q", strings.Join(allowed, ", "), value)
		}
	}
	checkEnum("GATEHOUSE_SIGNING_ALG", c.SigningAlg, signingAlgs)
	checkEnum("GATEHOUSE_MFA_MODE", c.MFAMode, mfaModes)
	checkEnum("GATEHOUSE_MFA_RISK_LEVEL", c.MFARiskLevel, mfaRiskLevels)
	checkEnum("GATEHOUSE_LOG_LEVEL", c.LogLevel, logLevels)
	checkEnum("GATEHOUSE_SQLITE_SYNCHRONOUS", c.SQLiteSynchronous, sqliteSyncModes)
	for _, f := range c.Families {
		if !slices.Contains(allFamilies, f) {
			bad("GATEHOUSE_FAMILIES", "unknown family %q (want any of %s)", f, strings.Join(allFamilies, ", "))
		}
	}
	for _, o := range c.WebAuthnOrigins {
		if rest, ok := strings.CutPrefix(o, AndroidOriginPrefix); ok && rest != "" && !strings.ContainsAny(rest, " ,") {
			continue // the origin an Android app's passkey requests carry
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("GATEHOUSE_WEBAUTHN_ORIGINS", "origin %q must be scheme://host[:port], like https://app.example.com, or android:apk-key-hash:<hash>", o)
		}
	}
	if id := c.WebAuthnRPID; id != "" && (strings.ContainsAny(id, ":/ ") || net.ParseIP(id) != nil) {
		bad("GATEHOUSE_WEBAUTHN_RP_ID", "%q must be a host name (a domain, no scheme, port or IP address)", id)
	}
	for _, p := range c.TrustedProxies {
		if !p.IsValid() {
			bad("GATEHOUSE_TRUSTED_PROXIES", "invalid network %q", p.String())
		}
	}

	positive := []struct {
		env string
		d   time.Duration
	}{
		{"GATEHOUSE_ACCESS_TOKEN_TTL", c.AccessTokenTTL},
		{"GATEHOUSE_REFRESH_TOKEN_TTL", c.RefreshTokenTTL},
		{"GATEHOUSE_SESSION_MAX_LIFETIME", c.SessionMaxLifetime},
		{"GATEHOUSE_TICKET_MAX_TTL", c.TicketMaxTTL},
		{"GATEHOUSE_BROWSER_SESSION_TTL", c.BrowserSessionTTL},
		{"GATEHOUSE_BROWSER_SESSION_MAX_LIFETIME", c.BrowserSessionMaxLifetime},
		{"GATEHOUSE_LOGIN_LOCKOUT", c.LoginLockout},
		{"GATEHOUSE_DB_MAX_CONN_LIFETIME", c.DBMaxConnLifetime},
		{"GATEHOUSE_DB_MAX_CONN_IDLE_TIME", c.DBMaxConnIdleTime},
		{"GATEHOUSE_DB_TIMEOUT", c.DBTimeout},
		{"GATEHOUSE_KEY_RELOAD_INTERVAL", c.KeyReloadInterval},
		{"GATEHOUSE_REVOCATION_POLL_INTERVAL", c.RevocationPoll},
		{"GATEHOUSE_SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"GATEHOUSE_WEBHOOK_TIMEOUT", c.WebhookTimeout},
		{"GATEHOUSE_WEBHOOK_RETRY_BASE", c.WebhookRetryBase},
		{"GATEHOUSE_WEBHOOK_POLL_INTERVAL", c.WebhookPoll},
	}
	for _, p := range positive {
		if p.d <= 0 {
			bad(p.env, "must be greater than 0, got %s", p.d)
		}
	}
	// Zero is meaningful for these: no leeway, passwords never expire, no
	// warning window, no grace period, keys that sign at once, the password
	// always asked again.
	nonNegative := []struct {
		env string
		d   time.Duration
	}{
		{"GATEHOUSE_REFRESH_REUSE_LEEWAY", c.RefreshReuseLeeway},
		{"GATEHOUSE_PASSWORD_MAX_AGE", c.PasswordMaxAge},
		{"GATEHOUSE_PASSWORD_WARN_BEFORE", c.PasswordWarnBefore},
		{"GATEHOUSE_PASSWORD_GRACE", c.PasswordGrace},
		{"GATEHOUSE_KEY_ACTIVATION_DELAY", c.KeyActivationDelay},
		{"GATEHOUSE_REAUTH_MAX_AGE", c.ReauthMaxAge},
	}
	for _, p := range nonNegative {
		if p.d < 0 {
			bad(p.env, "must not be negative, got %s", p.d)
		}
	}

	if c.LoginMaxFailures < 1 {
		bad("GATEHOUSE_LOGIN_MAX_FAILURES", "must be at least 1, got %d", c.LoginMaxFailures)
	}
	if c.IPMaxFailures < 1 {
		bad("GATEHOUSE_LOGIN_IP_MAX_FAILURES", "must be at least 1, got %d", c.IPMaxFailures)
	}
	if c.PasswordMinLength < 8 || c.PasswordMinLength > 128 {
		bad("GATEHOUSE_PASSWORD_MIN_LENGTH", "must be between 8 and 128, got %d", c.PasswordMinLength)
	}
	if c.DBMaxConns < 1 {
		bad("GATEHOUSE_DB_MAX_CONNS", "must be at least 1, got %d", c.DBMaxConns)
	}
	if c.DBMinConns < 0 || c.DBMinConns > c.DBMaxConns {
		bad("GATEHOUSE_DB_MIN_CONNS", "must be between 0 and db_max_conns (%d), got %d", c.DBMaxConns, c.DBMinConns)
	}

	errs = append(errs, validateProviders(c.Providers)...)
	return errors.Join(errs...)
}

// checkAddr requires host:port with a numeric port; the host may be empty
// (all interfaces) and the port 0 (any free port).
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("invalid port %q", port)
	}
	return nil
}

// checkDB validates the database setting without quoting it: a PostgreSQL
// URL may carry a password.
func checkDB(db string) error {
	switch {
	case strings.HasPrefix(db, sqlitePrefix):
		if strings.TrimPrefix(db, sqlitePrefix) == "" {
			return errors.New("sqlite: must be followed by a file path")
		}
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		if _, err := url.Parse(db); err != nil {
			return errors.New("is not a valid PostgreSQL URL")
		}
	default:
		return errors.New("must start with sqlite:, postgres:// or postgresql://")
	}
	return nil
}

// checkIssuer requires an absolute http(s) URL without user info, query,
// fragment or trailing slash, since clients compare iss byte for byte and
// append discovery paths to it.
func checkIssuer(s string) error {
	if err := checkHTTPURL(s); err != nil {
		return err
	}
	if strings.HasSuffix(s, "/") {
		return fmt.Errorf("must not end with a slash, got %q", s)
	}
	return nil
}

// checkHTTPURL requires an absolute http or https URL with a host and no
// user info, query or fragment.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return fmt.Errorf("must be an absolute http(s) URL, got %q", s)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("must be an absolute http(s) URL, got %q", s)
	case u.Host == "" || u.Opaque != "":
		return fmt.Errorf("must be an absolute http(s) URL with a host, got %q", s)
	case u.User != nil:
		return fmt.Errorf("must not contain user information")
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("must not contain a query, got %q", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("must not contain a fragment, got %q", s)
	}
	return nil
}
