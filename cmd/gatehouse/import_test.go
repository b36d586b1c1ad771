package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// firebaseREADME is the example of Firebase's scrypt README
// (github.com/firebase/scrypt): the project's parameters and one user.
var firebaseREADME = map[string]any{
	"hash":           "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
	"salt":           "42xEC+ixf3L2lw==",
	"signer_key":     "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
	"salt_separator": "Bw==",
	"rounds":         8,
	"mem_cost":       14,
}

// importKinds are one user per hash kind, each with a hash from the
// algorithm's reference (see internal/password/vectors_test.go for the
// sources), and the password that signs them in.
var importKinds = []struct {
	kind, password string
	line           map[string]any
}{
	{"argon2id", "password", map[string]any{"password_hash": "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"}},
	{"argon2i", "password", map[string]any{"password_hash": "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E"}},
	{"bcrypt", "abcdefghijklmnopqrstuvwxyz", map[string]any{"password_hash": "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC"}},
	{"bcrypt2y", "a", map[string]any{"password_hash": "$2y$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe"}},
	{"scrypt", "password", map[string]any{"password_hash": "$scrypt$ln=8,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ"}},
	{"pbkdf2sha256", "password", map[string]any{"password_hash": "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"}},
	{"pbkdf2sha512", "password", map[string]any{"password_hash": "$pbkdf2-sha512$1212$RHY0Fr3IDMSVO/RSZyb5ow$eNLfBK.eVozomMr.1gYa17k9B7KIK25NOEshvhrSX.esqY3s.FvWZViXz4KoLlQI.BzY/YTNJOiKc5gBYFYGww"}},
	{"firebase", "user1password", map[string]any{"firebase_scrypt": firebaseREADME}},
	{"plain", "a plain imported password", map[string]any{"password": "a plain imported password"}},
}

// runCLI runs the gatehouse binary against env's database, as an operator
// would while the server keeps running, and returns stdout, stderr and
// the exit status.
func runCLI(t *testing.T, env *servertest.Env, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = env.DataDir
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_DB="+env.Server.Config.DB,
		"GATEHOUSE_DATA_DIR="+env.DataDir,
		"GATEHOUSE_ADMIN_KEY="+servertest.AdminKey,
		"GATEHOUSE_MASTER_KEY="+servertest.MasterKey,
		"GATEHOUSE_LOG_LEVEL=error")
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// writeLines writes a JSON Lines file of the given objects (strings are
// written as they are) and returns its path.
func writeLines(t *testing.T, lines ...any) string {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		if s, ok := l.(string); ok {
			b.WriteString(s)
		} else {
			j, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(j)
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "users.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func login(env *servertest.Env, username, pw string) int {
	return env.Do(servertest.Request{Method: "POST", Path: "/auth/login",
		JSON: map[string]any{"username": username, "password": pw}}).Status
}

func kindLines() []any {
	var lines []any
	for i, k := range importKinds {
		l := map[string]any{"id": fmt.Sprintf("9%03d", i), "username": "user-" + k.kind, "email": k.kind + "@example.com",
			"roles": []string{"staff"}, "attributes": map[string]any{"kind": k.kind}}
		for f, v := range k.line {
			l[f] = v
		}
		lines = append(lines, l)
	}
	return lines
}

func bothStores(t *testing.T, fn func(t *testing.T, pg bool)) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) { fn(t, pg) })
	}
}

