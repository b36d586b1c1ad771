package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, clientCases...)
}

// clientCases check store.ClientStore.
var clientCases = []testCase{
	{"Clients/RoundTrip", testClientRoundTrip},
	{"Clients/IDUniqueAcrossTenants", testClientConflict},
	{"Clients/NotFound", testClientNotFound},
	{"Clients/ListByTenant", testClientList},
	{"Clients/Update", testClientUpdate},
	{"Clients/UpdateFnErrorWritesNothing", testClientUpdateFnError},
	{"Clients/UpdateConcurrentLosesNothing", testClientUpdateConcurrent},
	{"Clients/Delete", testClientDelete},
}

// newClient is a confidential client of tenantID.
func newClient(tenantID, id string) store.Client {
	return store.Client{
		TenantID:   tenantID,
		ID:         id,
		Name:       "Client " + id,
		SecretHash: hashOf("secret-" + id),
		GrantTypes: []string{"refresh_token", "client_credentials"},
		Scopes:     []string{"openid", "profile"},
		CreatedAt:  base.Add(250 * time.Microsecond),
		UpdatedAt:  base.Add(time.Hour),
	}
}

func mustClient(t *testing.T, s store.Store, c store.Client) store.Client {
	t.Helper()
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatalf("CreateClient(%s/%s): %v", c.TenantID, c.ID, err)
	}
	return c
}

// checkClient compares every field of a stored client.
func checkClient(t *testing.T, got, want store.Client) {
	t.Helper()
	if got.TenantID != want.TenantID || got.ID != want.ID || got.Name != want.Name ||
		got.SecretHash != want.SecretHash || got.Public != want.Public || got.FirstParty != want.FirstParty {
		t.Errorf("client scalar fields:\n got %+v\nwant %+v", got, want)
	}
	sameStrings(t, "client GrantTypes", got.GrantTypes, want.GrantTypes)
	sameStrings(t, "client Scopes", got.Scopes, want.Scopes)
	sameTime(t, "client CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "client UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func testClientRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	conf := mustClient(t, s, newClient("t1", "c-conf_1"))
	pub := newClient("t1", "c-public")
	pub.SecretHash, pub.Public = "", true
	pub.GrantTypes, pub.Scopes = nil, nil
	pub.FirstParty = true
	mustClient(t, s, pub)

	for _, want := range []store.Client{conf, pub} {
		got, err := s.GetClient(ctx, "t1", want.ID)
		if err != nil {
			t.Fatalf("GetClient(%s): %v", want.ID, err)
		}
		checkClient(t, got, want)
		found, err := s.FindClient(ctx, want.ID)
		if err != nil {
			t.Fatalf("FindClient(%s): %v", want.ID, err)
		}
		checkClient(t, found, want)
	}
}

func testClientConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustClient(t, s, newClient("t1", "c1"))
	wantErr(t, "CreateClient same id, same tenant", s.CreateClient(ctx, newClient("t1", "c1")), store.ErrConflict)
	other := newClient("t2", "c1")
	other.Name = "Impostor"
	wantErr(t, "CreateClient same id, other tenant", s.CreateClient(ctx, other), store.ErrConflict)
	got, err := s.FindClient(ctx, "c1")
	if err != nil {
		t.Fatalf("FindClient: %v", err)
	}
	if got.TenantID != "t1" || got.Name != "Client c1" {
		t.Errorf("FindClient after the conflict = %+v, want the first client", got)
	}
}

func testClientNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustClient(t, s, newClient("t1", "c1"))
	_, err := s.GetClient(ctx, "t2", "c1")
	wantErr(t, "GetClient other tenant", err, store.ErrNotFound)
	_, err = s.GetClient(ctx, "t1", "nope")
	wantErr(t, "GetClient unknown", err, store.ErrNotFound)
	_, err = s.FindClient(ctx, "nope")
	wantErr(t, "FindClient unknown", err, store.ErrNotFound)
	_, err = s.UpdateClient(ctx, "t2", "c1", func(*store.Client) error { return nil })
	wantErr(t, "UpdateClient other tenant", err, store.ErrNotFound)
	_, err = s.DeleteClient(ctx, "t2", "c1", base)
	wantErr(t, "DeleteClient other tenant", err, store.ErrNotFound)
	if _, err := s.GetClient(ctx, "t1", "c1"); err != nil {
		t.Errorf("the client is gone after another tenant's delete: %v", err)
	}
}

