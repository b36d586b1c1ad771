// Package config reads Gatehouse's configuration from an optional YAML file
// and from GATEHOUSE_* environment variables, fills in defaults and validates
// the result. Every error names the setting it concerns, both as its
// environment variable and as its YAML key.
package config

import (
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FileEnv is the environment variable that names the YAML configuration file
// when no --config flag is given.
const FileEnv = "GATEHOUSE_CONFIG"

// The API families that GATEHOUSE_FAMILIES may list.
const (
	FamilyNative = "native"
	FamilyLegacy = "legacy"
	FamilyApp    = "app"
	FamilyOAuth2 = "oauth2"
)

// Config is the complete configuration of a Gatehouse process. Load builds
// one from defaults, a YAML file and the environment; Default returns the
// configuration used when nothing is set.
type Config struct {
	// Addr is the listen address, host:port.
	Addr string
	// DB selects the database: "sqlite:PATH" or a postgres:// URL.
	DB string
	// DataDir holds files the server generates (admin.key, master.key).
	DataDir string
	// Issuer is the iss of every token and the base of discovery URLs,
	// an absolute http(s) URL without trailing slash, query or fragment.
	Issuer string
	// AdminKey is the bearer key for /admin/*; empty means the server
	// generates one into DataDir.
	AdminKey string
	// MasterKey is 32 bytes as 64 hex characters that encrypts secrets at
	// rest; empty means generated into DataDir (SQLite only).
	MasterKey string
	// SigningAlg is the JWS algorithm of new signing keys: EdDSA, ES256 or RS256.
	SigningAlg string
	// KeyActivationDelay is how long a rotated-in signing key is published
	// in the JWKS before it signs; 0 signs with it at once.
	KeyActivationDelay time.Duration

	// AccessTokenTTL is the lifetime of an access token.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the idle lifetime of a refresh token.
	RefreshTokenTTL time.Duration
	// SessionMaxLifetime is the absolute lifetime of a session.
	SessionMaxLifetime time.Duration
	// RefreshReuseLeeway is how long a rotated refresh token may be retried
	// without counting as reuse; 0 disables the leeway.
	RefreshReuseLeeway time.Duration
	// TicketMaxTTL caps the lifetime of one-time tickets.
	TicketMaxTTL time.Duration
	// BrowserSessionTTL is the idle lifetime of a hosted-pages browser session.
	BrowserSessionTTL time.Duration
	// BrowserSessionMaxLifetime is the absolute lifetime of a browser session.
	BrowserSessionMaxLifetime time.Duration
	// WebAuthnRPID overrides the relying party id of passkeys (default: the
	// issuer's host).
	WebAuthnRPID string
	// WebAuthnOrigins are origins accepted for passkeys besides the issuer's.
	WebAuthnOrigins []string

	// PasswordMaxAge is the age at which a password expires; 0 means never.
	PasswordMaxAge time.Duration
	// PasswordWarnBefore is the window before expiry in which sign-ins warn.
	PasswordWarnBefore time.Duration
	// PasswordGrace is the window after expiry in which sign-ins still work.
	PasswordGrace time.Duration
	// PasswordMinLength is the minimum length of a new password.
	PasswordMinLength int

	// LoginMaxFailures is the number of failed logins for one username
	// before it is locked out.
	LoginMaxFailures int
	// LoginLockout is how long a lockout lasts.
	LoginLockout time.Duration
	// IPMaxFailures is the number of failed logins from one client IP
	// before that IP is locked out.
	IPMaxFailures int
	// ReauthMaxAge is how recent a session's last interactive sign-in must
	// be for sensitive account changes without the current password; 0
	// always asks for the password.
	ReauthMaxAge time.Duration

	// MFAMode is always, adaptive or off.
	MFAMode string
	// MFARiskLevel is the risk level (medium or high) at which adaptive
	// mode challenges for a second factor.
	MFARiskLevel string

	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Families lists the API families served (see the Family constants).
	Families []string
	// LogLevel is debug, info, warn or error.
	LogLevel string

	// SQLiteSynchronous is the SQLite synchronous pragma: NORMAL or FULL.
	SQLiteSynchronous string
	// DBMaxConns is the maximum size of the PostgreSQL pool.
	DBMaxConns int
	// DBMinConns is the minimum size of the PostgreSQL pool.
	DBMinConns int
	// DBMaxConnLifetime is the age after which a pooled connection is closed.
	DBMaxConnLifetime time.Duration
	// DBMaxConnIdleTime is the idle time after which a pooled connection is closed.
	DBMaxConnIdleTime time.Duration
	// DBTimeout bounds every single database call.
	DBTimeout time.Duration

	// KeyReloadInterval is how often signing keys are reloaded from the store.
	KeyReloadInterval time.Duration
	// RevocationPoll is how often the revocation feed is polled.
	RevocationPoll time.Duration
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration

	// ProviderAllowInsecure accepts http provider URLs and provider hosts
	// on loopback, private and link-local addresses (development and tests).
	ProviderAllowInsecure bool
	// MetricsAuth makes /metrics answer only a bearer with the admin key or
	// MetricsToken.
	MetricsAuth bool
	// MetricsToken is a bearer accepted by /metrics besides the admin key.
	MetricsToken string
	// WebhookAllowInsecure admits webhook URLs over http or to loopback,
	// private and link-local addresses (development and tests only).
	WebhookAllowInsecure bool
	// WebhookTimeout bounds one webhook delivery.
	WebhookTimeout time.Duration
	// WebhookRetryBase is the first retry delay of a failed delivery; each
	// further one doubles (up to an hour) until 24 h after the event.
	WebhookRetryBase time.Duration
	// WebhookPoll is how often the outbox is scanned for messages written
	// by other processes and for retries that are due.
	WebhookPoll time.Duration

	// Providers are external OpenID providers registered at start-up (YAML only).
	Providers []Provider
}

// Provider is an external OpenID provider declared in the configuration file.
type Provider struct {
	// Tenant owns the provider; "default" when not set.
	Tenant string
	// Name identifies the provider within its tenant.
	Name string
	// Issuer must equal the iss claim of the provider's ID tokens.
	Issuer string
	// Audiences are the accepted aud values; at least one.
	Audiences []string
	// JWKSURI is where the provider's keys are fetched; empty means discovery.
	JWKSURI string
	// Algorithms are the accepted signature algorithms; empty means the
	// server's default.
	Algorithms []string
	// AutoProvision creates a local user for an unknown identity.
	AutoProvision bool
	// LinkByEmail links an unknown identity to the local user with the same
	// verified email.
	LinkByEmail bool
}

// Default returns the configuration used when neither a file nor the
// environment sets anything.
func Default() Config {
	c := Config{
		Addr:                      "127.0.0.1:8080",
		DB:                        "sqlite:./gatehouse-data/gatehouse.db",
		DataDir:                   "./gatehouse-data",
		SigningAlg:                "EdDSA",
		AccessTokenTTL:            15 * time.Minute,
		RefreshTokenTTL:           7 * day,
		SessionMaxLifetime:        30 * day,
		RefreshReuseLeeway:        0,
		TicketMaxTTL:              5 * time.Minute,
		BrowserSessionTTL:         8 * time.Hour,
		BrowserSessionMaxLifetime: 7 * day,
		PasswordMaxAge:            0,
		PasswordWarnBefore:        14 * day,
		PasswordGrace:             7 * day,
		PasswordMinLength:         10,
		LoginMaxFailures:          5,
		LoginLockout:              15 * time.Minute,
		IPMaxFailures:             50,
		ReauthMaxAge:              5 * time.Minute,
		MFAMode:                   "always",
		MFARiskLevel:              "medium",
		Families:                  []string{FamilyNative, FamilyLegacy, FamilyApp, FamilyOAuth2},
		LogLevel:                  "info",
		SQLiteSynchronous:         "NORMAL",
		DBMaxConns:                10,
		DBMinConns:                0,
		DBMaxConnLifetime:         30 * time.Minute,
		DBMaxConnIdleTime:         5 * time.Minute,
		DBTimeout:                 5 * time.Second,
		KeyReloadInterval:         30 * time.Second,
		RevocationPoll:            250 * time.Millisecond,
		ShutdownTimeout:           10 * time.Second,
		WebhookTimeout:            10 * time.Second,
		WebhookRetryBase:          5 * time.Second,
		WebhookPoll:               time.Second,
	}
	c.Issuer = defaultIssuer(c.Addr)
	return c
}

// defaultIssuer derives the issuer from the listen address. A wildcard host
// (":8080", "0.0.0.0:8080") cannot be reached by that name, so localhost
// stands in for it.
func defaultIssuer(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// DBKind returns "sqlite" or "postgres" according to DB, or "" when DB
// names neither.
func (c Config) DBKind() string {
	switch {
	case strings.HasPrefix(c.DB, sqlitePrefix):
		return "sqlite"
	case strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
		return "postgres"
	}
	return ""
}

// SQLitePath returns the database file path of a "sqlite:PATH" DB setting,
// or "" when DB is not a SQLite setting.
func (c Config) SQLitePath() string {
	path, ok := strings.CutPrefix(c.DB, sqlitePrefix)
	if !ok {
		return ""
	}
	return path
}

// DBLocation describes where the database is, for logs and messages: the
// absolute path of a SQLite file, or the PostgreSQL URL with its password
// (in the user part or a password parameter) replaced by "xxxxx".
func (c Config) DBLocation() string {
	if path, ok := strings.CutPrefix(c.DB, sqlitePrefix); ok {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return sqlitePrefix + path
	}
	u, err := url.Parse(c.DB)
	if err != nil {
		return "(unparsable database URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// FamilyEnabled reports whether the API family name is served.
func (c Config) FamilyEnabled(name string) bool {
	return slices.Contains(c.Families, name)
}

const sqlitePrefix = "sqlite:"
