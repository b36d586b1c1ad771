package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, identityCases...)
}

// identityCases check linked identities, provisioning and the ID-token
// replay guard of store.FederationStore.
var identityCases = []testCase{
	{"Identities/LinkAndGet", testIdentityLink},
	{"Identities/LinkConflictAndUnknownUser", testIdentityLinkErrors},
	{"Identities/ProvisionUser", testIdentityProvision},
	{"Identities/ProvisionConflictWritesNothing", testIdentityProvisionConflict},
	{"Identities/GoneWithUser", testIdentityGoneWithUser},
	{"Identities/GetUserByEmail", testUserByEmail},
	{"Replay/RememberOnce", testReplayOnce},
	{"Replay/ExpiredEntryReplaced", testReplayExpired},
	{"Replay/ConcurrentOneWinner", testReplayConcurrent},
	{"Replay/SweepDeletesExpired", testReplaySweep},
}

const testIssuer = "https://idp.example.com"

func newIdentity(tenantID, subject, userID string) store.Identity {
	return store.Identity{
		TenantID:  tenantID,
		Issuer:    testIssuer,
		Subject:   subject,
		Provider:  "corp",
		UserID:    userID,
		Email:     subject + "@example.com",
		CreatedAt: base.Add(3 * time.Microsecond),
	}
}

func testIdentityLink(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	want := newIdentity("t1", "sub-1", u.ID)
	if err := s.LinkIdentity(ctx, want); err != nil {
		t.Fatalf("LinkIdentity: %v", err)
	}
	got, err := s.GetIdentity(ctx, "t1", testIssuer, "sub-1")
	if err != nil {
		t.Fatalf("GetIdentity: %v", err)
	}
	if got.TenantID != want.TenantID || got.Issuer != want.Issuer || got.Subject != want.Subject ||
		got.Provider != want.Provider || got.UserID != want.UserID || got.Email != want.Email {
		t.Errorf("identity = %+v, want %+v", got, want)
	}
	sameTime(t, "identity CreatedAt", got.CreatedAt, want.CreatedAt)

	for _, q := range []struct{ tenant, issuer, subject string }{
		{"t2", testIssuer, "sub-1"},
		{"t1", "https://other.example.com", "sub-1"},
		{"t1", testIssuer, "SUB-1"},
	} {
		_, err := s.GetIdentity(ctx, q.tenant, q.issuer, q.subject)
		wantErr(t, fmt.Sprintf("GetIdentity(%s, %s, %s)", q.tenant, q.issuer, q.subject), err, store.ErrNotFound)
	}
}

func testIdentityLinkErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	v := mustUser(t, s, newUser("t1", "u2", "bob"))
	if err := s.LinkIdentity(ctx, newIdentity("t1", "sub-1", u.ID)); err != nil {
		t.Fatalf("LinkIdentity: %v", err)
	}
	wantErr(t, "LinkIdentity of a linked identity", s.LinkIdentity(ctx, newIdentity("t1", "sub-1", v.ID)), store.ErrConflict)
	wantErr(t, "LinkIdentity to an unknown user", s.LinkIdentity(ctx, newIdentity("t1", "sub-2", "ghost")), store.ErrNotFound)
	// The same subject at another issuer is another identity.
	other := newIdentity("t1", "sub-1", v.ID)
	other.Issuer = "https://other.example.com"
	if err := s.LinkIdentity(ctx, other); err != nil {
		t.Errorf("LinkIdentity of the same subject at another issuer: %v", err)
	}
}

func testIdentityProvision(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	u := newUser("t1", "u9", "fed-user")
	u.PasswordHash = ""
	u.Email = "Fed@Example.com"
	if err := s.ProvisionUser(ctx, u, newIdentity("t1", "sub-9", u.ID)); err != nil {
		t.Fatalf("ProvisionUser: %v", err)
	}
	got, err := s.GetUser(ctx, "t1", u.ID)
	if err != nil {
		t.Fatalf("GetUser of a provisioned user: %v", err)
	}
	checkUser(t, got, u)
	id, err := s.GetIdentity(ctx, "t1", testIssuer, "sub-9")
	if err != nil || id.UserID != u.ID {
		t.Errorf("GetIdentity of a provisioned identity = %+v, %v; want user %s", id, err, u.ID)
	}
}

func testIdentityProvisionConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	taken := mustUser(t, s, newUser("t1", "u1", "alice"))
	if err := s.LinkIdentity(ctx, newIdentity("t1", "sub-1", taken.ID)); err != nil {
		t.Fatalf("LinkIdentity: %v", err)
	}

	// The identity is linked already: the new user must not be created.
	err := s.ProvisionUser(ctx, newUser("t1", "u2", "bob"), newIdentity("t1", "sub-1", "u2"))
	wantErr(t, "ProvisionUser of a linked identity", err, store.ErrConflict)
	_, err = s.GetUser(ctx, "t1", "u2")
	wantErr(t, "GetUser after a failed ProvisionUser", err, store.ErrNotFound)

	// The username is taken: the identity must not be linked.
	err = s.ProvisionUser(ctx, newUser("t1", "u3", "ALICE"), newIdentity("t1", "sub-3", "u3"))
	wantErr(t, "ProvisionUser with a taken username", err, store.ErrConflict)
	_, err = s.GetIdentity(ctx, "t1", testIssuer, "sub-3")
	wantErr(t, "GetIdentity after a failed ProvisionUser", err, store.ErrNotFound)
}

func testIdentityGoneWithUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	u := mustUser(t, s, newUser("t1", "u1", "alice"))
	if err := s.LinkIdentity(ctx, newIdentity("t1", "sub-1", u.ID)); err != nil {
		t.Fatalf("LinkIdentity: %v", err)
	}
	if err := s.DeleteUser(ctx, "t1", u.ID, base); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.GetIdentity(ctx, "t1", testIssuer, "sub-1")
	wantErr(t, "GetIdentity of a deleted user's identity", err, store.ErrNotFound)
}

func testUserByEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	a := newUser("t1", "u1", "alice")
	a.Email = "Alice@Example.com"
	mustUser(t, s, a)
	// A username that looks like the email must not be found by email.
	mustUser(t, s, newUser("t1", "u2", "bob@example.com"))

	got, err := s.GetUserByEmail(ctx, "t1", "alice@EXAMPLE.com")
	if err != nil || got.ID != "u1" {
		t.Errorf("GetUserByEmail = %+v, %v; want u1", got.ID, err)
	}
	_, err = s.GetUserByEmail(ctx, "t1", "bob@example.com")
	wantErr(t, "GetUserByEmail matching only a username", err, store.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "t2", "alice@example.com")
	wantErr(t, "GetUserByEmail in another tenant", err, store.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "t1", "")
	wantErr(t, "GetUserByEmail of an empty email", err, store.ErrNotFound)
}

func remember(s store.Store, t *testing.T, tenant, key string, exp, now time.Time) error {
	return s.RememberIDToken(t.Context(), tenant, testIssuer, key, exp, now)
}

func testReplayOnce(t *testing.T, s store.Store) {
	exp := base.Add(time.Hour)
	if err := remember(s, t, "t1", "jti:1", exp, base); err != nil {
		t.Fatalf("RememberIDToken: %v", err)
	}
	wantErr(t, "RememberIDToken again", remember(s, t, "t1", "jti:1", exp, base.Add(time.Minute)), store.ErrConflict)
	// Keys are per tenant and per issuer.
	if err := remember(s, t, "t2", "jti:1", exp, base); err != nil {
		t.Errorf("RememberIDToken of the same key in another tenant: %v", err)
	}
	if err := s.RememberIDToken(t.Context(), "t1", "https://other.example.com", "jti:1", exp, base); err != nil {
		t.Errorf("RememberIDToken of the same key at another issuer: %v", err)
	}
}

func testReplayExpired(t *testing.T, s store.Store) {
	exp := base.Add(time.Hour)
	if err := remember(s, t, "t1", "jti:1", exp, base); err != nil {
		t.Fatalf("RememberIDToken: %v", err)
	}
	wantErr(t, "RememberIDToken just before exp", remember(s, t, "t1", "jti:1", exp.Add(2*time.Hour), exp.Add(-time.Microsecond)), store.ErrConflict)
	// Once exp has passed the entry is dead, swept or not.
	if err := remember(s, t, "t1", "jti:1", exp.Add(2*time.Hour), exp); err != nil {
		t.Fatalf("RememberIDToken after exp: %v", err)
	}
	wantErr(t, "RememberIDToken within the new exp", remember(s, t, "t1", "jti:1", exp.Add(2*time.Hour), exp.Add(time.Hour)), store.ErrConflict)
}

func testReplayConcurrent(t *testing.T, s store.Store) {
	const n = 20
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = remember(s, t, "t1", "jti:race", base.Add(time.Hour), base)
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("RememberIDToken #%d: %v, want nil or ErrConflict", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent RememberIDToken calls succeeded, want exactly 1", won, n)
	}
}

func testReplaySweep(t *testing.T, s store.Store) {
	if err := remember(s, t, "t1", "old", base.Add(time.Minute), base); err != nil {
		t.Fatalf("RememberIDToken: %v", err)
	}
	if err := remember(s, t, "t1", "live", base.Add(time.Hour), base); err != nil {
		t.Fatalf("RememberIDToken: %v", err)
	}
	sweep(t, s, base.Add(2*time.Minute), base)
	// Asked as of base, only a deleted entry can be inserted again.
	if err := remember(s, t, "t1", "old", base.Add(time.Minute), base); err != nil {
		t.Errorf("RememberIDToken of a swept key: %v (the expired entry was not deleted)", err)
	}
	wantErr(t, "RememberIDToken of a live key after Sweep", remember(s, t, "t1", "live", base.Add(time.Hour), base), store.ErrConflict)
}
