package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// fullUser sets every field, with times at microsecond precision.
func fullUser(tenantID, id, username string) store.User {
	u := newUser(tenantID, id, username)
	u.Email = username + "@Example.com"
	u.Phone = "+1555" + id
	u.DisplayName = "Display " + username
	u.AvatarURL = "https://img.example.com/" + id + ".png"
	u.Groups = []string{"staff", "ops"}
	u.Roles = []string{"admin"}
	u.Attributes = map[string]any{
		"plan":   "pro",
		"level":  42.0,
		"ratio":  0.25,
		"flag":   true,
		"none":   nil,
		"nested": map[string]any{"list": []any{1.0, "x", false}, "deep": map[string]any{"k": "v"}},
	}
	u.Status = store.StatusLocked
	u.MustChangePassword = true
	u.CreatedAt = base.Add(123456 * time.Microsecond)
	// Given in another zone: the store keeps the instant and answers in UTC.
	u.UpdatedAt = base.Add(2 * day).In(time.FixedZone("UTC+5", 5*3600))
	u.PasswordChangedAt = base.Add(day + 7*time.Microsecond)
	return u
}

// checkUser compares every field of a stored user with what was written.
func checkUser(t *testing.T, got, want store.User) {
	t.Helper()
	if got.TenantID != want.TenantID || got.ID != want.ID || got.Username != want.Username ||
		got.Email != want.Email || got.Phone != want.Phone || got.DisplayName != want.DisplayName ||
		got.AvatarURL != want.AvatarURL || got.Status != want.Status ||
		got.MustChangePassword != want.MustChangePassword || got.PasswordHash != want.PasswordHash {
		t.Errorf("user scalar fields:\n got %+v\nwant %+v", got, want)
	}
	sameStrings(t, "user Groups", got.Groups, want.Groups)
	sameStrings(t, "user Roles", got.Roles, want.Roles)
	if len(want.Attributes) == 0 {
		if len(got.Attributes) != 0 {
			t.Errorf("user Attributes = %v, want none", got.Attributes)
		}
	} else {
		sameJSON(t, "user Attributes", got.Attributes, want.Attributes)
	}
	sameTime(t, "user CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "user UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	sameTime(t, "user PasswordChangedAt", got.PasswordChangedAt, want.PasswordChangedAt)
}

func testUserRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	full := mustUser(t, s, fullUser("t1", "u1", "alice"))
	bare := mustUser(t, s, store.User{TenantID: "t1", ID: "u2", Username: "bob", Status: store.StatusActive})

	for _, want := range []store.User{full, bare} {
		got, err := s.GetUser(ctx, "t1", want.ID)
		if err != nil {
			t.Fatalf("GetUser(%s): %v", want.ID, err)
		}
		checkUser(t, got, want)
		byLogin, err := s.GetUserByLogin(ctx, "t1", want.Username)
		if err != nil {
			t.Fatalf("GetUserByLogin(%s): %v", want.Username, err)
		}
		checkUser(t, byLogin, want)
	}
	list, err := s.ListUsers(ctx, "t1", store.ListUsersParams{Limit: 10})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("ListUsers returned %d users, want 2", len(list))
	}
	checkUser(t, list[0], full)
	checkUser(t, list[1], bare)
}

