package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func testRotateRotated(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	now := base.Add(time.Hour + 5*time.Microsecond)
	next := hashOf("alice-rt1")

	res := mustRotate(t, s, rotateReq(f, f.token, next, now), store.Rotated)
	if res.New.Hash != next || res.New.TenantID != "t1" || res.New.SessionID != f.session.ID || res.New.Generation != 2 {
		t.Errorf("New = %+v, want hash %s of session %s, generation 2", res.New, next, f.session.ID)
	}
	sameTime(t, "New.ExpiresAt", res.New.ExpiresAt, now.Add(idleTTL))
	if res.Session.ID != f.session.ID || res.Session.UserID != f.user.ID {
		t.Errorf("Session = %+v, want %s of %s", res.Session, f.session.ID, f.user.ID)
	}
	sameTime(t, "result Session.LastUsedAt", res.Session.LastUsedAt, now)
	sameTime(t, "result Session.ExpiresAt", res.Session.ExpiresAt, f.session.ExpiresAt)
	checkUser(t, res.User, f.user)

	want := f.session
	want.LastUsedAt = now
	checkSession(t, mustGetSession(t, s, "t1", f.session.ID), want)
	if n := len(revocations(t, s)); n != 0 {
		t.Errorf("rotation appended %d revocations", n)
	}
}

func testRotateExpiryCapped(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	now := f.session.ExpiresAt.Add(-time.Hour) // the idle TTL would outlive the session
	// Walk the chain to the last hour of the session, each step within the idle TTL.
	res := mustRotate(t, s, rotateReq(f, f.token, hashOf("a1"), base.Add(6*day)), store.Rotated)
	res = mustRotate(t, s, rotateReq(f, res.New.Hash, hashOf("a2"), base.Add(12*day)), store.Rotated)
	res = mustRotate(t, s, rotateReq(f, res.New.Hash, hashOf("a3"), base.Add(18*day)), store.Rotated)
	res = mustRotate(t, s, rotateReq(f, res.New.Hash, hashOf("a4"), base.Add(24*day)), store.Rotated)
	res = mustRotate(t, s, rotateReq(f, res.New.Hash, hashOf("a5"), now), store.Rotated)
	sameTime(t, "New.ExpiresAt capped by the session", res.New.ExpiresAt, f.session.ExpiresAt)
	if res.New.Generation != 6 {
		t.Errorf("generation = %d, want 6", res.New.Generation)
	}
	// After the session's absolute expiry nothing rotates.
	mustRotate(t, s, rotateReq(f, res.New.Hash, hashOf("a6"), f.session.ExpiresAt), store.Invalid)
}

func testRotateChain(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	tok := f.token
	for i := range 5 {
		now := base.Add(time.Duration(i+1) * time.Minute)
		next := hashOf("chain" + string(rune('a'+i)))
		res := mustRotate(t, s, rotateReq(f, tok, next, now), store.Rotated)
		if res.New.Generation != i+2 {
			t.Fatalf("step %d: generation %d, want %d", i, res.New.Generation, i+2)
		}
		tok = next
	}
	if sess := mustGetSession(t, s, "t1", f.session.ID); !sess.RevokedAt.IsZero() {
		t.Error("a clean chain of rotations revoked the session")
	}
}

