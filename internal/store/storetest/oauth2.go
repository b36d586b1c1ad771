package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, oauth2Cases...)
}

// oauth2Cases check store.OAuth2Store and the session scope.
var oauth2Cases = []testCase{
	{"OAuth2/SessionScopeKept", testSessionScopeKept},
	{"OAuth2/GetRefreshTokenStates", testGetRefreshTokenStates},
	{"OAuth2/GetRefreshTokenTenantIsolation", testGetRefreshTokenIsolation},
}

// testSessionScopeKept: the scope of a session comes back from every
// method that returns the session, rotation included.
func testSessionScopeKept(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	sess := newSession("t1", "s1", u.ID, base)
	sess.Scope = "openid profile offline_access"
	mustSession(t, s, sess, newToken(hashOf("rt0"), base))
	plain := newSession("t1", "s2", u.ID, base)
	mustSession(t, s, plain, newToken(hashOf("other"), base))

	if got := mustGetSession(t, s, "t1", "s1"); got.Scope != sess.Scope {
		t.Errorf("GetSession scope = %q, want %q", got.Scope, sess.Scope)
	}
	if got := mustGetSession(t, s, "t1", "s2"); got.Scope != "" {
		t.Errorf("session without scope came back with %q", got.Scope)
	}
	list, err := s.ListUserSessions(t.Context(), "t1", u.ID, base)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.ID == "s1" && l.Scope != sess.Scope {
			t.Errorf("ListUserSessions scope = %q", l.Scope)
		}
	}
	f := family{tenant: "t1", user: u, session: sess, token: hashOf("rt0")}
	res := mustRotate(t, s, rotateReq(f, f.token, hashOf("rt1"), base.Add(time.Minute)), store.Rotated)
	if res.Session.Scope != sess.Scope {
		t.Errorf("rotation result scope = %q, want %q", res.Session.Scope, sess.Scope)
	}
	info, err := s.GetRefreshToken(t.Context(), "t1", hashOf("rt1"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Session.Scope != sess.Scope {
		t.Errorf("GetRefreshToken session scope = %q", info.Session.Scope)
	}
	revoked, _, err := s.RevokeSession(t.Context(), "t1", "s1", base.Add(2*time.Minute), "test")
	if err != nil {
		t.Fatal(err)
	}
	if revoked.Scope != sess.Scope {
		t.Errorf("RevokeSession scope = %q", revoked.Scope)
	}
}

func testGetRefreshTokenStates(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	ctx := t.Context()

	info, err := s.GetRefreshToken(ctx, "t1", f.token)
	if err != nil {
		t.Fatalf("GetRefreshToken(active): %v", err)
	}
	if info.Token.Hash != f.token || info.Token.TenantID != "t1" || info.Token.SessionID != f.session.ID || info.Token.Generation != 1 {
		t.Errorf("Token = %+v", info.Token)
	}
	sameTime(t, "Token.CreatedAt", info.Token.CreatedAt, base)
	sameTime(t, "Token.ExpiresAt", info.Token.ExpiresAt, base.Add(idleTTL))
	sameTime(t, "RotatedAt", info.RotatedAt, time.Time{})
	sameTime(t, "RevokedAt", info.RevokedAt, time.Time{})
	checkSession(t, info.Session, f.session)
	if !info.Active(base.Add(time.Hour)) {
		t.Error("fresh token not Active")
	}
	if info.Active(base.Add(idleTTL)) {
		t.Error("token Active at its expiry")
	}

	// Rotated: the old token reports when; the successor is active.
	now := base.Add(time.Hour)
	res := mustRotate(t, s, rotateReq(f, f.token, hashOf("alice-rt1"), now), store.Rotated)
	old, err := s.GetRefreshToken(ctx, "t1", f.token)
	if err != nil {
		t.Fatal(err)
	}
	sameTime(t, "RotatedAt", old.RotatedAt, now)
	if old.Active(now) {
		t.Error("rotated token Active")
	}
	succ, err := s.GetRefreshToken(ctx, "t1", res.New.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if succ.Token.Generation != 2 || !succ.Active(now) {
		t.Errorf("successor = %+v, active %v", succ, succ.Active(now))
	}

	// Revoked with its session.
	later := now.Add(time.Minute)
	if _, _, err := s.RevokeSession(ctx, "t1", f.session.ID, later, "test"); err != nil {
		t.Fatal(err)
	}
	rev, err := s.GetRefreshToken(ctx, "t1", res.New.Hash)
	if err != nil {
		t.Fatal(err)
	}
	sameTime(t, "Session.RevokedAt", rev.Session.RevokedAt, later)
	if rev.Active(later) {
		t.Error("token of a revoked session Active")
	}

	_, err = s.GetRefreshToken(ctx, "t1", hashOf("never-issued"))
	wantErr(t, "GetRefreshToken(unknown)", err, store.ErrNotFound)
}

func testGetRefreshTokenIsolation(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	f := newFamily(t, s, "t1", "alice", base)
	_, err := s.GetRefreshToken(t.Context(), "t2", f.token)
	wantErr(t, "GetRefreshToken(other tenant)", err, store.ErrNotFound)
}
