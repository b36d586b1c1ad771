package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, nameCases...)
}

// nameCases check how usernames and emails compare (package names) and the
// one-issuer-per-tenant rule of providers.
var nameCases = []testCase{
	{"Names/UsernamesComparePrepared", testNamesPrepared},
	{"Names/EmailsFoldASCIIOnly", testNamesEmailASCII},
	{"Names/RenameClearsLegacyMark", testNamesRename},
	{"Names/NULIsInvalidNotStored", testNamesNUL},
	{"Providers/OneIssuerPerTenant", testProviderOneIssuer},
}

// testNamesPrepared: a username's key is its RFC 8265 preparation, so
// Alice, ALICE and ａｌｉｃｅ are one name.
func testNamesPrepared(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	for _, name := range []string{"Alice", "ALICE", "ａｌｉｃｅ", "Ａｌｉｃｅ"} {
		wantErr(t, "CreateUser "+name, s.CreateUser(ctx, newUser("t1", "x-"+name, name)), store.ErrConflict)
	}
	mustUser(t, s, newUser("t2", "u2", "ａｌｉｃｅ")) // other tenant
	for _, login := range []string{"alice", "ALICE", "ａｌｉｃｅ", "Ａｌｉｃｅ"} {
		u, err := s.GetUserByLogin(ctx, "t1", login)
		if err != nil || u.ID != "u1" {
			t.Errorf("GetUserByLogin(%q) = %s, %v; want u1", login, u.ID, err)
		}
	}
	if _, err := s.GetUserByLogin(ctx, "t1", "ali\u200bce"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("zero-width login: %v, want not found", err)
	}
	if got, err := s.ListLegacyUsernames(ctx, ""); err != nil || len(got) != 0 {
		t.Errorf("ListLegacyUsernames = %v, %v; want none", got, err)
	}
}

// testNamesEmailASCII: emails compare case-insensitively in ASCII only; the
// Kelvin sign U+212A is not "k".
func testNamesEmailASCII(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	u := newUser("t1", "u1", "kelly")
	u.Email = "Kelly@Example.com"
	mustUser(t, s, u)
	for _, e := range []string{"kelly@example.com", "KELLY@EXAMPLE.COM"} {
		if got, err := s.GetUserByEmail(ctx, "t1", e); err != nil || got.ID != "u1" {
			t.Errorf("GetUserByEmail(%q) = %s, %v", e, got.ID, err)
		}
		if got, err := s.GetUserByLogin(ctx, "t1", e); err != nil || got.ID != "u1" {
			t.Errorf("GetUserByLogin(%q) = %s, %v", e, got.ID, err)
		}
	}
	kelvin := "\u212Aelly@example.com"
	if _, err := s.GetUserByEmail(ctx, "t1", kelvin); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUserByEmail(Kelvin) = %v, want not found", err)
	}
	if _, err := s.GetUserByLogin(ctx, "t1", kelvin); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUserByLogin(Kelvin) = %v, want not found", err)
	}
	other := newUser("t1", "u2", "kelvin")
	other.Email = kelvin
	mustUser(t, s, other) // a different address, not a duplicate
	if got, err := s.GetUserByEmail(ctx, "t1", kelvin); err != nil || got.ID != "u2" {
		t.Errorf("GetUserByEmail(Kelvin) = %s, %v; want u2", got.ID, err)
	}
}

// testNamesRename: a renamed user takes the key of its new name.
func testNamesRename(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	mustUser(t, s, newUser("t1", "u2", "bob"))
	_, err := s.UpdateUser(ctx, "t1", "u2", func(u *store.User) error { u.Username = "ALICE"; return nil })
	wantErr(t, "rename to ALICE", err, store.ErrConflict)
	if _, err := s.UpdateUser(ctx, "t1", "u2", func(u *store.User) error { u.Username = "carol"; return nil }); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if u, err := s.GetUserByLogin(ctx, "t1", "CAROL"); err != nil || u.ID != "u2" {
		t.Errorf("GetUserByLogin(CAROL) = %s, %v", u.ID, err)
	}
	if _, err := s.GetUserByLogin(ctx, "t1", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old name still found: %v", err)
	}
	// Updating other fields keeps the key.
	if _, err := s.UpdateUser(ctx, "t1", "u2", func(u *store.User) error { u.DisplayName = "Carol"; return nil }); err != nil {
		t.Fatalf("update: %v", err)
	}
	if u, err := s.GetUserByLogin(ctx, "t1", "carol"); err != nil || u.ID != "u2" {
		t.Errorf("GetUserByLogin(carol) after update = %s, %v", u.ID, err)
	}
}

// testNamesNUL: a NUL byte never reaches a stored row on PostgreSQL; the
// store answers ErrInvalid (not an internal error) there, and a lookup
// with a NUL finds nothing on every store.
func testNamesNUL(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	if s.Kind() == "postgres" {
		u := newUser("t1", "u1", "a\x00b")
		wantErr(t, "CreateUser with NUL", s.CreateUser(ctx, u), store.ErrInvalid)
		u = newUser("t1", "u1", "ab")
		u.Attributes = map[string]any{"k": "v\x00"}
		wantErr(t, "CreateUser with NUL in attributes", s.CreateUser(ctx, u), store.ErrInvalid)
	}
	mustUser(t, s, newUser("t1", "u2", "plain"))
	_, err := s.GetUserByLogin(ctx, "t1", "pla\x00in")
	if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrInvalid) {
		t.Errorf("GetUserByLogin with NUL = %v, want not found or invalid", err)
	}
	if _, err := s.GetUser(ctx, "t1", "u2\x00"); err == nil || (!errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrInvalid)) {
		t.Errorf("GetUser with NUL = %v, want not found or invalid", err)
	}
}