// Every hash kind: imported while the server runs, signs in at once, is
// re-hashed to the server's argon2id, and signs in again with it.
func TestImport_EveryHashKindSignsInAndIsRehashed(t *testing.T) {
	bothStores(t, func(t *testing.T, pg bool) {
		env := servertest.New(t, servertest.Options{Postgres: pg, RealClock: true})
		file := writeLines(t, kindLines()...)
		out, errOut, code := runCLI(t, env, "", "import", "--file", file)
		if code != 0 || !strings.Contains(out, fmt.Sprintf("imported %d, updated 0, skipped 0, failed 0", len(importKinds))) {
			t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
		}
		ctx := context.Background()
		for i, k := range importKinds {
			id := fmt.Sprintf("9%03d", i)
			before, err := env.Server.Store.GetUser(ctx, "default", id)
			if err != nil {
				t.Fatal(err)
			}
			if code := login(env, "user-"+k.kind, k.password+"!"); code != http.StatusUnauthorized {
				t.Errorf("%s: wrong password answered %d", k.kind, code)
			}
			if code := login(env, "user-"+k.kind, k.password); code != http.StatusOK {
				t.Fatalf("%s: sign-in after import answered %d", k.kind, code)
			}
			after, _ := env.Server.Store.GetUser(ctx, "default", id)
			if !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=1024,t=1,p=1$") || after.PasswordHash == before.PasswordHash && k.kind != "plain" {
				t.Fatalf("%s: hash after sign-in %.40q (before %.40q), want the server's argon2id", k.kind, after.PasswordHash, before.PasswordHash)
			}
			if code := login(env, "user-"+k.kind, k.password); code != http.StatusOK {
				t.Fatalf("%s: sign-in with the re-hashed password answered %d", k.kind, code)
			}
			again, _ := env.Server.Store.GetUser(ctx, "default", id)
			if again.PasswordHash != after.PasswordHash {
				t.Errorf("%s: a current hash was re-hashed again", k.kind)
			}
			if again.Email != k.kind+"@example.com" || len(again.Roles) != 1 || again.Attributes["kind"] != k.kind {
				t.Errorf("%s: fields not imported: %+v", k.kind, again)
			}
		}
		// The run is audited.
		r := env.Admin("GET", "/admin/audit?type=users_imported", "", nil)
		events, _ := r.JSON(t)["events"].([]any)
		if len(events) != 1 {
			t.Fatalf("users_imported events: %s", r.Body)
		}
		if d := events[0].(map[string]any)["details"].(map[string]any); d["imported"] != float64(len(importKinds)) {
			t.Errorf("audit details %v", d)
		}
	})
}

// Every kind of bad line is reported with its number and reason, skipped,
// and turns the exit status to 1; the good lines around them are imported.
func TestImport_BadLinesReportedAndSkipped(t *testing.T) {
	bothStores(t, func(t *testing.T, pg bool) {
		env := servertest.New(t, servertest.Options{Postgres: pg})
		env.CreateUser("", map[string]any{"username": "taken", "email": "taken@example.com", "password": "an existing password"})
		argon := "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"
		bad := []struct {
			line   any
			reason string
		}{
			{`{"username": "broken"`, "not a JSON user object"},
			{`["an", "array"]`, "not a JSON user object"},
			{`{"username": "x"} {"username": "y"}`, "more than one value"},
			{map[string]any{"username": "typo", "pasword_hash": argon}, `unknown field "pasword_hash"`},
			{map[string]any{"username": 42}, `field "username" has the wrong type`},
			{map[string]any{"email": "nobody@example.com"}, "username is required"},
			{map[string]any{"id": "bad id!", "username": "badid"}, "id must be"},
			{map[string]any{"username": "bademail", "email": "not an address"}, "email is not a valid address"},
			{map[string]any{"username": "badstatus", "status": "sleeping"}, "status must be"},
			{map[string]any{"username": "both", "password": "a long enough password", "password_hash": argon}, "not both"},
			{map[string]any{"username": "bothfb", "password_hash": argon, "firebase_scrypt": firebaseREADME}, "at most one of"},
			{map[string]any{"username": "short", "password": "short"}, "at least"},
			{map[string]any{"username": "huge", "password_hash": "$argon2id$v=19$m=1048576,t=64,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"}, "memory 1048576 KiB"},
			{map[string]any{"username": "slow", "password_hash": "$2b$15$" + strings.Repeat("a", 53)}, "bcrypt cost 15"},
			{map[string]any{"username": "md5", "password_hash": "$1$saltsalt$hash"}, "unknown hash kind"},
			{map[string]any{"username": "fbbad", "firebase_scrypt": map[string]any{"hash": "!!", "salt": "c2FsdA==", "signer_key": "a2V5", "salt_separator": "Bw==", "rounds": 8, "mem_cost": 14}}, "firebase_scrypt"},
			{map[string]any{"username": "fbslow", "firebase_scrypt": map[string]any{"hash": "AAAA", "salt": "c2FsdA==", "signer_key": "AAAA", "salt_separator": "Bw==", "rounds": 8, "mem_cost": 20}}, "mem_cost"},
			{map[string]any{"username": "when", "created_at": "yesterday"}, "created_at must be an RFC 3339 time"},
			{map[string]any{"username": "clash", "email": "TAKEN@example.com"}, "conflict: the email belongs to another user"},
			{map[string]any{"id": "newid", "username": "Taken"}, "conflict: the username belongs to another user"},
			{`{"username": "long", "display_name": "` + strings.Repeat("x", 1<<20) + `"}`, "longer than"},
		}
		lines := []any{map[string]any{"username": "good-first", "password_hash": argon}}
		for _, b := range bad {
			lines = append(lines, b.line)
		}
		lines = append(lines, "", map[string]any{"username": "good-last", "password_hash": argon},
			map[string]any{"username": "GOOD-LAST", "email": "dup@example.com"})
		out, errOut, code := runCLI(t, env, "", "import", "--file", writeLines(t, lines...))
		if code != 1 {
			t.Fatalf("exit status %d, want 1\n%s\n%s", code, out, errOut)
		}
		if !strings.Contains(out, fmt.Sprintf("imported 2, updated 0, skipped 1, failed %d", len(bad))) {
			t.Fatalf("summary: %s\n%s", out, errOut)
		}
		for i, b := range bad {
			want := fmt.Sprintf("line %d: ", i+2)
			idx := strings.Index(errOut, want)
			if idx < 0 {
				t.Errorf("no report for line %d (%s):\n%s", i+2, b.reason, errOut)
				continue
			}
			rest := errOut[idx:]
			if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
				rest = rest[:nl]
			}
			if !strings.Contains(rest, b.reason) {
				t.Errorf("line %d: reported %q, want %q", i+2, rest, b.reason)
			}
		}
		for _, name := range []string{"good-first", "good-last"} {
			if code := login(env, name, "password"); code != http.StatusOK {
				t.Errorf("%s: sign-in answered %d", name, code)
			}
		}
		users, _ := env.Server.Store.ListUsers(context.Background(), "default", store.ListUsersParams{Limit: 100})
		if len(users) != 3 {
			t.Errorf("%d users stored, want taken + 2 good lines", len(users))
		}
	})
}

