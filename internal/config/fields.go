package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

const envPrefix = "GATEHOUSE_"

// field binds one setting to its environment variable and knows how to read
// its textual value into a Config. The YAML key is derived from the
// environment name, so the two can never drift apart.
type field struct {
	env string
	// set reads a scalar value (an environment variable or a YAML scalar).
	set func(c *Config, s string) error
	// setList, when not nil, reads a YAML sequence; set then takes a
	// comma-separated scalar.
	setList func(c *Config, items []string) error
}

// key returns the YAML key of the field: the environment name without the
// prefix, lowercased.
func (f field) key() string { return keyOf(f.env) }

// keyOf returns the YAML key of the environment variable env.
func keyOf(env string) string {
	return strings.ToLower(strings.TrimPrefix(env, envPrefix))
}

// fields is every setting that can come from both the environment and the
// file. Range and consistency checks live in Validate, not here.
var fields = []field{
	stringField("GATEHOUSE_ADDR", func(c *Config) *string { return &c.Addr }),
	stringField("GATEHOUSE_DB", func(c *Config) *string { return &c.DB }),
	stringField("GATEHOUSE_DATA_DIR", func(c *Config) *string { return &c.DataDir }),
	{env: "GATEHOUSE_ISSUER", set: func(c *Config, s string) error {
		c.Issuer = strings.TrimRight(s, "/")
		return nil
	}},
	stringField("GATEHOUSE_ADMIN_KEY", func(c *Config) *string { return &c.AdminKey }),
	stringField("GATEHOUSE_MASTER_KEY", func(c *Config) *string { return &c.MasterKey }),
	enumField("GATEHOUSE_SIGNING_ALG", signingAlgs, func(c *Config) *string { return &c.SigningAlg }),

	durationField("GATEHOUSE_ACCESS_TOKEN_TTL", func(c *Config) *time.Duration { return &c.AccessTokenTTL }),
	durationField("GATEHOUSE_REFRESH_TOKEN_TTL", func(c *Config) *time.Duration { return &c.RefreshTokenTTL }),
	durationField("GATEHOUSE_SESSION_MAX_LIFETIME", func(c *Config) *time.Duration { return &c.SessionMaxLifetime }),
	durationField("GATEHOUSE_REFRESH_REUSE_LEEWAY", func(c *Config) *time.Duration { return &c.RefreshReuseLeeway }),
	durationField("GATEHOUSE_TICKET_MAX_TTL", func(c *Config) *time.Duration { return &c.TicketMaxTTL }),
	durationField("GATEHOUSE_BROWSER_SESSION_TTL", func(c *Config) *time.Duration { return &c.BrowserSessionTTL }),
	durationField("GATEHOUSE_BROWSER_SESSION_MAX_LIFETIME", func(c *Config) *time.Duration { return &c.BrowserSessionMaxLifetime }),
	stringField("GATEHOUSE_WEBAUTHN_RP_ID", func(c *Config) *string { return &c.WebAuthnRPID }),
	listField("GATEHOUSE_WEBAUTHN_ORIGINS", func(c *Config, items []string) error {
		c.WebAuthnOrigins = items
		return nil
	}),

	durationField("GATEHOUSE_PASSWORD_MAX_AGE", func(c *Config) *time.Duration { return &c.PasswordMaxAge }),
	durationField("GATEHOUSE_PASSWORD_WARN_BEFORE", func(c *Config) *time.Duration { return &c.PasswordWarnBefore }),
	durationField("GATEHOUSE_PASSWORD_GRACE", func(c *Config) *time.Duration { return &c.PasswordGrace }),
	intField("GATEHOUSE_PASSWORD_MIN_LENGTH", func(c *Config) *int { return &c.PasswordMinLength }),

	intField("GATEHOUSE_LOGIN_MAX_FAILURES", func(c *Config) *int { return &c.LoginMaxFailures }),
	durationField("GATEHOUSE_LOGIN_LOCKOUT", func(c *Config) *time.Duration { return &c.LoginLockout }),
	intField("GATEHOUSE_LOGIN_IP_MAX_FAILURES", func(c *Config) *int { return &c.IPMaxFailures }),
	durationField("GATEHOUSE_REAUTH_MAX_AGE", func(c *Config) *time.Duration { return &c.ReauthMaxAge }),

	enumField("GATEHOUSE_MFA_MODE", mfaModes, func(c *Config) *string { return &c.MFAMode }),
	enumField("GATEHOUSE_MFA_RISK_LEVEL", mfaRiskLevels, func(c *Config) *string { return &c.MFARiskLevel }),

	listField("GATEHOUSE_TRUSTED_PROXIES", setTrustedProxies),
	listField("GATEHOUSE_FAMILIES", setFamilies),
	enumField("GATEHOUSE_LOG_LEVEL", logLevels, func(c *Config) *string { return &c.LogLevel }),

	enumField("GATEHOUSE_SQLITE_SYNCHRONOUS", sqliteSyncModes, func(c *Config) *string { return &c.SQLiteSynchronous }),
	intField("GATEHOUSE_DB_MAX_CONNS", func(c *Config) *int { return &c.DBMaxConns }),
	intField("GATEHOUSE_DB_MIN_CONNS", func(c *Config) *int { return &c.DBMinConns }),
	durationField("GATEHOUSE_DB_MAX_CONN_LIFETIME", func(c *Config) *time.Duration { return &c.DBMaxConnLifetime }),
	durationField("GATEHOUSE_DB_MAX_CONN_IDLE_TIME", func(c *Config) *time.Duration { return &c.DBMaxConnIdleTime }),
	durationField("GATEHOUSE_DB_TIMEOUT", func(c *Config) *time.Duration { return &c.DBTimeout }),

	durationField("GATEHOUSE_KEY_RELOAD_INTERVAL", func(c *Config) *time.Duration { return &c.KeyReloadInterval }),
	durationField("GATEHOUSE_KEY_ACTIVATION_DELAY", func(c *Config) *time.Duration { return &c.KeyActivationDelay }),
	durationField("GATEHOUSE_REVOCATION_POLL_INTERVAL", func(c *Config) *time.Duration { return &c.RevocationPoll }),
	durationField("GATEHOUSE_SHUTDOWN_TIMEOUT", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),

	boolField("GATEHOUSE_PROVIDER_ALLOW_INSECURE", func(c *Config) *bool { return &c.ProviderAllowInsecure }),
	boolField("GATEHOUSE_METRICS_AUTH", func(c *Config) *bool { return &c.MetricsAuth }),
	stringField("GATEHOUSE_METRICS_TOKEN", func(c *Config) *string { return &c.MetricsToken }),
	boolField("GATEHOUSE_WEBHOOK_ALLOW_INSECURE", func(c *Config) *bool { return &c.WebhookAllowInsecure }),
	durationField("GATEHOUSE_WEBHOOK_TIMEOUT", func(c *Config) *time.Duration { return &c.WebhookTimeout }),
	durationField("GATEHOUSE_WEBHOOK_RETRY_BASE", func(c *Config) *time.Duration { return &c.WebhookRetryBase }),
	durationField("GATEHOUSE_WEBHOOK_POLL_INTERVAL", func(c *Config) *time.Duration { return &c.WebhookPoll }),
}

