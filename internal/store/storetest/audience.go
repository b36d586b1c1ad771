package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, audienceCases...)
}

// audienceCases check who may rotate a session, child sessions and the
// revocations that follow a client.
var audienceCases = []testCase{
	{"Rotate/BoundSessionOnlyWithItsClient", testRotateBoundSession},
	{"Rotate/WrongClientRotatedTokenIsNoReuse", testRotateWrongClientNoReuse},
	{"Rotate/UnboundSessionNotWithOtherClients", testRotateUnboundSession},
	{"Rotate/SharedClientSessionWithAnyCaller", testRotateSharedClient},
	{"Rotate/ReuseRevokesChildren", testRotateReuseRevokesChildren},
	{"Sessions/RevokeRevokesChildren", testRevokeSessionChildren},
	{"Clients/DeleteRevokesSessions", testClientDeleteRevokesSessions},
	{"Rotate/ConcurrentWrongClientsOneWinner", testRotateConcurrentWrongClients},
}

// boundFamily is a family whose session was issued to the confidential
// client "conf".
func boundFamily(t *testing.T, s store.Store, label string) family {
	t.Helper()
	u := mustUser(t, s, newUser("t1", label+"-user", label))
	sess := newSession("t1", label+"-session", u.ID, base)
	sess.ClientID, sess.ClientBound = "conf", true
	tok := hashOf(label + "-rt0")
	mustSession(t, s, sess, newToken(tok, base))
	return family{tenant: "t1", user: u, session: sess, token: tok}
}

func asClient(req store.RotateRequest, client string) store.RotateRequest {
	req.Client, req.SharedClient = client, "gatehouse"
	return req
}

func testRotateBoundSession(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := boundFamily(t, s, "alice")
	now := base.Add(time.Minute)
	for _, caller := range []string{"", "other"} {
		mustRotate(t, s, asClient(rotateReq(f, f.token, hashOf("stolen-"+caller), now), caller), store.WrongClient)
	}
	// Nothing was written: the token is still the active one.
	res := mustRotate(t, s, asClient(rotateReq(f, f.token, hashOf("alice-rt1"), now), "conf"), store.Rotated)
	if res.Session.ID != f.session.ID || !res.Session.ClientBound {
		t.Errorf("rotated session = %+v, want the bound session", res.Session)
	}
	mustRotate(t, s, asClient(rotateReq(f, hashOf("stolen-"), hashOf("x"), now), "conf"), store.Invalid)
}

func testRotateWrongClientNoReuse(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := boundFamily(t, s, "alice")
	now := base.Add(time.Minute)
	mustRotate(t, s, asClient(rotateReq(f, f.token, hashOf("alice-rt1"), now), "conf"), store.Rotated)
	// The rotated token presented elsewhere is refused, not a reuse.
	for _, caller := range []string{"", "other"} {
		mustRotate(t, s, asClient(rotateReq(f, f.token, hashOf("x-"+caller), now.Add(time.Minute)), caller), store.WrongClient)
	}
	if got := mustGetSession(t, s, "t1", f.session.ID); !got.RevokedAt.IsZero() {
		t.Fatalf("a refused presentation revoked the session: %+v", got)
	}
	if revs := revocations(t, s); len(revs) != 0 {
		t.Fatalf("a refused presentation appended revocations: %+v", revs)
	}
	// The successor still works for its client; the rotated token from its
	// own client is a reuse.
	mustRotate(t, s, asClient(rotateReq(f, hashOf("alice-rt1"), hashOf("alice-rt2"), now.Add(2*time.Minute)), "conf"), store.Rotated)
	mustRotate(t, s, asClient(rotateReq(f, f.token, hashOf("y"), now.Add(3*time.Minute)), "conf"), store.Reused)
}

func testRotateUnboundSession(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base) // client "web", not bound: a public client
	now := base.Add(time.Minute)
	mustRotate(t, s, asClient(rotateReq(f, f.token, hashOf("x"), now), "other"), store.WrongClient)
	mustRotate(t, s, asClient(rotateReq(f, f.token, hashOf("alice-rt1"), now), ""), store.Rotated)
	mustRotate(t, s, asClient(rotateReq(f, hashOf("alice-rt1"), hashOf("alice-rt2"), now), "web"), store.Rotated)
}