// An import is idempotent; --on-conflict update and fail; --dry-run
// writes nothing.
func TestImport_IdempotentAndConflictModes(t *testing.T) {
	bothStores(t, func(t *testing.T, pg bool) {
		env := servertest.New(t, servertest.Options{Postgres: pg})
		argon := "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"
		first := writeLines(t,
			map[string]any{"id": "u1", "username": "ann", "display_name": "Ann", "password_hash": argon},
			map[string]any{"username": "ben", "display_name": "Ben", "password_hash": argon})
		out, errOut, code := runCLI(t, env, "", "import", "--file", first, "--dry-run")
		if code != 0 || !strings.Contains(out, "would have imported 2, updated 0, skipped 0, failed 0") {
			t.Fatalf("dry run: %d %s %s", code, out, errOut)
		}
		if code := login(env, "ann", "password"); code != http.StatusUnauthorized {
			t.Fatalf("dry run wrote a user: sign-in answered %d", code)
		}
		for range 2 {
			out, errOut, code = runCLI(t, env, "", "import", "--file", first)
			if code != 0 {
				t.Fatalf("import: %d %s %s", code, out, errOut)
			}
		}
		if !strings.Contains(out, "imported 0, updated 0, skipped 2, failed 0") {
			t.Fatalf("second run: %s", out)
		}
		ctx := context.Background()
		all, _ := env.Server.Store.ListUsers(ctx, "default", store.ListUsersParams{Limit: 10})
		if len(all) != 2 {
			t.Fatalf("%d users after two runs, want 2", len(all))
		}
		changed := writeLines(t,
			map[string]any{"id": "u1", "username": "ann", "display_name": "Ann Changed", "status": "disabled"},
			map[string]any{"username": "BEN", "display_name": "Ben Changed"})
		out, _, code = runCLI(t, env, "", "import", "--file", changed, "--on-conflict", "fail")
		if code != 1 || !strings.Contains(out, "failed 2") {
			t.Fatalf("fail mode: %d %s", code, out)
		}
		tk := env.Login("", "ann", "password")
		out, errOut, code = runCLI(t, env, "", "import", "--file", changed, "--on-conflict", "update")
		if code != 0 || !strings.Contains(out, "imported 0, updated 2, skipped 0, failed 0") {
			t.Fatalf("update mode: %d %s %s", code, out, errOut)
		}
		ann, _ := env.Server.Store.GetUser(ctx, "default", "u1")
		if ann.DisplayName != "Ann Changed" || ann.Status != store.StatusDisabled || ann.PasswordHash == "" {
			t.Fatalf("ann after update: %+v", ann)
		}
		ben, _ := env.Server.Store.GetUserByLogin(ctx, "default", "ben")
		// The line's username is prepared like every username (RFC 8265).
		if ben.DisplayName != "Ben Changed" || ben.Username != "ben" {
			t.Fatalf("ben after update: %+v", ben)
		}
		// Disabling by import ends the user's sessions, as PATCH does.
		if r := env.Refresh("", tk.RefreshToken); r.Status == http.StatusOK {
			t.Fatalf("refresh of a user disabled by import answered %d", r.Status)
		}
		if code := login(env, "ben", "password"); code != http.StatusOK {
			t.Fatalf("ben's password was lost by an update without one: %d", code)
		}
		// From stdin: the same file is still all skipped.
		data, _ := os.ReadFile(first)
		if out, _, code := runCLI(t, env, string(data), "import", "--file", "-"); code != 0 || !strings.Contains(out, "skipped 2") {
			t.Fatalf("import from stdin: %d %s", code, out)
		}
		if _, _, code := runCLI(t, env, "", "import", "--file", first, "--on-conflict", "sometimes"); code == 0 {
			t.Fatal("unknown --on-conflict accepted")
		}
		if _, _, code := runCLI(t, env, "", "import", "--file", first, "--tenant", "nope"); code == 0 {
			t.Fatal("import into an unknown tenant succeeded")
		}
	})
}

