package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// Imported hashes are refused outside the cost bounds, on create and on
// PATCH, with a 400 that names the rule; inside them they are stored and
// sign in.
func TestUsers_ImportedHashBounds(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			env := servertest.New(t, servertest.Options{Postgres: pg})
			salt, sum := "c29tZXNhbHRzb21lc2FsdA", "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
			tooCostly := []struct{ hash, says string }{
				{"$argon2id$v=19$m=1048576,t=64,p=1$" + salt + "$" + sum, "memory 1048576 KiB"},
				{"$argon2id$v=19$m=65536,t=11,p=1$" + salt + "$" + sum, "iterations 11"},
				{"$argon2id$v=19$m=65536,t=2,p=8$" + salt + "$" + sum, "parallelism 8"},
				{"$2b$15$" + strings.Repeat("a", 53), "bcrypt cost 15"},
				{"$2b$31$" + strings.Repeat("a", 53), "bcrypt cost 31"},
				{"$scrypt$ln=20,r=8,p=1$" + salt + "$" + sum, "scrypt memory"},
				{"$pbkdf2-sha256$100000000$" + salt + "$" + strings.ReplaceAll(sum, "+", "."), "rounds"},
				{"$firebase-scrypt$r=8,m=20$Bw$AAAAAAAAAAAAAAAAAAAAAA$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", "mem_cost"},
			}
			id := env.CreateUser("", map[string]any{"username": "victim", "password": "a good long password"})
			for _, tc := range tooCostly {
				r := env.Admin("POST", "/admin/users", "", map[string]any{"username": "attacker", "password_hash": tc.hash})
				if r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_request" || !strings.Contains(r.JSON(t)["message"].(string), tc.says) {
					t.Errorf("create with %.30s: %d %s", tc.hash, r.Status, r.Body)
				}
				r = env.Admin("PATCH", "/admin/users/"+id, "", map[string]any{"password_hash": tc.hash})
				if r.Status != http.StatusBadRequest || !strings.Contains(r.JSON(t)["message"].(string), tc.says) {
					t.Errorf("patch with %.30s: %d %s", tc.hash, r.Status, r.Body)
				}
			}
			// The refused PATCHes left the password alone.
			env.Login("", "victim", "a good long password")
			// At the bounds: accepted (argon2id m=64 MiB, t=10, p=4 would be
			// slow to verify here, so a cheaper reference hash signs in).
			if r := env.Admin("POST", "/admin/users", "", map[string]any{"username": "edge",
				"password_hash": "$argon2id$v=19$m=65536,t=10,p=4$" + salt + "$" + sum}); r.Status != http.StatusCreated {
				t.Fatalf("hash at the bounds refused: %d %s", r.Status, r.Body)
			}
			if r := env.Admin("PATCH", "/admin/users/"+id, "", map[string]any{
				"password_hash": "$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M"}); r.Status != http.StatusOK {
				t.Fatalf("patch with a PBKDF2 hash: %d %s", r.Status, r.Body)
			}
			env.Login("", "victim", "password") // passlib's documented example
		})
	}
}
