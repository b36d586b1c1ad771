package config

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestLoad_EnvErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		env, value string
		wantMsg    string
	}{
		{"GATEHOUSE_ACCESS_TOKEN_TTL", "abc", `GATEHOUSE_ACCESS_TOKEN_TTL (access_token_ttl): invalid duration "abc"`},
		{"GATEHOUSE_ACCESS_TOKEN_TTL", "0", "must be greater than 0"},
		{"GATEHOUSE_ACCESS_TOKEN_TTL", "-1m", "must not be negative"},
		{"GATEHOUSE_REFRESH_TOKEN_TTL", "0s", "must be greater than 0"},
		{"GATEHOUSE_SESSION_MAX_LIFETIME", "0d", "must be greater than 0"},
		{"GATEHOUSE_REFRESH_REUSE_LEEWAY", "-5s", "must not be negative"},
		{"GATEHOUSE_TICKET_MAX_TTL", "0", "must be greater than 0"},
		{"GATEHOUSE_REAUTH_MAX_AGE", "-1m", "must not be negative"},
		{"GATEHOUSE_WEBAUTHN_RP_ID", "https://example.com", "must be a host name"},
		{"GATEHOUSE_WEBAUTHN_RP_ID", "10.0.0.1", "must be a host name"},
		{"GATEHOUSE_WEBAUTHN_ORIGINS", "app.example.com", "must be scheme://host[:port]"},
		{"GATEHOUSE_WEBAUTHN_ORIGINS", "https://example.com/login", "must be scheme://host[:port]"},
		{"GATEHOUSE_WEBAUTHN_ORIGINS", "android:apk-key-hash:", "must be scheme://host[:port]"},
		{"GATEHOUSE_PASSWORD_MAX_AGE", "-1d", "must not be negative"},
		{"GATEHOUSE_PASSWORD_WARN_BEFORE", "soon", "invalid duration"},
		{"GATEHOUSE_PASSWORD_GRACE", "-1h", "must not be negative"},
		{"GATEHOUSE_LOGIN_LOCKOUT", "0", "must be greater than 0"},
		{"GATEHOUSE_DB_MAX_CONN_LIFETIME", "0", "must be greater than 0"},
		{"GATEHOUSE_DB_MAX_CONN_IDLE_TIME", "0", "must be greater than 0"},
		{"GATEHOUSE_DB_TIMEOUT", "0", "must be greater than 0"},
		{"GATEHOUSE_KEY_RELOAD_INTERVAL", "0", "must be greater than 0"},
		{"GATEHOUSE_KEY_ACTIVATION_DELAY", "-1s", "must not be negative"},
		{"GATEHOUSE_REVOCATION_POLL_INTERVAL", "0", "must be greater than 0"},
		{"GATEHOUSE_SHUTDOWN_TIMEOUT", "", `invalid duration ""`},
		{"GATEHOUSE_ADDR", "localhost", "must be host:port"},
		{"GATEHOUSE_ADDR", "localhost:http", "invalid port"},
		{"GATEHOUSE_ADDR", "localhost:70000", "invalid port"},
		{"GATEHOUSE_ADDR", "localhost:", "invalid port"},
		{"GATEHOUSE_DB", "mysql://root@localhost/db", "must start with sqlite:, postgres:// or postgresql://"},
		{"GATEHOUSE_DB", "sqlite:", "must be followed by a file path"},
		{"GATEHOUSE_DB", "", "must start with"},
		{"GATEHOUSE_DATA_DIR", "", "must not be empty"},
		{"GATEHOUSE_ISSUER", "auth.example.com", "absolute http(s) URL"},
		{"GATEHOUSE_ISSUER", "ftp://auth.example.com", "absolute http(s) URL"},
		{"GATEHOUSE_ISSUER", "https://auth.example.com?x=1", "must not contain a query"},
		{"GATEHOUSE_ISSUER", "https://auth.example.com/#frag", "must not contain a fragment"},
		{"GATEHOUSE_ISSUER", "https:///path", "with a host"},
		{"GATEHOUSE_ISSUER", "https://user:pw@auth.example.com", "must not contain user information"},
		{"GATEHOUSE_ADMIN_KEY", "short", "at least 32 characters"},
		{"GATEHOUSE_MASTER_KEY", "abcd", "64 hexadecimal characters"},
		{"GATEHOUSE_MASTER_KEY", strings.Repeat("zz", 32), "64 hexadecimal characters"},
		{"GATEHOUSE_SIGNING_ALG", "HS256", `must be one of EdDSA, ES256, RS256, got "HS256"`},
		{"GATEHOUSE_SIGNING_ALG", "none", "must be one of"},
		{"GATEHOUSE_LOGIN_MAX_FAILURES", "0", "must be at least 1"},
		{"GATEHOUSE_LOGIN_MAX_FAILURES", "five", `invalid integer "five"`},
		{"GATEHOUSE_LOGIN_IP_MAX_FAILURES", "-3", "must be at least 1"},
		{"GATEHOUSE_MFA_MODE", "sometimes", "must be one of always, adaptive, off"},
		{"GATEHOUSE_MFA_RISK_LEVEL", "low", "must be one of medium, high"},
		{"GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8,not-an-ip", `invalid IP address or CIDR "not-an-ip"`},
		{"GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/33", `invalid CIDR "10.0.0.0/33"`},
		{"GATEHOUSE_TRUSTED_PROXIES", "fe80::1%eth0", "invalid IP address or CIDR"},
		{"GATEHOUSE_PASSWORD_MIN_LENGTH", "7", "must be between 8 and 128"},
		{"GATEHOUSE_PASSWORD_MIN_LENGTH", "129", "must be between 8 and 128"},
		{"GATEHOUSE_FAMILIES", "native,soap", `unknown family "soap"`},
		{"GATEHOUSE_LOG_LEVEL", "verbose", "must be one of debug, info, warn, error"},
		{"GATEHOUSE_SQLITE_SYNCHRONOUS", "OFF", "must be one of NORMAL, FULL"},
		{"GATEHOUSE_DB_MAX_CONNS", "0", "must be at least 1"},
		{"GATEHOUSE_DB_MIN_CONNS", "-1", "must be between 0 and db_max_conns"},
		{"GATEHOUSE_DB_MIN_CONNS", "11", "must be between 0 and db_max_conns (10)"},
	}
	for _, tt := range tests {
		_, err := Load("", env(map[string]string{tt.env: tt.value}))
		if err == nil {
			t.Errorf("%s=%q: no error", tt.env, tt.value)
			continue
		}
		wantKey := tt.env + " (" + keyOf(tt.env) + "): "
		if !strings.Contains(err.Error(), wantKey) {
			t.Errorf("%s=%q: error %q does not name the key as %q", tt.env, tt.value, err, wantKey)
		}
		if !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("%s=%q: error %q does not contain %q", tt.env, tt.value, err, tt.wantMsg)
		}
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Env != tt.env {
			t.Errorf("%s=%q: error %v is not a *KeyError for that key", tt.env, tt.value, err)
		}
	}
}