// export → import into a fresh database → every user signs in, with the
// same id, fields and password, whatever kind of hash they had.
func TestExportImport_MovesATenant(t *testing.T) {
	bothStores(t, func(t *testing.T, pg bool) {
		src := servertest.New(t, servertest.Options{Postgres: pg})
		if _, errOut, code := runCLI(t, src, "", "import", "--file", writeLines(t, kindLines()...)); code != 0 {
			t.Fatalf("import: %s", errOut)
		}
		src.CreateUser("", map[string]any{"username": "native", "password": "a native password", "groups": []string{"g"}})
		src.CreateUser("", map[string]any{"username": "nopassword"})
		// One user signed in (so re-hashed) before the export.
		if code := login(src, "user-bcrypt", "abcdefghijklmnopqrstuvwxyz"); code != http.StatusOK {
			t.Fatal(code)
		}
		file := filepath.Join(t.TempDir(), "export.jsonl")
		_, errOut, code := runCLI(t, src, "", "export", "--file", file)
		if code != 0 || !strings.Contains(errOut, fmt.Sprintf("exported %d users", len(importKinds)+2)) {
			t.Fatalf("export: %d %s", code, errOut)
		}
		if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("export file mode: %v %v", st.Mode(), err)
		}
		dst := servertest.New(t, servertest.Options{Postgres: !pg})
		out, errOut, code := runCLI(t, dst, "", "import", "--file", file)
		if code != 0 || !strings.Contains(out, fmt.Sprintf("imported %d,", len(importKinds)+2)) {
			t.Fatalf("import of the export: %d %s %s", code, out, errOut)
		}
		ctx := context.Background()
		srcUsers, _ := src.Server.Store.ListUsers(ctx, "default", store.ListUsersParams{Limit: 100})
		for _, su := range srcUsers {
			du, err := dst.Server.Store.GetUser(ctx, "default", su.ID)
			if err != nil {
				t.Fatalf("%s missing after the move: %v", su.Username, err)
			}
			if du.Username != su.Username || du.Email != su.Email || du.PasswordHash != su.PasswordHash ||
				!du.CreatedAt.Equal(su.CreatedAt) || fmt.Sprint(du.Groups, du.Roles) != fmt.Sprint(su.Groups, su.Roles) {
				t.Errorf("%s differs after the move:\n%+v\n%+v", su.Username, su, du)
			}
		}
		for _, k := range importKinds {
			if code := login(dst, "user-"+k.kind, k.password); code != http.StatusOK {
				t.Errorf("%s: sign-in after the move answered %d", k.kind, code)
			}
		}
		if code := login(dst, "native", "a native password"); code != http.StatusOK {
			t.Errorf("native user: sign-in after the move answered %d", code)
		}
	})
}

