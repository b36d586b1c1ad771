package admin_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

var backends = []struct {
	name string
	pg   bool
}{{"sqlite", false}, {"postgres", true}}

// TestUsernames_PreparedByRFC8265: usernames are stored and compared in
// their PRECIS UsernameCaseMapped form, on create, update and sign-in.
func TestUsernames_PreparedByRFC8265(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			env := servertest.New(t, servertest.Options{Postgres: b.pg})
			r := env.Admin("POST", "/admin/users", "", map[string]any{"username": "Alice", "password": pw})
			if r.Status != http.StatusCreated || r.JSON(t)["username"] != "alice" {
				t.Fatalf("create Alice: %d %s", r.Status, r.Body)
			}
			alice := r.JSON(t)["id"].(string)
			for _, name := range []string{"alice", "ALICE", "ａｌｉｃｅ", "Ａｌｉｃｅ", " alice "} {
				if r := env.Admin("POST", "/admin/users", "", map[string]any{"username": name}); r.Status != http.StatusConflict {
					t.Errorf("create %q: %d %s, want 409", name, r.Status, r.Body)
				}
			}
			for _, name := range []string{"ali\u200bce", "ali\u200dce", "al ice", "a\x00b", "a\tb", "a\u0007b", "\u202eadmin", "a\u3000b"} {
				if r := env.Admin("POST", "/admin/users", "", map[string]any{"username": name}); r.Status != http.StatusBadRequest {
					t.Errorf("create %q: %d %s, want 400", name, r.Status, r.Body)
				}
			}
			if r := env.Admin("POST", "/admin/users", "", map[string]any{"username": "ＢＯＢ"}); r.Status != http.StatusCreated ||
				r.JSON(t)["username"] != "bob" {
				t.Fatalf("create ＢＯＢ: %d %s", r.Status, r.Body)
			}
			for _, login := range []string{"alice", "Alice", "ＡＬＩＣＥ", "ａｌｉｃｅ"} {
				if tk := env.Login("", login, pw); tk.User["id"] != alice {
					t.Errorf("login %q reached %v", login, tk.User["id"])
				}
			}
			if r := env.Do(servertest.Request{Method: "POST", Path: "/auth/login",
				JSON: map[string]any{"username": "ali\u200bce", "password": pw}}); r.Status != http.StatusUnauthorized {
				t.Errorf("login with a zero-width space: %d %s", r.Status, r.Body)
			}
			if r := env.Admin("PATCH", "/admin/users/"+alice, "", map[string]any{"username": "Ａｌｉｃｅ"}); r.Status != http.StatusOK {
				t.Errorf("rename to itself: %d %s", r.Status, r.Body)
			}
			bob := env.Admin("GET", "/admin/users?limit=10", "", nil).JSON(t)["users"].([]any)
			var bobID string
			for _, u := range bob {
				if m := u.(map[string]any); m["username"] == "bob" {
					bobID = m["id"].(string)
				}
			}
			if r := env.Admin("PATCH", "/admin/users/"+bobID, "", map[string]any{"username": "ALICE"}); r.Status != http.StatusConflict {
				t.Errorf("rename bob to ALICE: %d %s", r.Status, r.Body)
			}
			if r := env.Admin("PATCH", "/admin/users/"+bobID, "", map[string]any{"username": "bo b"}); r.Status != http.StatusBadRequest {
				t.Errorf("rename bob to a refused name: %d %s", r.Status, r.Body)
			}
			if r := env.Admin("PATCH", "/admin/users/"+bobID, "", map[string]any{"username": "Robert"}); r.Status != http.StatusOK ||
				r.JSON(t)["username"] != "robert" {
				t.Errorf("rename bob: %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestUsernameCollisions_KeptAndListed: a user whose name collides with
// another's once prepared (as the migration to RFC 8265 leaves it) keeps
// signing in under its stored name, is listed by GET
// /admin/username-collisions, and leaves the list when renamed.
func TestUsernameCollisions_KeptAndListed(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			env := servertest.New(t, servertest.Options{Postgres: b.pg})
			alice := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
			other := env.CreateUser("", map[string]any{"username": "placeholder", "password": pw + "2"})
			// The state migration 0008 leaves for a colliding pre-existing name.
			env.Exec(`UPDATE users SET username = 'ａｌｉｃｅ', username_lower = 'ａｌｉｃｅ', username_legacy = 1 WHERE id = '` + other + `'`)

			r := env.Admin("GET", "/admin/username-collisions", "", nil)
			list, _ := r.JSON(t)["collisions"].([]any)
			if r.Status != http.StatusOK || len(list) != 1 {
				t.Fatalf("collisions: %d %s", r.Status, r.Body)
			}
			c := list[0].(map[string]any)
			if c["user_id"] != other || c["username"] != "ａｌｉｃｅ" || c["reason"] != "collision" ||
				c["prepared"] != "alice" || c["conflicts_with"] != alice {
				t.Errorf("collision entry: %v", c)
			}
			if tk := env.Login("", "ａｌｉｃｅ", pw+"2"); tk.User["id"] != other {
				t.Errorf("stored name signed in %v, want %s", tk.User["id"], other)
			}
			if tk := env.Login("", "Alice", pw); tk.User["id"] != alice {
				t.Errorf("Alice signed in %v, want %s", tk.User["id"], alice)
			}
			// Other changes keep the user as it is; a new name clears the entry.
			if r := env.Admin("PATCH", "/admin/users/"+other, "", map[string]any{"display_name": "A. Other"}); r.Status != http.StatusOK {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
			env.Login("", "ａｌｉｃｅ", pw+"2")
			if r := env.Admin("PATCH", "/admin/users/"+other, "", map[string]any{"username": "alice2"}); r.Status != http.StatusOK {
				t.Fatalf("rename: %d %s", r.Status, r.Body)
			}
			if list := env.Admin("GET", "/admin/username-collisions", "", nil).JSON(t)["collisions"].([]any); len(list) != 0 {
				t.Errorf("collisions after rename: %v", list)
			}
			env.Login("", "ALICE2", pw+"2")
		})
	}
}