func testRotateReuse(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	rotatedAt := base.Add(time.Hour)
	res := mustRotate(t, s, rotateReq(f, f.token, hashOf("alice-rt1"), rotatedAt), store.Rotated)

	replayAt := rotatedAt.Add(time.Second)
	req := rotateReq(f, f.token, hashOf("attacker-rt"), replayAt)
	req.ReuseAudit.UserAgent = "curl/8"
	req.ReuseAudit.Details = map[string]any{"generation": 1.0}
	reused := mustRotate(t, s, req, store.Reused)
	if reused.Session.ID != f.session.ID {
		t.Errorf("Reused Session = %q, want %q", reused.Session.ID, f.session.ID)
	}

	sess := mustGetSession(t, s, "t1", f.session.ID)
	sameTime(t, "RevokedAt after reuse", sess.RevokedAt, replayAt)
	revs := revocations(t, s)
	if len(revs) != 1 || revs[0].SessionID != f.session.ID || revs[0].TenantID != "t1" {
		t.Fatalf("revocations after reuse = %+v, want one for %s", revs, f.session.ID)
	}
	sameTime(t, "revocation Exp", revs[0].Exp, f.session.ExpiresAt)

	events, err := s.ListAudit(ctx, "t1", store.AuditFilter{Type: reuseType})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if len(events) != 1 {
		t.Fatalf("reuse audit events = %+v, want one", events)
	}
	e := events[0]
	if e.UserID != f.user.ID || e.SessionID != f.session.ID || e.TenantID != "t1" ||
		e.IP != "203.0.113.9" || e.UserAgent != "curl/8" || e.ID == "" {
		t.Errorf("reuse audit event = %+v", e)
	}
	sameJSON(t, "reuse audit Details", e.Details, map[string]any{"generation": 1})
	sameTime(t, "reuse audit Time", e.Time, replayAt)

	// The whole family is dead: the successor too, and the replay again.
	mustRotate(t, s, rotateReq(f, res.New.Hash, hashOf("alice-rt2"), replayAt.Add(time.Second)), store.Invalid)
	if _, err := s.RotateRefreshToken(ctx, rotateReq(f, f.token, hashOf("x"), replayAt.Add(time.Minute))); err != nil {
		t.Errorf("second replay: %v", err)
	}
	if sess := mustGetSession(t, s, "t1", f.session.ID); !sess.RevokedAt.Equal(replayAt) {
		t.Errorf("second replay moved RevokedAt to %v", sess.RevokedAt)
	}
}

// leewayReq asks for a rotation with leeway and retry data.
func leewayReq(f family, presented, next string, now time.Time, leeway time.Duration, data string) store.RotateRequest {
	req := rotateReq(f, presented, next, now)
	req.Leeway = leeway
	req.RetryData = []byte(data)
	return req
}

func testRotateRetry(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	at := base.Add(time.Hour)
	data := "\x00sealed-pair\xff"
	first := mustRotate(t, s, leewayReq(f, f.token, hashOf("rt1"), at, time.Minute, data), store.Rotated)

	for _, d := range []time.Duration{time.Second, 30 * time.Second, time.Minute} {
		res := mustRotate(t, s, leewayReq(f, f.token, hashOf("rt1-retry"), at.Add(d), time.Minute, "other"), store.Retried)
		if !bytes.Equal(res.RetryData, []byte(data)) {
			t.Errorf("Retried after %s: RetryData = %q, want %q", d, res.RetryData, data)
		}
		if res.Session.ID != f.session.ID || res.User.ID != f.user.ID {
			t.Errorf("Retried after %s: session %q user %q", d, res.Session.ID, res.User.ID)
		}
	}
	// Nothing was written by the retries.
	want := f.session
	want.LastUsedAt = at
	checkSession(t, mustGetSession(t, s, "t1", f.session.ID), want)
	if n := len(revocations(t, s)); n != 0 {
		t.Errorf("retries appended %d revocations", n)
	}
	if ev, err := s.ListAudit(ctx, "t1", store.AuditFilter{}); err != nil || len(ev) != 0 {
		t.Errorf("retries wrote audit events %+v, %v", ev, err)
	}
	// The successor of the first rotation is still the active token.
	res := mustRotate(t, s, rotateReq(f, first.New.Hash, hashOf("rt2"), at.Add(2*time.Minute)), store.Rotated)
	if res.New.Generation != 3 {
		t.Errorf("generation after retries = %d, want 3", res.New.Generation)
	}
}

func testRotateReuseAfterLeeway(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	at := base.Add(time.Hour)
	first := mustRotate(t, s, leewayReq(f, f.token, hashOf("rt1"), at, time.Minute, "pair"), store.Rotated)
	mustRotate(t, s, leewayReq(f, f.token, hashOf("late"), at.Add(time.Minute+time.Second), time.Minute, "x"), store.Reused)
	if sess := mustGetSession(t, s, "t1", f.session.ID); sess.RevokedAt.IsZero() {
		t.Error("reuse after the leeway left the session live")
	}
	mustRotate(t, s, rotateReq(f, first.New.Hash, hashOf("rt2"), at.Add(2*time.Minute)), store.Invalid)
}

