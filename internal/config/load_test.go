package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env returns a lookup function over m, as os.LookupEnv would behave.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// writeFile writes a YAML configuration file into a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const testMasterKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

func TestLoad_DefaultsWithNothingSet(t *testing.T) {
	got, err := Load("", env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Default()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Load with nothing set = %+v\nwant %+v", got, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", got.Addr, "127.0.0.1:8080"},
		{"DB", got.DB, "sqlite:./gatehouse-data/gatehouse.db"},
		{"DataDir", got.DataDir, "./gatehouse-data"},
		{"Issuer", got.Issuer, "http://127.0.0.1:8080"},
		{"AdminKey", got.AdminKey, ""},
		{"MasterKey", got.MasterKey, ""},
		{"SigningAlg", got.SigningAlg, "EdDSA"},
		{"AccessTokenTTL", got.AccessTokenTTL, 15 * time.Minute},
		{"RefreshTokenTTL", got.RefreshTokenTTL, 7 * 24 * time.Hour},
		{"SessionMaxLifetime", got.SessionMaxLifetime, 30 * 24 * time.Hour},
		{"RefreshReuseLeeway", got.RefreshReuseLeeway, time.Duration(0)},
		{"TicketMaxTTL", got.TicketMaxTTL, 5 * time.Minute},
		{"BrowserSessionTTL", got.BrowserSessionTTL, 8 * time.Hour},
		{"BrowserSessionMaxLifetime", got.BrowserSessionMaxLifetime, 7 * 24 * time.Hour},
		{"PasswordMaxAge", got.PasswordMaxAge, time.Duration(0)},
		{"PasswordWarnBefore", got.PasswordWarnBefore, 14 * 24 * time.Hour},
		{"PasswordGrace", got.PasswordGrace, 7 * 24 * time.Hour},
		{"LoginMaxFailures", got.LoginMaxFailures, 5},
		{"LoginLockout", got.LoginLockout, 15 * time.Minute},
		{"IPMaxFailures", got.IPMaxFailures, 50},
		{"ReauthMaxAge", got.ReauthMaxAge, 5 * time.Minute},
		{"MFAMode", got.MFAMode, "always"},
		{"MFARiskLevel", got.MFARiskLevel, "medium"},
		{"TrustedProxies", len(got.TrustedProxies), 0},
		{"PasswordMinLength", got.PasswordMinLength, 10},
		{"Families", strings.Join(got.Families, ","), "native,legacy,app,oauth2"},
		{"LogLevel", got.LogLevel, "info"},
		{"SQLiteSynchronous", got.SQLiteSynchronous, "NORMAL"},
		{"DBMaxConns", got.DBMaxConns, 10},
		{"DBMinConns", got.DBMinConns, 0},
		{"DBMaxConnLifetime", got.DBMaxConnLifetime, 30 * time.Minute},
		{"DBMaxConnIdleTime", got.DBMaxConnIdleTime, 5 * time.Minute},
		{"DBTimeout", got.DBTimeout, 5 * time.Second},
		{"KeyReloadInterval", got.KeyReloadInterval, 30 * time.Second},
		{"KeyActivationDelay", got.KeyActivationDelay, time.Duration(0)},
		{"RevocationPoll", got.RevocationPoll, 250 * time.Millisecond},
		{"ShutdownTimeout", got.ShutdownTimeout, 10 * time.Second},
		{"WebhookAllowInsecure", got.WebhookAllowInsecure, false},
		{"WebhookTimeout", got.WebhookTimeout, 10 * time.Second},
		{"WebhookRetryBase", got.WebhookRetryBase, 5 * time.Second},
		{"WebhookPoll", got.WebhookPoll, time.Second},
		{"Providers", len(got.Providers), 0},
		{"DBKind", got.DBKind(), "sqlite"},
		{"SQLitePath", got.SQLitePath(), "./gatehouse-data/gatehouse.db"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("default %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
	if _, err := Load("", nil); err != nil {
		t.Errorf("Load with nil lookup: %v", err)
	}
}

// settable holds a valid, non-default value for every setting. A new
// setting must be added here, which keeps TestLoad_EverySettingFromEnvAndFile
// honest.
var settable = map[string]string{
	"GATEHOUSE_ADDR":                         "0.0.0.0:9090",
	"GATEHOUSE_DB":                           "postgres://gatehouse@db.internal:5432/gatehouse",
	"GATEHOUSE_DATA_DIR":                     "/var/lib/gatehouse",
	"GATEHOUSE_ISSUER":                       "https://auth.example.com",
	"GATEHOUSE_ADMIN_KEY":                    "0123456789abcdef0123456789abcdef-admin",
	"GATEHOUSE_MASTER_KEY":                   testMasterKey,
	"GATEHOUSE_SIGNING_ALG":                  "ES256",
	"GATEHOUSE_ACCESS_TOKEN_TTL":             "5m",
	"GATEHOUSE_REFRESH_TOKEN_TTL":            "1d",
	"GATEHOUSE_SESSION_MAX_LIFETIME":         "10d",
	"GATEHOUSE_REFRESH_REUSE_LEEWAY":         "30s",
	"GATEHOUSE_TICKET_MAX_TTL":               "2m",
	"GATEHOUSE_BROWSER_SESSION_TTL":          "3h",
	"GATEHOUSE_BROWSER_SESSION_MAX_LIFETIME": "3d",
	"GATEHOUSE_PASSWORD_MAX_AGE":             "90d",
	"GATEHOUSE_PASSWORD_WARN_BEFORE":         "3d",
	"GATEHOUSE_PASSWORD_GRACE":               "1d",
	"GATEHOUSE_LOGIN_MAX_FAILURES":           "3",
	"GATEHOUSE_LOGIN_LOCKOUT":                "1h",
	"GATEHOUSE_LOGIN_IP_MAX_FAILURES":        "20",
	"GATEHOUSE_MFA_MODE":                     "adaptive",
	"GATEHOUSE_MFA_RISK_LEVEL":               "high",
	"GATEHOUSE_TRUSTED_PROXIES":              "10.0.0.0/8,192.168.1.7",
	"GATEHOUSE_PASSWORD_MIN_LENGTH":          "12",
	"GATEHOUSE_FAMILIES":                     "native,oauth2",
	"GATEHOUSE_LOG_LEVEL":                    "debug",
	"GATEHOUSE_SQLITE_SYNCHRONOUS":           "FULL",
	"GATEHOUSE_DB_MAX_CONNS":                 "25",
	"GATEHOUSE_DB_MIN_CONNS":                 "2",
	"GATEHOUSE_DB_MAX_CONN_LIFETIME":         "1h",
	"GATEHOUSE_DB_MAX_CONN_IDLE_TIME":        "1m",
	"GATEHOUSE_DB_TIMEOUT":                   "2s",
	"GATEHOUSE_KEY_RELOAD_INTERVAL":          "1m",
	"GATEHOUSE_REVOCATION_POLL_INTERVAL":     "1s",
	"GATEHOUSE_SHUTDOWN_TIMEOUT":             "20s",
	"GATEHOUSE_REAUTH_MAX_AGE":               "10m",
	"GATEHOUSE_KEY_ACTIVATION_DELAY":         "2m",
	"GATEHOUSE_PROVIDER_ALLOW_INSECURE":      "true",
	"GATEHOUSE_METRICS_AUTH":                 "true",
	"GATEHOUSE_METRICS_TOKEN":                "0123456789abcdef0123456789abcdef-metrics",
	"GATEHOUSE_WEBHOOK_ALLOW_INSECURE":       "true",
	"GATEHOUSE_WEBHOOK_TIMEOUT":              "4s",
	"GATEHOUSE_WEBHOOK_RETRY_BASE":           "1s",
	"GATEHOUSE_WEBHOOK_POLL_INTERVAL":        "2s",
	"GATEHOUSE_WEBAUTHN_RP_ID":               "example.com",
	"GATEHOUSE_WEBAUTHN_ORIGINS":             "https://app.example.com,android:apk-key-hash:xT5ZucZJ9N7oq3j3awG8J614pbN5Tm5xIbDZpMmjGZA",
}

func TestLoad_EverySettingFromEnvAndFile(t *testing.T) {
	if len(settable) != len(fields) {
		t.Fatalf("settable has %d entries, fields has %d", len(settable), len(fields))
	}
	for _, f := range fields {
		v, ok := settable[f.env]
		if !ok {
			t.Errorf("no test value for %s", f.env)
			continue
		}
		vars := map[string]string{f.env: v}
		if f.env == "GATEHOUSE_DB" {
			vars["GATEHOUSE_MASTER_KEY"] = testMasterKey
		}
		fromEnv, err := Load("", env(vars))
		if err != nil {
			t.Errorf("%s=%q: %v", f.env, v, err)
			continue
		}
		def := Default()
		if f.env == "GATEHOUSE_DB" {
			def.MasterKey = testMasterKey
		}
		if reflect.DeepEqual(fromEnv, def) {
			t.Errorf("%s=%q changed nothing", f.env, v)
		}

		yaml := f.key() + ": " + quoteYAML(v) + "\n"
		if f.env == "GATEHOUSE_DB" {
			yaml += "master_key: " + testMasterKey + "\n"
		}
		fromFile, err := Load(writeFile(t, yaml), env(nil))
		if err != nil {
			t.Errorf("file %s: %v", f.key(), err)
			continue
		}
		if !reflect.DeepEqual(fromEnv, fromFile) {
			t.Errorf("%s from env = %+v\nfrom file = %+v", f.env, fromEnv, fromFile)
		}
	}
}

func quoteYAML(s string) string { return `"` + s + `"` }

const fullFile = `
addr: 0.0.0.0:9000
db: sqlite:/var/lib/gatehouse/gatehouse.db
data_dir: /var/lib/gatehouse
issuer: https://auth.example.com/
admin_key: 0123456789abcdef0123456789abcdef
master_key: ` + testMasterKey + `
signing_alg: rs256
access_token_ttl: 10m
refresh_token_ttl: 14d
session_max_lifetime: 60d
refresh_reuse_leeway: 20s
ticket_max_ttl: 90s
browser_session_ttl: 2h
browser_session_max_lifetime: 2d
password_max_age: 90d
password_warn_before: 10d
password_grace: 2d
login_max_failures: 7
login_lockout: 30m
login_ip_max_failures: 100
reauth_max_age: 2m
mfa_mode: adaptive
mfa_risk_level: high
trusted_proxies:
  - 10.1.2.3/8
  - 2001:db8::1
password_min_length: 14
families: [native, app]
log_level: warn
sqlite_synchronous: full
db_max_conns: 20
db_min_conns: 5
db_max_conn_lifetime: 1h
db_max_conn_idle_time: 10m
db_timeout: 3s
key_reload_interval: 1m
revocation_poll_interval: 500ms
shutdown_timeout: 15s
webhook_allow_insecure: true
webhook_timeout: 3s
webhook_retry_base: 2s
webhook_poll_interval: 500ms
providers:
  - name: corp
    issuer: https://login.corp.example
    audiences: [gatehouse, gatehouse-web]
    jwks_uri: https://login.corp.example/keys
    algorithms: [RS256, ES256]
    auto_provision: true
    link_by_email: true
  - tenant: acme
    name: google
    issuer: https://accounts.google.com
    audiences: 1234.apps.googleusercontent.com
`

func TestLoad_File(t *testing.T) {
	c, err := Load(writeFile(t, fullFile), env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		Addr:                      "0.0.0.0:9000",
		DB:                        "sqlite:/var/lib/gatehouse/gatehouse.db",
		DataDir:                   "/var/lib/gatehouse",
		Issuer:                    "https://auth.example.com",
		AdminKey:                  "0123456789abcdef0123456789abcdef",
		MasterKey:                 testMasterKey,
		SigningAlg:                "RS256",
		AccessTokenTTL:            10 * time.Minute,
		RefreshTokenTTL:           14 * 24 * time.Hour,
		SessionMaxLifetime:        60 * 24 * time.Hour,
		RefreshReuseLeeway:        20 * time.Second,
		TicketMaxTTL:              90 * time.Second,
		BrowserSessionTTL:         2 * time.Hour,
		BrowserSessionMaxLifetime: 48 * time.Hour,
		PasswordMaxAge:            90 * 24 * time.Hour,
		PasswordWarnBefore:        10 * 24 * time.Hour,
		PasswordGrace:             2 * 24 * time.Hour,
		PasswordMinLength:         14,
		LoginMaxFailures:          7,
		LoginLockout:              30 * time.Minute,
		IPMaxFailures:             100,
		ReauthMaxAge:              2 * time.Minute,
		MFAMode:                   "adaptive",
		MFARiskLevel:              "high",
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("2001:db8::1/128"),
		},
		Families:          []string{"native", "app"},
		LogLevel:          "warn",
		SQLiteSynchronous: "FULL",
		DBMaxConns:        20,
		DBMinConns:        5,
		DBMaxConnLifetime: time.Hour,
		DBMaxConnIdleTime: 10 * time.Minute,
		DBTimeout:         3 * time.Second,
		KeyReloadInterval: time.Minute,
		RevocationPoll:    500 * time.Millisecond,
		ShutdownTimeout:   15 * time.Second,

		WebhookAllowInsecure: true,
		WebhookTimeout:       3 * time.Second,
		WebhookRetryBase:     2 * time.Second,
		WebhookPoll:          500 * time.Millisecond,
		Providers: []Provider{
			{
				Tenant: "default", Name: "corp", Issuer: "https://login.corp.example",
				Audiences: []string{"gatehouse", "gatehouse-web"}, JWKSURI: "https://login.corp.example/keys",
				Algorithms: []string{"RS256", "ES256"}, AutoProvision: true, LinkByEmail: true,
			},
			{
				Tenant: "acme", Name: "google", Issuer: "https://accounts.google.com",
				Audiences: []string{"1234.apps.googleusercontent.com"},
			},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Load(file) =\n%+v\nwant\n%+v", c, want)
	}
	if c.SQLitePath() != "/var/lib/gatehouse/gatehouse.db" {
		t.Errorf("SQLitePath = %q", c.SQLitePath())
	}
	if !c.FamilyEnabled("app") || c.FamilyEnabled("legacy") || c.FamilyEnabled("oauth2") {
		t.Errorf("FamilyEnabled wrong for families %v", c.Families)
	}
}

func TestLoad_EnvOverridesFile(t *testing.T) {
	path := writeFile(t, fullFile)
	c, err := Load(path, env(map[string]string{
		"GATEHOUSE_ACCESS_TOKEN_TTL": "1m",
		"GATEHOUSE_FAMILIES":         "legacy",
		"GATEHOUSE_TRUSTED_PROXIES":  " 172.16.0.0/12 , ::1 ",
		"GATEHOUSE_MFA_MODE":         "OFF",
		"GATEHOUSE_ISSUER":           "http://localhost:9000/",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.AccessTokenTTL != time.Minute {
		t.Errorf("AccessTokenTTL = %v, want the env value 1m", c.AccessTokenTTL)
	}
	if !reflect.DeepEqual(c.Families, []string{"legacy"}) {
		t.Errorf("Families = %v, want [legacy]", c.Families)
	}
	wantProxies := []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("::1/128")}
	if !reflect.DeepEqual(c.TrustedProxies, wantProxies) {
		t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, wantProxies)
	}
	if c.MFAMode != "off" {
		t.Errorf("MFAMode = %q, want off", c.MFAMode)
	}
	if c.Issuer != "http://localhost:9000" {
		t.Errorf("Issuer = %q", c.Issuer)
	}
	// Settings the environment leaves alone keep the file's values.
	if c.RefreshTokenTTL != 14*24*time.Hour || c.LoginMaxFailures != 7 || len(c.Providers) != 2 {
		t.Errorf("file values lost: refresh %v, failures %d, providers %d",
			c.RefreshTokenTTL, c.LoginMaxFailures, len(c.Providers))
	}
}

func TestLoad_IssuerDerivedFromAddr(t *testing.T) {
	tests := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"GATEHOUSE_ADDR": "127.0.0.1:9999"}, "http://127.0.0.1:9999"},
		{map[string]string{"GATEHOUSE_ADDR": ":8081"}, "http://localhost:8081"},
		{map[string]string{"GATEHOUSE_ADDR": "0.0.0.0:80"}, "http://localhost:80"},
		{map[string]string{"GATEHOUSE_ADDR": "[::]:80"}, "http://localhost:80"},
		{map[string]string{"GATEHOUSE_ADDR": "[::1]:8080"}, "http://[::1]:8080"},
		{map[string]string{"GATEHOUSE_ADDR": "auth.internal:8080"}, "http://auth.internal:8080"},
		{map[string]string{"GATEHOUSE_ADDR": ":8081", "GATEHOUSE_ISSUER": "https://id.example.com//"}, "https://id.example.com"},
		{map[string]string{"GATEHOUSE_ISSUER": ""}, "http://127.0.0.1:8080"},
		{map[string]string{"GATEHOUSE_ISSUER": "https://example.com/tenant/a/"}, "https://example.com/tenant/a"},
	}
	for _, tt := range tests {
		c, err := Load("", env(tt.vars))
		if err != nil {
			t.Errorf("%v: %v", tt.vars, err)
			continue
		}
		if c.Issuer != tt.want {
			t.Errorf("%v: Issuer = %q, want %q", tt.vars, c.Issuer, tt.want)
		}
	}
}

