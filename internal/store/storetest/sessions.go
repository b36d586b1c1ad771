package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// checkSession compares every field of a stored session.
func checkSession(t *testing.T, got, want store.Session) {
	t.Helper()
	if got.TenantID != want.TenantID || got.ID != want.ID || got.UserID != want.UserID ||
		got.ClientID != want.ClientID || got.Kind != want.Kind || got.Actor != want.Actor ||
		got.IP != want.IP || got.UserAgent != want.UserAgent || got.Payload != want.Payload ||
		got.Reason != want.Reason || got.FirstParty != want.FirstParty ||
		got.ClientBound != want.ClientBound || got.ParentID != want.ParentID {
		t.Errorf("session scalar fields:\n got %+v\nwant %+v", got, want)
	}
	sameStrings(t, "session AMR", got.AMR, want.AMR)
	sameTime(t, "session CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "session LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	sameTime(t, "session ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	sameTime(t, "session AuthTime", got.AuthTime, want.AuthTime)
	sameTime(t, "session RevokedAt", got.RevokedAt, want.RevokedAt)
}

func testSessionRoundTrip(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	user := newSession("t1", "s1", "u1", base.Add(250*time.Microsecond))
	user.AMR = []string{"pwd", "otp"}
	user.Actor = "admin-7"
	user.AuthTime = base.Add(-time.Minute)
	app := newSession("t1", "s2", "u1", base)
	app.Kind = store.SessionApp
	app.Payload = "cart=42"
	app.AMR = nil
	app.LastUsedAt = time.Time{}
	app.ClientBound = true
	app.ParentID = "s1"
	user.FirstParty = true
	for i, sess := range []store.Session{user, app} {
		mustSession(t, s, sess, newToken(hashOf(fmt.Sprint("rt", i)), base))
		checkSession(t, mustGetSession(t, s, "t1", sess.ID), sess)
	}
}

func testSessionConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	sess := newSession("t1", "s1", "u1", base)
	mustSession(t, s, sess, newToken(hashOf("rt1"), base))

	err := s.CreateSession(ctx, sess, store.RefreshToken{Hash: hashOf("rt2"), TenantID: "t1", SessionID: "s1",
		Generation: 1, CreatedAt: base, ExpiresAt: base.Add(idleTTL)})
	wantErr(t, "CreateSession duplicate id", err, store.ErrConflict)

	// The session and its token go in together: a taken token hash leaves no session.
	other := newSession("t1", "s2", "u1", base)
	err = s.CreateSession(ctx, other, store.RefreshToken{Hash: hashOf("rt1"), TenantID: "t1", SessionID: "s2",
		Generation: 1, CreatedAt: base, ExpiresAt: base.Add(idleTTL)})
	wantErr(t, "CreateSession with a taken token hash", err, store.ErrConflict)
	_, err = s.GetSession(ctx, "t1", "s2")
	wantErr(t, "GetSession after failed CreateSession", err, store.ErrNotFound)
}

func testSessionNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	f := newFamily(t, s, "t1", "alice", base)
	_, err := s.GetSession(ctx, "t1", "nope")
	wantErr(t, "GetSession unknown", err, store.ErrNotFound)
	_, err = s.GetSession(ctx, "t2", f.session.ID)
	wantErr(t, "GetSession other tenant", err, store.ErrNotFound)
}

func testListUserSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	mustUser(t, s, newUser("t1", "u2", "bob"))
	mustUser(t, s, newUser("t2", "u1", "alice"))
	now := base.Add(10 * day)

	add := func(tenant, id, user string, created time.Time, edit func(*store.Session)) {
		sess := newSession(tenant, id, user, created)
		if edit != nil {
			edit(&sess)
		}
		mustSession(t, s, sess, newToken(hashOf(tenant+id), created))
	}
	add("t1", "old", "u1", base, nil)
	add("t1", "mid", "u1", base.Add(day), nil)
	add("t1", "new", "u1", base.Add(2*day), nil)
	add("t1", "expired", "u1", base.Add(3*day), func(x *store.Session) { x.ExpiresAt = now })
	add("t1", "revoked", "u1", base.Add(4*day), nil)
	add("t1", "bobs", "u2", base.Add(5*day), nil)
	add("t2", "foreign", "u1", base.Add(6*day), nil)
	if _, _, err := s.RevokeSession(ctx, "t1", "revoked", base.Add(5*day), "logout"); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}

	got, err := s.ListUserSessions(ctx, "t1", "u1", now)
	if err != nil {
		t.Fatalf("ListUserSessions: %v", err)
	}
	var ids []string
	for _, x := range got {
		ids = append(ids, x.ID)
	}
	if want := "[new mid old]"; fmt.Sprint(ids) != want {
		t.Errorf("ListUserSessions = %v, want %s (newest first, live only, this tenant and user)", ids, want)
	}
	if len(got) > 0 {
		checkSession(t, got[0], newSession("t1", "new", "u1", base.Add(2*day)))
	}
	got, err = s.ListUserSessions(ctx, "t2", "u1", now)
	if err != nil || len(got) != 1 || got[0].ID != "foreign" {
		t.Errorf("ListUserSessions(t2) = %+v, %v; want only foreign", got, err)
	}
	got, err = s.ListUserSessions(ctx, "t1", "nobody", now)
	if err != nil || len(got) != 0 {
		t.Errorf("ListUserSessions(unknown user) = %+v, %v; want none", got, err)
	}
}

func testRevokeSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	f := newFamily(t, s, "t1", "alice", base)
	now := base.Add(time.Hour)

	_, _, err := s.RevokeSession(ctx, "t2", f.session.ID, now, "logout")
	wantErr(t, "RevokeSession other tenant", err, store.ErrNotFound)
	_, _, err = s.RevokeSession(ctx, "t1", "nope", now, "logout")
	wantErr(t, "RevokeSession unknown", err, store.ErrNotFound)
	if n := len(revocations(t, s)); n != 0 {
		t.Fatalf("failed revocations appended %d records", n)
	}

	got, _, err := s.RevokeSession(ctx, "t1", f.session.ID, now, "logout")
	if err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	want := f.session
	want.RevokedAt, want.Reason = now, "logout"
	checkSession(t, got, want)
	checkSession(t, mustGetSession(t, s, "t1", f.session.ID), want)
	revs := revocations(t, s)
	if len(revs) != 1 {
		t.Fatalf("revocations = %+v, want one", revs)
	}
	r := revs[0]
	if r.TenantID != "t1" || r.SessionID != f.session.ID || r.Seq <= 0 {
		t.Errorf("revocation = %+v", r)
	}
	sameTime(t, "revocation Exp", r.Exp, f.session.ExpiresAt)
	sameTime(t, "revocation RevokedAt", r.RevokedAt, now)

	again, _, err := s.RevokeSession(ctx, "t1", f.session.ID, now.Add(time.Hour), "admin")
	if err != nil {
		t.Fatalf("second RevokeSession: %v", err)
	}
	checkSession(t, again, want) // the first revocation stands
	if n := len(revocations(t, s)); n != 1 {
		t.Errorf("second RevokeSession appended a record: %d in the feed", n)
	}
	// Its refresh token is dead.
	mustRotate(t, s, rotateReq(f, f.token, hashOf("alice-rt1"), now.Add(time.Minute)), store.Invalid)
}

func testRevokeUserSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	mustUser(t, s, newUser("t1", "u2", "bob"))
	mustUser(t, s, newUser("t2", "u1", "alice"))
	for i, id := range []string{"s1", "s2", "s3"} {
		mustSession(t, s, newSession("t1", id, "u1", base.Add(time.Duration(i)*time.Hour)), newToken(hashOf(id), base))
	}
	mustSession(t, s, newSession("t1", "bob1", "u2", base), newToken(hashOf("bob1"), base))
	mustSession(t, s, newSession("t2", "s1", "u1", base), newToken(hashOf("t2s1"), base))
	now := base.Add(day)

	got, err := s.RevokeUserSessions(ctx, "t1", "u1", "s2", now, "password_changed")
	if err != nil {
		t.Fatalf("RevokeUserSessions: %v", err)
	}
	ids := map[string]bool{}
	for _, x := range got {
		ids[x.ID] = true
		if x.TenantID != "t1" || x.Reason != "password_changed" {
			t.Errorf("revoked session %+v", x)
		}
		sameTime(t, "revoked RevokedAt", x.RevokedAt, now)
	}
	if len(got) != 2 || !ids["s1"] || !ids["s3"] {
		t.Errorf("RevokeUserSessions revoked %v, want s1 and s3", ids)
	}
	for id, revoked := range map[string]bool{"s1": true, "s2": false, "s3": true, "bob1": false} {
		if sess := mustGetSession(t, s, "t1", id); sess.RevokedAt.IsZero() == revoked {
			t.Errorf("session %s revoked = %v, want %v", id, !revoked, revoked)
		}
	}
	if sess := mustGetSession(t, s, "t2", "s1"); !sess.RevokedAt.IsZero() {
		t.Error("RevokeUserSessions revoked a session of another tenant")
	}
	if revs := revocations(t, s); len(revs) != 2 {
		t.Errorf("revocations = %+v, want 2", revs)
	}

	got, err = s.RevokeUserSessions(ctx, "t1", "u1", "s2", now, "again")
	if err != nil || len(got) != 0 {
		t.Errorf("repeated RevokeUserSessions = %+v, %v; want nothing", got, err)
	}
	got, err = s.RevokeUserSessions(ctx, "t1", "u1", "", now, "all")
	if err != nil || len(got) != 1 || got[0].ID != "s2" {
		t.Errorf("RevokeUserSessions without exception = %+v, %v; want s2", got, err)
	}
	if revs := revocations(t, s); len(revs) != 3 {
		t.Errorf("revocations = %d, want 3", len(revs))
	}
}