// A running server keeps answering while an import writes to its database
// (another process, as in production): sign-ins and refreshes during the
// import all succeed, and imported users sign in at once.
func TestImport_ServerKeepsWorkingDuringImport(t *testing.T) {
	bothStores(t, func(t *testing.T, pg bool) {
		env := servertest.New(t, servertest.Options{Postgres: pg, RealClock: true})
		env.CreateUser("", map[string]any{"username": "busy", "password": "a busy user password"})
		argon := "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"
		var lines []any
		for i := range 5000 {
			lines = append(lines, map[string]any{"username": fmt.Sprintf("bulk%05d", i), "email": fmt.Sprintf("bulk%05d@example.com", i), "password_hash": argon})
		}
		file := writeLines(t, lines...)
		cmd := exec.Command(binary, "import", "--file", file)
		cmd.Dir = env.DataDir
		cmd.Env = append(os.Environ(), "GATEHOUSE_DB="+env.Server.Config.DB, "GATEHOUSE_DATA_DIR="+env.DataDir,
			"GATEHOUSE_ADMIN_KEY="+servertest.AdminKey, "GATEHOUSE_MASTER_KEY="+servertest.MasterKey, "GATEHOUSE_LOG_LEVEL=error")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		tk := env.Login("", "busy", "a busy user password")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		requests, refresh := 0, tk.RefreshToken
		var runErr error
	loop:
		for {
			select {
			case runErr = <-done:
				break loop
			default:
			}
			r := env.Refresh("", refresh)
			if r.Status != http.StatusOK {
				t.Fatalf("refresh during the import answered %d %s", r.Status, r.Body)
			}
			var next servertest.Tokens
			r.Decode(t, &next)
			refresh = next.RefreshToken
			if code := login(env, "busy", "a busy user password"); code != http.StatusOK {
				t.Fatalf("sign-in during the import answered %d", code)
			}
			requests++
		}
		if runErr != nil || !strings.Contains(stdout.String(), "imported 5000, updated 0, skipped 0, failed 0") {
			t.Fatalf("import: %v %s %s", runErr, stdout.String(), stderr.String())
		}
		t.Logf("%d refresh + sign-in rounds ran during the import", requests)
		if code := login(env, "bulk04999", "password"); code != http.StatusOK {
			t.Fatalf("imported user: sign-in answered %d", code)
		}
	})
}

// A user the database itself refuses (PostgreSQL refuses a NUL byte in
// text) fails alone: the other users of its batch are written.
func TestImport_DatabaseRefusalFailsOnlyThatLine(t *testing.T) {
	bothStores(t, func(t *testing.T, pg bool) {
		env := servertest.New(t, servertest.Options{Postgres: pg})
		file := writeLines(t,
			map[string]any{"username": "before"},
			map[string]any{"username": "nul", "display_name": "a\x00b"},
			map[string]any{"username": "after"})
		out, errOut, code := runCLI(t, env, "", "import", "--file", file)
		ctx := context.Background()
		for _, name := range []string{"before", "after"} {
			if _, err := env.Server.Store.GetUserByLogin(ctx, "default", name); err != nil {
				t.Errorf("%s, in the batch of a refused line, not imported: %v\n%s\n%s", name, err, out, errOut)
			}
		}
		if pg && (code != 1 || !strings.Contains(errOut, "line 2: ") || !strings.Contains(out, "imported 2, updated 0, skipped 0, failed 1")) {
			t.Errorf("NUL line on PostgreSQL: exit %d\n%s\n%s", code, out, errOut)
		}
	})
}