func TestLoad_ListSettings(t *testing.T) {
	tests := []struct {
		name         string
		yaml         string
		vars         map[string]string
		wantFamilies []string
		wantProxies  []netip.Prefix
	}{
		{
			name:         "explicitly empty env families serves none",
			vars:         map[string]string{"GATEHOUSE_FAMILIES": ""},
			wantFamilies: []string{},
		},
		{
			name:         "empty yaml list serves none",
			yaml:         "families: []\n",
			wantFamilies: []string{},
		},
		{
			name:         "empty yaml string serves none",
			yaml:         "families: \"\"\n",
			wantFamilies: []string{},
		},
		{
			name:         "null yaml value keeps the default",
			yaml:         "families:\ntrusted_proxies:\n",
			wantFamilies: []string{"native", "legacy", "app", "oauth2"},
		},
		{
			name:         "comma string in yaml, duplicates and case folded",
			yaml:         "families: \"OAuth2, native,oauth2\"\ntrusted_proxies: 10.0.0.1, 192.168.0.0/16\n",
			wantFamilies: []string{"oauth2", "native"},
			wantProxies:  []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("192.168.0.0/16")},
		},
		{
			name:         "host bits of a CIDR are masked",
			vars:         map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "10.9.8.7/16,fd00::5/64"},
			wantFamilies: []string{"native", "legacy", "app", "oauth2"},
			wantProxies:  []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16"), netip.MustParsePrefix("fd00::/64")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, tt.yaml)
			}
			c, err := Load(path, env(tt.vars))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(c.Families, tt.wantFamilies) {
				t.Errorf("Families = %#v, want %#v", c.Families, tt.wantFamilies)
			}
			if len(c.TrustedProxies) != 0 || len(tt.wantProxies) != 0 {
				if !reflect.DeepEqual(c.TrustedProxies, tt.wantProxies) {
					t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, tt.wantProxies)
				}
			}
			for _, f := range allFamilies {
				want := false
				for _, w := range tt.wantFamilies {
					want = want || w == f
				}
				if c.FamilyEnabled(f) != want {
					t.Errorf("FamilyEnabled(%q) = %v, want %v", f, !want, want)
				}
			}
		})
	}
}