func testRotateSharedClient(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	sess := newSession("t1", "s1", u.ID, base)
	sess.ClientID, sess.FirstParty = "gatehouse", true
	mustSession(t, s, sess, newToken(hashOf("rt0"), base))
	f := family{tenant: "t1", user: u, session: sess, token: hashOf("rt0")}
	now := base.Add(time.Minute)
	prev := f.token
	for i, caller := range []string{"", "gatehouse", "some-client"} {
		next := hashOf(string(rune('a' + i)))
		res := mustRotate(t, s, asClient(rotateReq(f, prev, next, now), caller), store.Rotated)
		if !res.Session.FirstParty {
			t.Errorf("rotated session lost FirstParty: %+v", res.Session)
		}
		prev = next
	}
}

// parentWithChild creates a family and an app session opened from it.
func parentWithChild(t *testing.T, s store.Store) (family, store.Session) {
	t.Helper()
	mustTenant(t, s, "t1")
	f := newFamily(t, s, "t1", "alice", base)
	child := newSession("t1", "child", f.user.ID, base.Add(time.Second))
	child.Kind, child.ClientID, child.ClientBound, child.ParentID = store.SessionApp, "app", true, f.session.ID
	mustSession(t, s, child, newToken(hashOf("child-rt"), base))
	other := newSession("t1", "other-child", f.user.ID, base.Add(time.Second))
	other.Kind, other.ClientID, other.ParentID = store.SessionApp, "app", "unrelated"
	mustSession(t, s, other, newToken(hashOf("other-rt"), base))
	return f, child
}

func testRevokeSessionChildren(t *testing.T, s store.Store) {
	f, child := parentWithChild(t, s)
	now := base.Add(time.Hour)
	got, children, err := s.RevokeSession(t.Context(), "t1", f.session.ID, now, "logout")
	if err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	if got.ID != f.session.ID || got.RevokedAt.IsZero() {
		t.Errorf("RevokeSession returned %+v, want the parent, revoked", got)
	}
	if len(children) != 1 || children[0].ID != child.ID || children[0].Reason != "logout" {
		t.Fatalf("children = %+v, want the one child revoked with reason logout", children)
	}
	if c := mustGetSession(t, s, "t1", child.ID); c.RevokedAt.IsZero() {
		t.Errorf("child still live after its parent's revocation")
	}
	if o := mustGetSession(t, s, "t1", "other-child"); !o.RevokedAt.IsZero() {
		t.Errorf("another parent's child was revoked")
	}
	ids := map[string]bool{}
	for _, r := range revocations(t, s) {
		ids[r.SessionID] = true
	}
	if len(ids) != 2 || !ids[f.session.ID] || !ids[child.ID] {
		t.Errorf("revocation feed holds %v, want the parent and the child", ids)
	}
	_, err = s.GetAppSession(t.Context(), store.AppSessionQuery{TenantID: "t1", ClientID: "app", RefreshHash: hashOf("child-rt"), Now: now})
	wantErr(t, "GetAppSession of a revoked child", err, store.ErrNotFound)
	// Revoking again revokes nothing more.
	_, children, err = s.RevokeSession(t.Context(), "t1", f.session.ID, now.Add(time.Minute), "admin")
	if err != nil || len(children) != 0 {
		t.Errorf("second RevokeSession: children %+v, err %v", children, err)
	}
	// Revoking a child alone leaves its parent.
	_, sib := parentWithChildIn(t, s, "bob")
	if _, _, err := s.RevokeSession(t.Context(), "t1", sib.ID, now, "app_destroyed"); err != nil {
		t.Fatal(err)
	}
	if p := mustGetSession(t, s, "t1", sib.ParentID); !p.RevokedAt.IsZero() {
		t.Errorf("revoking a child revoked its parent")
	}
}

// parentWithChildIn is parentWithChild in an existing tenant t1.
func parentWithChildIn(t *testing.T, s store.Store, label string) (family, store.Session) {
	t.Helper()
	f := newFamily(t, s, "t1", label, base)
	child := newSession("t1", label+"-child", f.user.ID, base.Add(time.Second))
	child.Kind, child.ClientID, child.ClientBound, child.ParentID = store.SessionApp, "app", true, f.session.ID
	mustSession(t, s, child, newToken(hashOf(label+"-child-rt"), base))
	return f, child
}