// The accepted values of the enumerated settings, in canonical spelling.
var (
	signingAlgs     = []string{"EdDSA", "ES256", "RS256"}
	mfaModes        = []string{"always", "adaptive", "off"}
	mfaRiskLevels   = []string{"medium", "high"}
	logLevels       = []string{"debug", "info", "warn", "error"}
	sqliteSyncModes = []string{"NORMAL", "FULL"}
	allFamilies     = []string{FamilyNative, FamilyLegacy, FamilyApp, FamilyOAuth2}
)

func stringField(env string, ptr func(*Config) *string) field {
	return field{env: env, set: func(c *Config, s string) error {
		*ptr(c) = s
		return nil
	}}
}

// enumField stores the canonical spelling of a value that matches one of
// allowed case-insensitively, and anything else unchanged for Validate to
// reject with the list of allowed values.
func enumField(env string, allowed []string, ptr func(*Config) *string) field {
	return field{env: env, set: func(c *Config, s string) error {
		*ptr(c) = s
		for _, a := range allowed {
			if strings.EqualFold(a, s) {
				*ptr(c) = a
			}
		}
		return nil
	}}
}

// boolField reads true or false (also 1/0, yes/no, on/off, in any case).
func boolField(env string, ptr func(*Config) *bool) field {
	return field{env: env, set: func(c *Config, s string) error {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes", "on":
			*ptr(c) = true
		case "false", "0", "no", "off", "":
			*ptr(c) = false
		default:
			return fmt.Errorf("invalid boolean %q (want true or false)", s)
		}
		return nil
	}}
}

func durationField(env string, ptr func(*Config) *time.Duration) field {
	return field{env: env, set: func(c *Config, s string) error {
		d, err := ParseDuration(s)
		if err != nil {
			return err
		}
		*ptr(c) = d
		return nil
	}}
}

func intField(env string, ptr func(*Config) *int) field {
	return field{env: env, set: func(c *Config, s string) error {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("invalid integer %q", s)
		}
		*ptr(c) = n
		return nil
	}}
}

// listField reads a comma-separated scalar or a YAML sequence. Blank items
// are dropped, so an empty string sets an empty list.
func listField(env string, setList func(*Config, []string) error) field {
	return field{
		env: env,
		set: func(c *Config, s string) error {
			return setList(c, splitList(strings.Split(s, ",")))
		},
		setList: func(c *Config, items []string) error {
			return setList(c, splitList(items))
		},
	}
}

func splitList(items []string) []string {
	out := []string{}
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// setTrustedProxies parses CIDRs; a bare address stands for its own /32 or
// /128 network. Host bits are masked off.
func setTrustedProxies(c *Config, items []string) error {
	prefixes := make([]netip.Prefix, 0, len(items))
	for _, it := range items {
		p, err := parsePrefix(it)
		if err != nil {
			return err
		}
		prefixes = append(prefixes, p)
	}
	c.TrustedProxies = prefixes
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("invalid IP address or CIDR %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// setFamilies stores the lowercased family names without duplicates;
// Validate rejects unknown names.
func setFamilies(c *Config, items []string) error {
	fams := make([]string, 0, len(items))
	for _, it := range items {
		it = strings.ToLower(it)
		if !slices.Contains(fams, it) {
			fams = append(fams, it)
		}
	}
	c.Families = fams
	return nil
}