func TestLoad_ZeroAllowedWhereMeaningful(t *testing.T) {
	c, err := Load("", env(map[string]string{
		"GATEHOUSE_REFRESH_REUSE_LEEWAY": "0s",
		"GATEHOUSE_PASSWORD_MAX_AGE":     "0",
		"GATEHOUSE_PASSWORD_WARN_BEFORE": "0d",
		"GATEHOUSE_PASSWORD_GRACE":       "0",
		"GATEHOUSE_ADDR":                 "127.0.0.1:0",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.RefreshReuseLeeway != 0 || c.PasswordMaxAge != 0 || c.PasswordWarnBefore != 0 || c.PasswordGrace != 0 {
		t.Errorf("zero durations not kept: %+v", c)
	}
}

func TestLoad_MasterKeyRequiredForPostgres(t *testing.T) {
	_, err := Load("", env(map[string]string{"GATEHOUSE_DB": "postgres://gatehouse@localhost/gatehouse"}))
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_MASTER_KEY (master_key): is required") {
		t.Fatalf("postgres without a master key: error %v", err)
	}
	c, err := Load("", env(map[string]string{
		"GATEHOUSE_DB":         "postgresql://gatehouse@localhost/gatehouse",
		"GATEHOUSE_MASTER_KEY": strings.ToUpper(testMasterKey),
	}))
	if err != nil {
		t.Fatalf("postgres with a master key: %v", err)
	}
	if c.DBKind() != "postgres" {
		t.Errorf("DBKind = %q", c.DBKind())
	}
}

func TestLoad_ErrorsNeverQuoteSecrets(t *testing.T) {
	secrets := map[string]string{
		"GATEHOUSE_DB":         "mysql://root:hunter2-db-password@localhost/db",
		"GATEHOUSE_ADMIN_KEY":  "hunter2-short-admin",
		"GATEHOUSE_MASTER_KEY": "hunter2-master-key-not-hex",
		"GATEHOUSE_ISSUER":     "https://root:hunter2-issuer@example.com",
	}
	_, err := Load("", env(secrets))
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error quotes a secret: %v", err)
	}
	for k := range secrets {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s: %v", k, err)
		}
	}
}