func TestConfig_DBKind(t *testing.T) {
	tests := []struct{ db, kind, path string }{
		{"sqlite:./data/g.db", "sqlite", "./data/g.db"},
		{"sqlite:/abs/path.db", "sqlite", "/abs/path.db"},
		{"postgres://u@h/db", "postgres", ""},
		{"postgresql://u@h:5433/db?sslmode=require", "postgres", ""},
		{"mysql://u@h/db", "", ""},
	}
	for _, tt := range tests {
		c := Config{DB: tt.db}
		if c.DBKind() != tt.kind || c.SQLitePath() != tt.path {
			t.Errorf("DB %q: kind %q path %q, want %q %q", tt.db, c.DBKind(), c.SQLitePath(), tt.kind, tt.path)
		}
	}
}

func TestFilePath(t *testing.T) {
	if got := FilePath("flag.yaml", env(map[string]string{FileEnv: "env.yaml"})); got != "flag.yaml" {
		t.Errorf("flag should win, got %q", got)
	}
	if got := FilePath("", env(map[string]string{FileEnv: "env.yaml"})); got != "env.yaml" {
		t.Errorf("env should apply, got %q", got)
	}
	if got := FilePath("", env(nil)); got != "" {
		t.Errorf("nothing set, got %q", got)
	}
}