// testProviderOneIssuer: a tenant has one provider per issuer.
func testProviderOneIssuer(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	a := mustProvider(t, s, newProvider("t1", "a"))
	b := newProvider("t1", "b")
	b.Issuer = a.Issuer
	wantErr(t, "second provider of the issuer", s.CreateProvider(ctx, b), store.ErrConflict)
	wantErr(t, "PutProvider of the issuer", s.PutProvider(ctx, b), store.ErrConflict)
	c := newProvider("t2", "c")
	c.Issuer = a.Issuer
	mustProvider(t, s, c) // another tenant may
	// Replacing the provider itself keeps its issuer.
	a.Audiences = []string{"changed"}
	if err := s.PutProvider(ctx, a); err != nil {
		t.Fatalf("PutProvider(a): %v", err)
	}
	if !strings.HasPrefix(a.Issuer, "https://") {
		t.Fatal("fixture issuer changed")
	}
}

// LegacyNames is the state of a database holding, before migration 0008,
// the users that CheckNameMigration expects in tenant "t1":
//
//	id  username    old key      email                 created
//	u1  ａｌｉｃｅ      ａｌｉｃｅ       -                     first
//	u2  Alice       alice        -                     second
//	u3  ＣＡＲＯＬ       ｃａｒｏｌ        -                     third
//	u4  John Doe    john doe     -                     fourth
//	u5  kelly       kelly        \u212Aelly@x.test       fifth (old email key kelly@x.test)
//
// and two providers "p1" (older) and "p2" of issuer https://idp.example.
// A backend's own test seeds these rows with SQL, migrates and calls
// CheckNameMigration.
var LegacyNames = []struct{ ID, Username, OldKey, Email, OldEmailKey string }{
	{"u1", "ａｌｉｃｅ", "ａｌｉｃｅ", "", ""},
	{"u2", "Alice", "alice", "", ""},
	{"u3", "ＣＡＲＯＬ", "ｃａｒｏｌ", "", ""},
	{"u4", "John Doe", "john doe", "", ""},
	{"u5", "kelly", "kelly", "\u212Aelly@x.test", "kelly@x.test"},
}

// CheckNameMigration checks a store migrated from LegacyNames: no user is
// merged, the colliding and refused names keep signing in under their
// stored names and are listed, and new names are compared prepared.
func CheckNameMigration(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	for login, want := range map[string]string{
		"ａｌｉｃｅ": "u1", "Alice": "u2", "alice": "u2", "ALICE": "u2",
		"ＣＡＲＯＬ": "u3", "carol": "u3", "Carol": "u3",
		"John Doe": "u4", "john doe": "u4", "kelly": "u5", "\u212Aelly@x.test": "u5",
	} {
		u, err := s.GetUserByLogin(ctx, "t1", login)
		if err != nil || u.ID != want {
			t.Errorf("after migration GetUserByLogin(%q) = %s, %v; want %s", login, u.ID, err, want)
		}
	}
	if _, err := s.GetUserByLogin(ctx, "t1", "kelly@x.test"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the Kelvin email still matches kelly@x.test: %v", err)
	}
	got, err := s.ListLegacyUsernames(ctx, "")
	if err != nil {
		t.Fatalf("ListLegacyUsernames: %v", err)
	}
	want := []store.LegacyUsername{
		{TenantID: "t1", UserID: "u1", Username: "ａｌｉｃｅ", Reason: store.LegacyCollision},
		{TenantID: "t1", UserID: "u4", Username: "John Doe", Reason: store.LegacyRefused},
	}
	if len(got) != len(want) {
		t.Fatalf("ListLegacyUsernames = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("legacy %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if l, _ := s.ListLegacyUsernames(ctx, "t2"); len(l) != 0 {
		t.Errorf("legacy usernames of t2: %v", l)
	}
	// New names are refused against every existing one.
	for _, name := range []string{"alice", "carol", "ｃａｒｏｌ"} {
		wantErr(t, "new user "+name, s.CreateUser(ctx, newUser("t1", "new-"+name, name)), store.ErrConflict)
	}
	// Updating the colliding user keeps it working; renaming clears its mark.
	if _, err := s.UpdateUser(ctx, "t1", "u1", func(u *store.User) error { u.DisplayName = "A"; return nil }); err != nil {
		t.Fatalf("update u1: %v", err)
	}
	if u, err := s.GetUserByLogin(ctx, "t1", "ａｌｉｃｅ"); err != nil || u.ID != "u1" {
		t.Errorf("u1 after update: %s, %v", u.ID, err)
	}
	if _, err := s.UpdateUser(ctx, "t1", "u1", func(u *store.User) error { u.Username = "alice2"; return nil }); err != nil {
		t.Fatalf("rename u1: %v", err)
	}
	if l, _ := s.ListLegacyUsernames(ctx, "t1"); len(l) != 1 || l[0].UserID != "u4" {
		t.Errorf("legacy after rename: %+v, want only u4", l)
	}
	// The older of two providers of one issuer stays; both still work, a
	// new one is refused.
	for _, name := range []string{"p1", "p2"} {
		if _, err := s.GetProvider(ctx, "t1", name); err != nil {
			t.Errorf("provider %s after migration: %v", name, err)
		}
	}
	p := newProvider("t1", "p3")
	p.Issuer = "https://idp.example"
	wantErr(t, "third provider of the issuer", s.CreateProvider(ctx, p), store.ErrConflict)
}
