package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, appSessionCases...)
}

// appSessionCases check store.AppSessionStore.
var appSessionCases = []testCase{
	{"AppSessions/Get", testAppSessionGet},
	{"AppSessions/NotFound", testAppSessionNotFound},
	{"AppSessions/UseTouchesAndSetsPayload", testAppSessionUse},
	{"AppSessions/UseNotFoundWritesNothing", testAppSessionUseNotFound},
	{"AppSessions/RevokedOrExpired", testAppSessionDead},
	{"AppSessions/NotRotatable", testAppSessionNotRotatable},
}

// appFamily is an app session of client "app1" with its refresh token; the
// token lives as long as the session.
type appFamily struct {
	session store.Session
	token   string // hash of its refresh token
}

func newAppFamily(t *testing.T, s store.Store, tenant, label string, at time.Time) appFamily {
	t.Helper()
	u := mustUser(t, s, newUser(tenant, label+"-user", label))
	sess := newSession(tenant, label+"-app", u.ID, at)
	sess.Kind, sess.ClientID, sess.Payload = store.SessionApp, "app1", "p0"
	tok := hashOf(label + "-app-rt")
	mustSession(t, s, sess, store.RefreshToken{Hash: tok, Generation: 1, CreatedAt: at, ExpiresAt: sess.ExpiresAt})
	return appFamily{session: sess, token: tok}
}

func appQuery(f appFamily, now time.Time) store.AppSessionQuery {
	return store.AppSessionQuery{TenantID: f.session.TenantID, ClientID: f.session.ClientID, RefreshHash: f.token, Now: now}
}

func testAppSessionGet(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newAppFamily(t, s, "t1", "alice", base)
	got, err := s.GetAppSession(t.Context(), appQuery(f, base.Add(day)))
	if err != nil {
		t.Fatalf("GetAppSession: %v", err)
	}
	checkSession(t, got, f.session)
}

func testAppSessionNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	f := newAppFamily(t, s, "t1", "alice", base)
	// A user session of the same client: only the kind differs.
	bob := mustUser(t, s, newUser("t1", "bob-user", "bob"))
	userSess := newSession("t1", "bob-session", bob.ID, base)
	userSess.ClientID = "app1"
	userToken := hashOf("bob-rt0")
	mustSession(t, s, userSess, store.RefreshToken{Hash: userToken, Generation: 1, CreatedAt: base, ExpiresAt: base.Add(idleTTL)})
	now := base.Add(time.Hour)
	for name, q := range map[string]store.AppSessionQuery{
		"other client":       {TenantID: "t1", ClientID: "app2", RefreshHash: f.token, Now: now},
		"other tenant":       {TenantID: "t2", ClientID: "app1", RefreshHash: f.token, Now: now},
		"unknown token":      {TenantID: "t1", ClientID: "app1", RefreshHash: hashOf("nope"), Now: now},
		"user session token": {TenantID: "t1", ClientID: "app1", RefreshHash: userToken, Now: now},
		"empty":              {},
	} {
		_, err := s.GetAppSession(ctx, q)
		wantErr(t, "GetAppSession "+name, err, store.ErrNotFound)
		_, err = s.UseAppSession(ctx, q, nil)
		wantErr(t, "UseAppSession "+name, err, store.ErrNotFound)
	}
}

func testAppSessionUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	f := newAppFamily(t, s, "t1", "alice", base)

	at1 := base.Add(time.Hour + 7*time.Microsecond)
	got, err := s.UseAppSession(ctx, appQuery(f, at1), nil)
	if err != nil {
		t.Fatalf("UseAppSession without payload: %v", err)
	}
	want := f.session
	want.LastUsedAt = at1
	checkSession(t, got, want)

	at2 := base.Add(2 * time.Hour)
	payload := "cart=42"
	got, err = s.UseAppSession(ctx, appQuery(f, at2), &payload)
	if err != nil {
		t.Fatalf("UseAppSession with payload: %v", err)
	}
	want.LastUsedAt, want.Payload = at2, payload
	checkSession(t, got, want)
	checkSession(t, mustGetSession(t, s, "t1", f.session.ID), want)

	empty := ""
	got, err = s.UseAppSession(ctx, appQuery(f, at2), &empty)
	if err != nil {
		t.Fatalf("UseAppSession with an empty payload: %v", err)
	}
	if got.Payload != "" {
		t.Errorf("an empty payload was not stored: %q", got.Payload)
	}
}

func testAppSessionUseNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	f := newAppFamily(t, s, "t1", "alice", base)
	q := appQuery(f, base.Add(time.Hour))
	q.ClientID = "intruder"
	payload := "hijacked"
	_, err := s.UseAppSession(ctx, q, &payload)
	wantErr(t, "UseAppSession by another client", err, store.ErrNotFound)
	checkSession(t, mustGetSession(t, s, "t1", f.session.ID), f.session)
}

func testAppSessionDead(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	expired := newAppFamily(t, s, "t1", "alice", base)
	_, err := s.GetAppSession(ctx, appQuery(expired, expired.session.ExpiresAt))
	wantErr(t, "GetAppSession at the session's expiry", err, store.ErrNotFound)
	_, err = s.UseAppSession(ctx, appQuery(expired, expired.session.ExpiresAt.Add(time.Second)), nil)
	wantErr(t, "UseAppSession after the session's expiry", err, store.ErrNotFound)

	revoked := newAppFamily(t, s, "t1", "bob", base)
	if _, _, err := s.RevokeSession(ctx, "t1", revoked.session.ID, base.Add(time.Minute), "app_destroyed"); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	_, err = s.GetAppSession(ctx, appQuery(revoked, base.Add(time.Hour)))
	wantErr(t, "GetAppSession of a revoked session", err, store.ErrNotFound)
	_, err = s.UseAppSession(ctx, appQuery(revoked, base.Add(time.Hour)), nil)
	wantErr(t, "UseAppSession of a revoked session", err, store.ErrNotFound)

	// A token that expires before its session (not how the core makes
	// them, but the store must honour the token's own expiry).
	u := mustUser(t, s, newUser("t1", "carol-user", "carol"))
	sess := newSession("t1", "carol-app", u.ID, base)
	sess.Kind, sess.ClientID = store.SessionApp, "app1"
	short := appFamily{session: sess, token: hashOf("carol-rt")}
	mustSession(t, s, sess, store.RefreshToken{Hash: short.token, Generation: 1, CreatedAt: base, ExpiresAt: base.Add(day)})
	if _, err := s.GetAppSession(ctx, appQuery(short, base.Add(day-time.Second))); err != nil {
		t.Fatalf("GetAppSession before the token's expiry: %v", err)
	}
	_, err = s.GetAppSession(ctx, appQuery(short, base.Add(day)))
	wantErr(t, "GetAppSession after the token's expiry", err, store.ErrNotFound)
}

// testAppSessionNotRotatable: an app session's refresh token is not a
// rotating one; presenting it for rotation is Invalid and changes nothing.
func testAppSessionNotRotatable(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newAppFamily(t, s, "t1", "alice", base)
	now := base.Add(time.Hour)
	mustRotate(t, s, store.RotateRequest{
		TenantID: "t1", PresentedHash: f.token, Now: now, IdleTTL: idleTTL,
		New:        store.RefreshToken{Hash: hashOf("successor"), CreatedAt: now},
		ReuseAudit: store.AuditEvent{Type: reuseType, Time: now, TenantID: "t1"},
	}, store.Invalid)
	if _, err := s.GetAppSession(t.Context(), appQuery(f, now)); err != nil {
		t.Fatalf("GetAppSession after a refused rotation: %v", err)
	}
}
