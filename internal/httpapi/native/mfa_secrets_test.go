package native_test

import (
	"bytes"
	"database/sql"
	"encoding/base32"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestMFA_NoSecretInLogsOrDatabase runs every MFA flow and then searches the
// server's logs and every file of its SQLite database for the secrets that
// went by: the TOTP secret (base32 and raw), the codes, the recovery codes,
// the challenge tokens and the tokens issued.
func TestMFA_NoSecretInLogsOrDatabase(t *testing.T) {
	const ua = "SecretScan/1.0 (distinctive user agent)"
	env := servertest.New(t, servertest.Options{Env: proxied})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	first := login(env, "", "alice", pw, from("198.51.100.77", ua)).JSON(t)
	access := first["access_token"].(string)

	r := env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/enroll", JSON: map[string]any{}, Bearer: access})
	secret := r.JSON(t)["secret"].(string)
	confirmCode := env.TOTPCode(secret)
	r = env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/confirm", Bearer: access, JSON: map[string]any{"code": confirmCode}})
	if r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	var conf struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	r.Decode(t, &conf)

	secrets := []string{pw, secret, access, first["refresh_token"].(string)}
	codes := []string{confirmCode}
	for _, c := range conf.RecoveryCodes {
		secrets = append(secrets, c, strings.ReplaceAll(c, "-", ""))
	}
	ch := env.LoginChallenged("", "alice", pw)
	secrets = append(secrets, ch.ChallengeToken)
	env.VerifyMFA("", ch.ChallengeToken, "totp", "000000")
	code := env.NextTOTPCode(secret)
	codes = append(codes, code)
	r = env.VerifyMFA("", ch.ChallengeToken, "totp", code)
	if r.Status != http.StatusOK {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	var tk servertest.Tokens
	r.Decode(t, &tk)
	secrets = append(secrets, tk.AccessToken, tk.RefreshToken)
	ch = env.LoginChallenged("", "alice", pw)
	secrets = append(secrets, ch.ChallengeToken)
	if r := env.VerifyMFA("", ch.ChallengeToken, "recovery_code", conf.RecoveryCodes[3]); r.Status != http.StatusOK {
		t.Fatalf("verify with a recovery code: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("DELETE", "/admin/users/"+first["user"].(map[string]any)["id"].(string)+"/mfa", "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}

	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatalf("secret: %v", err)
	}
	logs := env.Logs.String()
	if logs == "" {
		t.Fatal("the server logged nothing: the check would prove nothing")
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("a secret appears in the logs: %.12s…", s)
		}
	}
	for _, c := range codes {
		if strings.Contains(logs, `"`+c+`"`) {
			t.Errorf("a TOTP code appears in the logs")
		}
	}

	// Every file of the database (main file, WAL, shared memory).
	files, err := filepath.Glob(filepath.Join(env.DataDir, "gatehouse.db*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("database files: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret in clear: %.12s…", filepath.Base(f), s)
			}
		}
		if bytes.Contains(b, raw) {
			t.Errorf("%s holds the raw TOTP secret", filepath.Base(f))
		}
	}

	// Known devices are keyed hashes, never the address or the User-Agent.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(env.DataDir, "gatehouse.db")+"?mode=ro")
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT kind, hash FROM known_devices`)
	if err != nil {
		t.Fatalf("known devices: %v", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var kind, hash string
		if err := rows.Scan(&kind, &hash); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.Contains(hash, "198.51.100.77") || strings.Contains(hash, "SecretScan") || len(hash) != 64 {
			t.Errorf("known device %s stored as %q, want a keyed hash", kind, hash)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("%d known devices, want 4 (two addresses, two User-Agents)", n)
	}
}