func testRotateNoRetryAfterSuccessor(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	at := base.Add(time.Hour)
	first := mustRotate(t, s, leewayReq(f, f.token, hashOf("rt1"), at, time.Hour, "pair1"), store.Rotated)
	mustRotate(t, s, leewayReq(f, first.New.Hash, hashOf("rt2"), at.Add(time.Second), time.Hour, "pair2"), store.Rotated)
	// rt0 is within the leeway, but its successor moved on: an attack.
	mustRotate(t, s, leewayReq(f, f.token, hashOf("rt1b"), at.Add(2*time.Second), time.Hour, "x"), store.Reused)
	if sess := mustGetSession(t, s, "t1", f.session.ID); sess.RevokedAt.IsZero() {
		t.Error("reuse left the session live")
	}
}

func testRotateInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	now := base.Add(time.Hour)

	cases := []struct {
		name  string
		setup func(t *testing.T) store.RotateRequest
	}{
		{"unknown hash", func(t *testing.T) store.RotateRequest {
			f := newFamily(t, s, "t1", "unknown", base)
			return rotateReq(f, hashOf("never issued"), hashOf("unknown-next"), now)
		}},
		{"other tenant", func(t *testing.T) store.RotateRequest {
			f := newFamily(t, s, "t1", "foreign", base)
			req := rotateReq(f, f.token, hashOf("foreign-next"), now)
			req.TenantID = "t2"
			return req
		}},
		{"expired token", func(t *testing.T) store.RotateRequest {
			f := newFamily(t, s, "t1", "idle", base)
			return rotateReq(f, f.token, hashOf("idle-next"), base.Add(idleTTL+time.Second))
		}},
		{"revoked session", func(t *testing.T) store.RotateRequest {
			f := newFamily(t, s, "t1", "revoked", base)
			if _, _, err := s.RevokeSession(ctx, "t1", f.session.ID, base.Add(time.Minute), "logout"); err != nil {
				t.Fatalf("RevokeSession: %v", err)
			}
			return rotateReq(f, f.token, hashOf("revoked-next"), now)
		}},
		{"session past absolute expiry", func(t *testing.T) store.RotateRequest {
			u := mustUser(t, s, newUser("t1", "short-user", "short"))
			sess := newSession("t1", "short-session", u.ID, base)
			sess.ExpiresAt = base.Add(30 * time.Minute)
			mustSession(t, s, sess, newToken(hashOf("short-rt0"), base)) // token outlives the session
			f := family{tenant: "t1", user: u, session: sess, token: hashOf("short-rt0")}
			return rotateReq(f, f.token, hashOf("short-next"), now)
		}},
		{"app session", func(t *testing.T) store.RotateRequest {
			u := mustUser(t, s, newUser("t1", "app-user", "appuser"))
			sess := newSession("t1", "app-session", u.ID, base)
			sess.Kind = store.SessionApp
			mustSession(t, s, sess, newToken(hashOf("app-rt0"), base))
			f := family{tenant: "t1", user: u, session: sess, token: hashOf("app-rt0")}
			return rotateReq(f, f.token, hashOf("app-next"), now)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.setup(t)
			before := len(revocations(t, s))
			res := mustRotate(t, s, req, store.Invalid)
			if res.New.Hash != "" || res.RetryData != nil {
				t.Errorf("Invalid result carries data: %+v", res)
			}
			if after := len(revocations(t, s)); after != before {
				t.Errorf("Invalid rotation appended %d revocations", after-before)
			}
			// Invalid writes nothing: the offered successor was not stored.
			next := req
			next.PresentedHash, next.New.Hash = req.New.Hash, hashOf(req.New.Hash)
			mustRotate(t, s, next, store.Invalid)
		})
	}

	// The token presented under the wrong tenant is untouched in its own.
	f := family{tenant: "t1", token: hashOf("foreign-rt0")}
	mustRotate(t, s, rotateReq(f, f.token, hashOf("foreign-next-2"), now), store.Rotated)
	// The app session was not revoked by the attempt.
	if sess := mustGetSession(t, s, "t1", "app-session"); !sess.RevokedAt.IsZero() {
		t.Error("rotating an app token revoked its session")
	}
	if ev, err := s.ListAudit(ctx, "t1", store.AuditFilter{Type: reuseType}); err != nil || len(ev) != 0 {
		t.Errorf("Invalid rotations wrote reuse audit events %+v, %v", ev, err)
	}
}
