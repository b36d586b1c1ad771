package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func testUserUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	orig := mustUser(t, s, fullUser("t1", "u1", "alice"))

	got, err := s.UpdateUser(ctx, "t1", "u1", func(u *store.User) error {
		if u.Username != "alice" || u.Email != orig.Email {
			return fmt.Errorf("fn saw %q/%q, want the stored user", u.Username, u.Email)
		}
		u.Username = "ALICE" // own name in another case is no conflict
		u.Email = "new@example.com"
		u.Phone = ""
		u.Roles = append(u.Roles, "auditor")
		u.Attributes = map[string]any{"plan": "free"}
		u.UpdatedAt = base.Add(3 * day)
		u.MustChangePassword = false
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	want := orig
	want.Username, want.Email, want.Phone = "ALICE", "new@example.com", ""
	want.Roles = []string{"admin", "auditor"}
	want.Attributes = map[string]any{"plan": "free"}
	want.UpdatedAt = base.Add(3 * day)
	want.MustChangePassword = false
	checkUser(t, got, want)
	stored, err := s.GetUser(ctx, "t1", "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	checkUser(t, stored, want)

	// The old email and phone are free again; the new email is taken.
	other := newUser("t1", "u2", "bob")
	other.Email, other.Phone = orig.Email, orig.Phone
	if err := s.CreateUser(ctx, other); err != nil {
		t.Errorf("CreateUser with the released email and phone: %v", err)
	}
	taken := newUser("t1", "u3", "carol")
	taken.Email = "NEW@example.com"
	wantErr(t, "CreateUser with the new email", s.CreateUser(ctx, taken), store.ErrConflict)
}

func testUserUpdateFnError(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	orig := mustUser(t, s, fullUser("t1", "u1", "alice"))
	stop := errors.New("stop")
	_, err := s.UpdateUser(ctx, "t1", "u1", func(u *store.User) error {
		u.DisplayName = "changed"
		u.Username = "changed"
		return stop
	})
	if err != stop { // unchanged: not wrapped
		t.Fatalf("UpdateUser returned %v, want the fn error unchanged", err)
	}
	got, err := s.GetUser(ctx, "t1", "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	checkUser(t, got, orig)
}

func testUserUpdateConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	alice := newUser("t1", "u1", "alice")
	alice.Email, alice.Phone = "alice@example.com", "+15550001"
	mustUser(t, s, alice)
	bob := mustUser(t, s, newUser("t1", "u2", "bob"))

	for _, c := range []struct {
		name string
		edit func(*store.User)
	}{
		{"username", func(u *store.User) { u.Username = "Alice"; u.DisplayName = "x" }},
		{"email", func(u *store.User) { u.Email = "ALICE@example.com"; u.DisplayName = "x" }},
		{"phone", func(u *store.User) { u.Phone = "+15550001"; u.DisplayName = "x" }},
	} {
		_, err := s.UpdateUser(ctx, "t1", "u2", func(u *store.User) error { c.edit(u); return nil })
		wantErr(t, "UpdateUser taking another user's "+c.name, err, store.ErrConflict)
		got, err := s.GetUser(ctx, "t1", "u2")
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		checkUser(t, got, bob)
	}
}

func testUserUpdateNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	called := false
	fn := func(*store.User) error { called = true; return nil }
	_, err := s.UpdateUser(ctx, "t1", "nope", fn)
	wantErr(t, "UpdateUser unknown", err, store.ErrNotFound)
	_, err = s.UpdateUser(ctx, "t2", "u1", fn)
	wantErr(t, "UpdateUser other tenant", err, store.ErrNotFound)
	if called {
		t.Error("UpdateUser called fn for a missing user")
	}
}

func testUserUpdateConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.UpdateUser(ctx, "t1", "u1", func(u *store.User) error {
				u.Roles = append(u.Roles, fmt.Sprintf("r%02d", i))
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("UpdateUser #%d: %v", i, err)
		}
	}
	got, err := s.GetUser(ctx, "t1", "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	roles := append([]string(nil), got.Roles...)
	sort.Strings(roles)
	if len(roles) != n {
		t.Fatalf("after %d concurrent updates Roles = %v (%d), want %d entries", n, roles, len(roles), n)
	}
	for i, r := range roles {
		if want := fmt.Sprintf("r%02d", i); r != want {
			t.Fatalf("Roles = %v, missing %s", roles, want)
		}
	}
}

func testUserDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	f := newFamily(t, s, "t1", "alice", base)
	second := newSession("t1", "alice-s2", f.user.ID, base.Add(time.Second))
	mustSession(t, s, second, newToken(hashOf("alice-s2-rt"), base))
	gone := newSession("t1", "alice-old", f.user.ID, base.Add(-40*day)) // expired at base-10d
	mustSession(t, s, gone, newToken(hashOf("alice-old-rt"), base.Add(-40*day)))
	bob := newFamily(t, s, "t1", "bob", base)

	now := base.Add(day)
	wantErr(t, "DeleteUser other tenant", s.DeleteUser(ctx, "t2", f.user.ID, now), store.ErrNotFound)
	if _, err := s.GetUser(ctx, "t1", f.user.ID); err != nil {
		t.Fatalf("user gone after DeleteUser in another tenant: %v", err)
	}
	before := revocations(t, s)

	if err := s.DeleteUser(ctx, "t1", f.user.ID, now); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.GetUser(ctx, "t1", f.user.ID)
	wantErr(t, "GetUser after DeleteUser", err, store.ErrNotFound)
	for _, id := range []string{f.session.ID, second.ID} {
		sess := mustGetSession(t, s, "t1", id)
		sameTime(t, "RevokedAt of "+id, sess.RevokedAt, now)
	}
	added := revocations(t, s)[len(before):]
	if len(added) != 2 {
		t.Fatalf("DeleteUser appended %d revocations, want 2 (one per live session): %+v", len(added), added)
	}
	got := map[string]bool{}
	for _, r := range added {
		got[r.SessionID] = true
		if r.TenantID != "t1" {
			t.Errorf("revocation tenant = %q, want t1", r.TenantID)
		}
		sameTime(t, "revocation RevokedAt", r.RevokedAt, now)
	}
	if !got[f.session.ID] || !got[second.ID] {
		t.Errorf("revocations cover %v, want %s and %s", got, f.session.ID, second.ID)
	}
	mustRotate(t, s, rotateReq(f, f.token, hashOf("alice-rt1"), now), store.Invalid)
	if live := mustGetSession(t, s, "t1", bob.session.ID); !live.RevokedAt.IsZero() {
		t.Error("DeleteUser revoked another user's session")
	}
	wantErr(t, "DeleteUser twice", s.DeleteUser(ctx, "t1", f.user.ID, now), store.ErrNotFound)
	// The username is free again.
	mustUser(t, s, newUser("t1", "alice-2", "alice"))
}