func testRotateReuseRevokesChildren(t *testing.T, s store.Store) {
	f, child := parentWithChild(t, s)
	now := base.Add(time.Minute)
	mustRotate(t, s, rotateReq(f, f.token, hashOf("alice-rt1"), now), store.Rotated)
	res := mustRotate(t, s, rotateReq(f, f.token, hashOf("x"), now.Add(time.Minute)), store.Reused)
	if res.Session.ID != f.session.ID {
		t.Errorf("reused session = %s, want %s", res.Session.ID, f.session.ID)
	}
	if len(res.Children) != 1 || res.Children[0].ID != child.ID {
		t.Fatalf("reuse revoked children %+v, want the child", res.Children)
	}
	if c := mustGetSession(t, s, "t1", child.ID); c.RevokedAt.IsZero() {
		t.Errorf("child live after its parent's reuse revocation")
	}
	found := false
	for _, r := range revocations(t, s) {
		found = found || r.SessionID == child.ID
	}
	if !found {
		t.Errorf("no revocation record for the child")
	}
}

func testClientDeleteRevokesSessions(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustClient(t, s, newClient("t1", "conf"))
	mustClient(t, s, newClient("t1", "keep"))
	f := boundFamily(t, s, "alice")
	child := newSession("t1", "child", f.user.ID, base.Add(time.Second))
	child.Kind, child.ClientID, child.ParentID = store.SessionApp, "keep", f.session.ID
	mustSession(t, s, child, newToken(hashOf("child-rt"), base))
	kept := newFamily(t, s, "t1", "bob", base)
	now := base.Add(time.Hour)

	revoked, err := s.DeleteClient(t.Context(), "t1", "conf", now)
	if err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	ids := map[string]bool{}
	for _, r := range revoked {
		ids[r.ID] = true
		if r.Reason != "client_deleted" || r.RevokedAt.IsZero() {
			t.Errorf("revoked session %+v, want reason client_deleted", r)
		}
	}
	if len(ids) != 2 || !ids[f.session.ID] || !ids[child.ID] {
		t.Fatalf("DeleteClient revoked %v, want the client's session and its child", ids)
	}
	if got := mustGetSession(t, s, "t1", kept.session.ID); !got.RevokedAt.IsZero() {
		t.Errorf("a session of another client was revoked")
	}
	if n := len(revocations(t, s)); n != 2 {
		t.Errorf("revocation feed holds %d records, want 2", n)
	}
	mustRotate(t, s, asClient(rotateReq(f, f.token, hashOf("x"), now), "conf"), store.Invalid)
}

// testRotateConcurrentWrongClients: callers that may not rotate a bound
// session present its active and its rotated token at the same time as the
// session's own client presents the active one: the own client wins once,
// every other caller is WrongClient, and nothing is revoked.
func testRotateConcurrentWrongClients(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	f := boundFamily(t, s, "alice")
	now := base.Add(time.Minute)
	mustRotate(t, s, asClient(rotateReq(f, f.token, hashOf("alice-rt1"), now), "conf"), store.Rotated)
	active := hashOf("alice-rt1")
	type call struct {
		presented, client string
	}
	var calls []call
	for i := range concurrentRotations {
		client := []string{"", "other"}[i%2]
		presented := []string{f.token, active}[(i/2)%2]
		calls = append(calls, call{presented, client})
	}
	calls = append(calls, call{active, "conf"})
	results := make([]store.RotateResult, len(calls))
	errs := make([]error, len(calls))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := asClient(rotateReq(f, c.presented, hashOf(fmt.Sprint("next-", i)), now.Add(time.Minute)), c.client)
			<-start
			results[i], errs[i] = s.RotateRefreshToken(t.Context(), req)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rotation #%d: %v", i, err)
		}
	}
	for i, r := range results[:len(results)-1] {
		if r.Outcome != store.WrongClient {
			t.Errorf("caller %+v: outcome %s, want WrongClient", calls[i], outcomeName(r.Outcome))
		}
	}
	if o := results[len(results)-1].Outcome; o != store.Rotated {
		t.Errorf("the session's own client: outcome %s, want Rotated", outcomeName(o))
	}
	if got := mustGetSession(t, s, "t1", f.session.ID); !got.RevokedAt.IsZero() {
		t.Errorf("refused callers revoked the session")
	}
	if revs := revocations(t, s); len(revs) != 0 {
		t.Errorf("refused callers appended revocations: %+v", revs)
	}
}