func testUserUniqueRules(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	alice := newUser("t1", "alice-id", "Alice")
	alice.Email, alice.Phone = "Alice@Example.com", "+15550001"
	mustUser(t, s, alice)

	variant := func(id string, edit func(*store.User)) store.User {
		u := newUser("t1", id, "user-"+id)
		edit(&u)
		return u
	}
	conflicts := []struct {
		name string
		u    store.User
	}{
		{"same id", variant("alice-id", func(*store.User) {})},
		{"same username", variant("x1", func(u *store.User) { u.Username = "Alice" })},
		{"username other case", variant("x2", func(u *store.User) { u.Username = "aLICE" })},
		{"email other case", variant("x3", func(u *store.User) { u.Email = "alice@example.COM" })},
		{"same phone", variant("x4", func(u *store.User) { u.Phone = "+15550001" })},
	}
	for _, c := range conflicts {
		wantErr(t, "CreateUser "+c.name, s.CreateUser(ctx, c.u), store.ErrConflict)
		if c.u.ID != alice.ID {
			_, err := s.GetUser(ctx, "t1", c.u.ID)
			wantErr(t, "GetUser after conflicting create ("+c.name+")", err, store.ErrNotFound)
		}
	}

	allowed := []store.User{
		newUser("t1", "carol-id", "carol"), // no email, no phone
		newUser("t1", "dave-id", "dave"),   // no email, no phone either
		func() store.User { // everything of alice, in another tenant
			u := newUser("t2", "alice-id", "ALICE")
			u.Email, u.Phone = "alice@example.com", "+15550001"
			return u
		}(),
		variant("x5", func(u *store.User) { u.Email = "alice@example.org"; u.Phone = "+15550002" }),
	}
	for _, u := range allowed {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Errorf("CreateUser(%s/%s %q): %v, want success", u.TenantID, u.ID, u.Username, err)
		}
	}
}

func testUserByLogin(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	alice := newUser("t1", "u1", "Alice")
	alice.Email, alice.Phone = "Alice@Example.com", "+15550001"
	mustUser(t, s, alice)
	mustUser(t, s, newUser("t1", "u2", "bob")) // no email, no phone
	mustUser(t, s, newUser("t2", "u9", "carol"))

	for _, login := range []string{"Alice", "alice", "ALICE", "alice@example.com", "ALICE@EXAMPLE.COM", "+15550001"} {
		got, err := s.GetUserByLogin(ctx, "t1", login)
		if err != nil {
			t.Errorf("GetUserByLogin(%q): %v", login, err)
			continue
		}
		if got.ID != "u1" {
			t.Errorf("GetUserByLogin(%q) = user %q, want u1", login, got.ID)
		}
	}
	for _, c := range []struct{ tenant, login string }{
		{"t1", "nobody"},
		{"t1", ""}, // must not match users without email or phone
		{"t1", "carol"},
		{"t2", "alice"},
		{"t2", "alice@example.com"},
		{"t2", "+15550001"},
		{"t3", "alice"},
	} {
		_, err := s.GetUserByLogin(ctx, c.tenant, c.login)
		wantErr(t, fmt.Sprintf("GetUserByLogin(%s, %q)", c.tenant, c.login), err, store.ErrNotFound)
	}
}

func testUserNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	_, err := s.GetUser(ctx, "t1", "nope")
	wantErr(t, "GetUser unknown", err, store.ErrNotFound)
	_, err = s.GetUser(ctx, "t2", "u1")
	wantErr(t, "GetUser other tenant", err, store.ErrNotFound)
}

func testUserListPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	for _, id := range []string{"u3", "u1", "u5", "u2", "u4"} {
		mustUser(t, s, newUser("t1", id, "name-"+id))
	}
	mustUser(t, s, newUser("t2", "u0", "other"))
	mustUser(t, s, newUser("t2", "u6", "other6"))

	pages := []struct {
		after string
		limit int
		want  []string
	}{
		{"", 2, []string{"u1", "u2"}},
		{"u2", 2, []string{"u3", "u4"}},
		{"u4", 2, []string{"u5"}},
		{"u5", 2, nil},
		{"", 10, []string{"u1", "u2", "u3", "u4", "u5"}},
		{"u25", 1, []string{"u3"}}, // a cursor need not be an existing id
	}
	for _, p := range pages {
		got, err := s.ListUsers(ctx, "t1", store.ListUsersParams{AfterID: p.after, Limit: p.limit})
		if err != nil {
			t.Fatalf("ListUsers(after %q, limit %d): %v", p.after, p.limit, err)
		}
		var ids []string
		for _, u := range got {
			ids = append(ids, u.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(p.want) {
			t.Errorf("ListUsers(after %q, limit %d) = %v, want %v", p.after, p.limit, ids, p.want)
		}
	}
	got, err := s.ListUsers(ctx, "t3", store.ListUsersParams{Limit: 10})
	if err != nil || len(got) != 0 {
		t.Errorf("ListUsers(unknown tenant) = %d users, %v; want none", len(got), err)
	}
}
