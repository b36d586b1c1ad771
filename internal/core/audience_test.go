package core

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// TestChildSessions_RevocationReachesOtherProcesses: an app session ended
// with its parent in one process (logout) or with its parent's client
// (deletion) is refused by another process once it reads the revocation
// feed, though that process has verified the app token before (and so
// would otherwise answer from its cache of live app sessions).
func TestChildSessions_RevocationReachesOtherProcesses(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	app, _ := f.client(t, "shop")
	alice := f.user(t, "alice")
	other, _ := openAppService(t, f.path, f.clock)

	open := func(parent LoginResult) LoginResult {
		t.Helper()
		res, err := f.svc.AppLogin(ctx, AppLogin{Client: app, Token: parent.AccessToken, GrantType: AppGrantType})
		if err != nil {
			t.Fatalf("AppLogin: %v", err)
		}
		if res.Session.ParentID != parent.Session.ID || res.Session.FirstParty || !res.Session.ClientBound {
			t.Fatalf("app session %+v: want a bound, third-party child of %s", res.Session, parent.Session.ID)
		}
		if _, err := other.AppVerifyAccess(ctx, app, res.AccessToken); err != nil {
			t.Fatalf("verify in the other process: %v", err)
		}
		return res
	}

	parent := f.signIn(t, alice)
	child := open(parent)
	p, err := f.svc.Authenticate(ctx, DefaultTenant, parent.AccessToken, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Logout(ctx, p, Meta{}); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := f.svc.AppVerifyAccess(ctx, app, child.AccessToken); ErrorCode(err) != CodeUnauthorized {
		t.Errorf("the process that logged out must refuse the child at once: %v", err)
	}
	if err := other.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = other.AppVerifyAccess(ctx, app, child.AccessToken)
	wantCode(t, "child after logout, other process", err, CodeUnauthorized)

	// A first-party client's session with a child; the client is deleted.
	portal, err := f.svc.CreateClient(ctx, NewClient{TenantID: DefaultTenant, Name: "portal", FirstParty: true}, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	parent, err = f.svc.startSession(ctx, alice, SessionParams{AMR: []string{"pwd"}}.forClient(portal.Client))
	if err != nil {
		t.Fatal(err)
	}
	if !parent.Session.FirstParty || !parent.Session.ClientBound {
		t.Fatalf("first-party confidential session %+v", parent.Session)
	}
	child = open(parent)
	if err := f.svc.DeleteClient(ctx, DefaultTenant, portal.Client.ID, Meta{}); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if err := other.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = other.AppVerifyAccess(ctx, app, child.AccessToken)
	wantCode(t, "child after its parent's client was deleted, other process", err, CodeUnauthorized)
	_, err = other.Authenticate(ctx, DefaultTenant, parent.AccessToken, false)
	wantCode(t, "parent after its client was deleted, other process", err, CodeUnauthorized)
}

// TestSessionParams_ForClient: what a session's client decides.
func TestSessionParams_ForClient(t *testing.T) {
	for _, c := range []struct {
		name         string
		client       store.Client
		first, bound bool
	}{
		{"built-in", BuiltinClient(DefaultTenant), true, false},
		{"none", store.Client{}, true, false},
		{"confidential", store.Client{ID: "c"}, false, true},
		{"public", store.Client{ID: "p", Public: true}, false, false},
		{"first-party confidential", store.Client{ID: "f", FirstParty: true}, true, true},
		{"first-party public", store.Client{ID: "fp", Public: true, FirstParty: true}, true, false},
	} {
		p := SessionParams{}.forClient(c.client)
		if p.FirstParty != c.first || p.ClientBound != c.bound {
			t.Errorf("%s: first-party %v bound %v, want %v %v", c.name, p.FirstParty, p.ClientBound, c.first, c.bound)
		}
	}
}

// TestRefresh_SessionOfDeletedClientDies: a session opened for a client
// after its deletion (by a process that still had the client cached) is
// revoked at its first rotation instead of living on.
func TestRefresh_SessionOfDeletedClientDies(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	spa, err := f.svc.CreateClient(ctx, NewClient{TenantID: DefaultTenant, Name: "spa", Public: true}, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	alice := f.user(t, "alice")
	if err := f.svc.DeleteClient(ctx, DefaultTenant, spa.Client.ID, Meta{}); err != nil {
		t.Fatal(err)
	}
	straggler, err := f.svc.startSession(ctx, alice, SessionParams{AMR: []string{"pwd"}}.forClient(spa.Client))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Refresh(ctx, RefreshRequest{TenantID: DefaultTenant, RefreshToken: straggler.RefreshToken})
	wantCode(t, "refresh of a deleted client's session", err, CodeInvalidGrant)
	sess, err := f.st.GetSession(ctx, DefaultTenant, straggler.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sess.RevokedAt.IsZero() || sess.Reason != ReasonClientDeleted {
		t.Errorf("straggler session %+v, want revoked with reason %s", sess, ReasonClientDeleted)
	}
	// Sessions of the built-in client need no client row.
	own := f.signIn(t, alice)
	if _, err := f.svc.Refresh(ctx, RefreshRequest{TenantID: DefaultTenant, RefreshToken: own.RefreshToken}); err != nil {
		t.Fatalf("refresh of a built-in client's session: %v", err)
	}
}