func TestLoad_MissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"), env(nil))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load of a missing file = %v, want os.ErrNotExist", err)
	}
}

func TestLoad_EmptyFile(t *testing.T) {
	for _, content := range []string{"", "\n# only a comment\n", "---\n"} {
		c, err := Load(writeFile(t, content), env(nil))
		if err != nil {
			t.Errorf("Load(%q): %v", content, err)
			continue
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("Load(%q) differs from defaults", content)
		}
	}
}

func TestLoad_BooleansAndMetricsToken(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "TRUE": true, "1": true, "yes": true, "false": false, "0": false, "off": false} {
		c, err := Load("", env(map[string]string{"GATEHOUSE_METRICS_AUTH": v}))
		if err != nil || c.MetricsAuth != want {
			t.Errorf("GATEHOUSE_METRICS_AUTH=%q: %v, %v; want %v", v, c.MetricsAuth, err, want)
		}
	}
	if _, err := Load("", env(map[string]string{"GATEHOUSE_PROVIDER_ALLOW_INSECURE": "maybe"})); err == nil ||
		!strings.Contains(err.Error(), "GATEHOUSE_PROVIDER_ALLOW_INSECURE") {
		t.Errorf("bad boolean: %v, want an error naming the key", err)
	}
	if _, err := Load("", env(map[string]string{"GATEHOUSE_METRICS_TOKEN": "short"})); err == nil ||
		!strings.Contains(err.Error(), "GATEHOUSE_METRICS_TOKEN") {
		t.Errorf("short metrics token: %v, want an error naming the key", err)
	}
}
