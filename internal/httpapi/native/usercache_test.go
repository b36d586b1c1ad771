package native_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// TestMe_UserCacheBound: /auth/me answers from a user read at most
// UserCacheTTL (1 s) ago. Changes made through this process show at once;
// a change written by another process (here: straight into the store)
// shows within the bound.
func TestMe_UserCacheBound(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	email := func() any {
		r := env.Me("", tk.AccessToken)
		if r.Status != http.StatusOK {
			t.Fatalf("me: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)["email"]
	}
	if got := email(); got != "alice@example.com" {
		t.Fatalf("email %v", got)
	}
	id := env.Login("", "alice", pw).User["id"].(string)
	if _, err := env.Server.Store.UpdateUser(t.Context(), "default", id, func(u *store.User) error {
		u.Email = "elsewhere@example.com"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(1100 * time.Millisecond)
	if got := email(); got != "elsewhere@example.com" {
		t.Fatalf("a change made elsewhere not seen after the cache bound: %v", got)
	}
	if r := env.Admin("PATCH", "/admin/users/"+id, "", map[string]any{"email": "patched@example.com"}); r.Status != http.StatusOK {
		t.Fatalf("patch: %d", r.Status)
	}
	if got := email(); got != "patched@example.com" {
		t.Fatalf("a change made by this process not seen at once: %v", got)
	}
	if r := env.Admin("PATCH", "/admin/users/"+id, "", map[string]any{"status": "disabled"}); r.Status != http.StatusOK {
		t.Fatalf("disable: %d", r.Status)
	}
	if r := env.Me("", tk.AccessToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("disabled user's token accepted by /auth/me: %d", r.Status)
	}
}