func testClientList(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	for _, id := range []string{"b", "_a", "C", "a", "-z"} {
		mustClient(t, s, newClient("t1", id))
	}
	mustClient(t, s, newClient("t2", "other"))
	list, err := s.ListClients(ctx, "t1")
	if err != nil {
		t.Fatalf("ListClients: %v", err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
		if c.TenantID != "t1" {
			t.Errorf("ListClients(t1) returned a client of %s", c.TenantID)
		}
	}
	// Byte order, whatever the database's collation.
	sameStrings(t, "ListClients ids", ids, []string{"-z", "C", "_a", "a", "b"})
	empty, err := s.ListClients(ctx, "nope")
	if err != nil || len(empty) != 0 {
		t.Errorf("ListClients of an unknown tenant = %v, %v; want none", empty, err)
	}
}

func testClientUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	orig := mustClient(t, s, newClient("t1", "c1"))
	got, err := s.UpdateClient(ctx, "t1", "c1", func(c *store.Client) error {
		if c.Name != orig.Name || c.SecretHash != orig.SecretHash {
			return errors.New("fn did not see the stored client")
		}
		c.SecretHash = hashOf("rotated")
		c.Name = "Renamed"
		c.Scopes = []string{"email"}
		c.FirstParty = true
		c.UpdatedAt = base.Add(2 * day)
		c.TenantID, c.ID = "t2", "stolen" // ignored
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	want := orig
	want.SecretHash, want.Name, want.Scopes, want.UpdatedAt = hashOf("rotated"), "Renamed", []string{"email"}, base.Add(2*day)
	want.FirstParty = true
	checkClient(t, got, want)
	stored, err := s.GetClient(ctx, "t1", "c1")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	checkClient(t, stored, want)
	if _, err := s.FindClient(ctx, "stolen"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("fn changed the client's id: FindClient(stolen) error = %v", err)
	}
}

func testClientUpdateFnError(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	orig := mustClient(t, s, newClient("t1", "c1"))
	boom := errors.New("boom")
	_, err := s.UpdateClient(ctx, "t1", "c1", func(c *store.Client) error {
		c.SecretHash = hashOf("half-done")
		return boom
	})
	if err != boom { // unchanged: not wrapped
		t.Fatalf("UpdateClient error = %v, want fn's error unchanged", err)
	}
	stored, err := s.GetClient(ctx, "t1", "c1")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	checkClient(t, stored, orig)
}

// testClientUpdateConcurrent: concurrent updates are serialised, so every
// one of them is kept.
func testClientUpdateConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustClient(t, s, newClient("t1", "c1"))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateClient(ctx, "t1", "c1", func(c *store.Client) error {
				c.Scopes = append(c.Scopes, string(rune('a'+i)))
				return nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("UpdateClient: %v", err)
		}
	}
	got, err := s.GetClient(ctx, "t1", "c1")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	if len(got.Scopes) != 2+n {
		t.Errorf("after %d concurrent updates the client has scopes %q: updates were lost", n, got.Scopes)
	}
}

func testClientDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustClient(t, s, newClient("t1", "c1"))
	mustClient(t, s, newClient("t1", "c2"))
	if _, err := s.DeleteClient(ctx, "t1", "c1", base); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	_, err := s.GetClient(ctx, "t1", "c1")
	wantErr(t, "GetClient after delete", err, store.ErrNotFound)
	_, err = s.FindClient(ctx, "c1")
	wantErr(t, "FindClient after delete", err, store.ErrNotFound)
	_, err = s.DeleteClient(ctx, "t1", "c1", base)
	wantErr(t, "DeleteClient again", err, store.ErrNotFound)
	if _, err := s.GetClient(ctx, "t1", "c2"); err != nil {
		t.Errorf("DeleteClient removed another client: %v", err)
	}
	// The id can be registered again.
	mustClient(t, s, newClient("t1", "c1"))
}