func TestLoad_ReportsEveryError(t *testing.T) {
	_, err := Load("", env(map[string]string{
		"GATEHOUSE_ACCESS_TOKEN_TTL": "abc",
		"GATEHOUSE_DB_MAX_CONNS":     "many",
		"GATEHOUSE_MFA_MODE":         "maybe",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, k := range []string{"GATEHOUSE_ACCESS_TOKEN_TTL", "GATEHOUSE_DB_MAX_CONNS", "GATEHOUSE_MFA_MODE"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s: %v", k, err)
		}
	}
}

func TestLoad_FileErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantMsg []string
	}{
		{"unknown key", "addr: 127.0.0.1:8080\nacces_token_ttl: 5m\n", []string{`line 2: unknown key "acces_token_ttl"`}},
		{"env name is not a key", "GATEHOUSE_ADDR: 127.0.0.1:1\n", []string{`unknown key "GATEHOUSE_ADDR"`}},
		{"duplicate key", "log_level: info\nlog_level: debug\n", []string{`line 2: duplicate key "log_level"`}},
		{"bad duration", "access_token_ttl: abc\n", []string{`GATEHOUSE_ACCESS_TOKEN_TTL (access_token_ttl): line 1: invalid duration "abc"`}},
		{"integer duration", "access_token_ttl: 900\n", []string{`GATEHOUSE_ACCESS_TOKEN_TTL (access_token_ttl)`, `invalid duration "900"`}},
		{"list for scalar", "addr: [a, b]\n", []string{"GATEHOUSE_ADDR (addr)", "expected a single value, got a list"}},
		{"mapping for scalar", "db_timeout: {a: 1}\n", []string{"GATEHOUSE_DB_TIMEOUT (db_timeout)", "got a mapping"}},
		{"nested list item", "families: [[native]]\n", []string{"GATEHOUSE_FAMILIES (families)", "list items must be plain values"}},
		{"validation after file", "password_min_length: 4\n", []string{"GATEHOUSE_PASSWORD_MIN_LENGTH (password_min_length): must be between 8 and 128"}},
		{"not a mapping", "- a\n- b\n", []string{"must be a mapping"}},
		{"broken yaml", "addr: [\n", []string{"parse YAML"}},
		{"providers not a list", "providers: corp\n", []string{"providers: line 1: expected a list of providers"}},
		{"provider not a mapping", "providers: [corp]\n", []string{"providers[0]: line 1: expected a mapping"}},
		{"provider unknown key", "providers:\n  - name: corp\n    issuer: https://corp.example\n    audiences: [a]\n    client_secret: x\n",
			[]string{"providers[0].client_secret: line 5: unknown key"}},
		{"provider bad bool", "providers:\n  - name: corp\n    issuer: https://corp.example\n    audiences: [a]\n    auto_provision: maybe\n",
			[]string{"providers[0].auto_provision", "expected true or false"}},
		{"provider missing fields", "providers:\n  - name: corp\n",
			[]string{"providers[0].issuer: must be an absolute http(s) URL", "providers[0].audiences: at least one audience"}},
		{"provider bad name", "providers:\n  - name: 'has space'\n    issuer: https://corp.example\n    audiences: [a]\n",
			[]string{"providers[0].name: must be 1-64 characters"}},
		{"provider hmac alg", "providers:\n  - name: corp\n    issuer: https://corp.example\n    audiences: [a]\n    algorithms: [RS256, HS256]\n",
			[]string{`providers[0].algorithms: unsupported algorithm "HS256"`}},
		{"provider none alg", "providers:\n  - name: corp\n    issuer: https://corp.example\n    audiences: [a]\n    algorithms: none\n",
			[]string{`unsupported algorithm "none"`}},
		{"provider bad jwks uri", "providers:\n  - name: corp\n    issuer: https://corp.example\n    audiences: [a]\n    jwks_uri: /keys\n",
			[]string{"providers[0].jwks_uri: must be an absolute http(s) URL"}},
		{"provider duplicate", "providers:\n  - {name: corp, issuer: 'https://a.example', audiences: [a]}\n  - {name: corp, issuer: 'https://b.example', audiences: [b]}\n",
			[]string{`providers[1].name: provider "corp" of tenant "default" is already declared at providers[0]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.yaml)
			_, err := Load(path, env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoad_ProvidersSameNameInOtherTenant(t *testing.T) {
	path := writeFile(t, `providers:
  - {name: corp, issuer: 'https://a.example', audiences: [a]}
  - {tenant: acme, name: corp, issuer: 'https://b.example', audiences: [b]}
`)
	c, err := Load(path, env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.Providers) != 2 || c.Providers[1].Tenant != "acme" {
		t.Fatalf("Providers = %+v", c.Providers)
	}
}

func TestValidate_HandBuiltConfig(t *testing.T) {
	c := Default()
	c.Families = []string{"native", "grpc"}
	c.TrustedProxies = []netip.Prefix{{}}
	c.Providers = []Provider{{Name: "corp", Issuer: "https://corp.example", Audiences: []string{"a"}}}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{
		`GATEHOUSE_FAMILIES (families): unknown family "grpc"`,
		"GATEHOUSE_TRUSTED_PROXIES (trusted_proxies): invalid network",
		"providers[0].tenant: must not be empty",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestLoad_EveryFileErrorNamesTheFile(t *testing.T) {
	path := writeFile(t, "acces_token_ttl: 5m\nlogin_lockout: x\nproviders: [corp]\n")
	_, err := Load(path, env(nil))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 problems, got %q", err)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "config file "+path+": ") || !strings.Contains(l, ": line ") {
			t.Errorf("problem %q does not name the file and line", l)
		}
	}
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Env != "GATEHOUSE_LOGIN_LOCKOUT" {
		t.Errorf("no *KeyError for login_lockout in %v", err)
	}
}
