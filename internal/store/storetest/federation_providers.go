package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, providerCases...)
}

// providerCases check the external OpenID providers of store.FederationStore.
var providerCases = []testCase{
	{"Providers/RoundTrip", testProviderRoundTrip},
	{"Providers/CreateConflict", testProviderConflict},
	{"Providers/UnknownTenant", testProviderUnknownTenant},
	{"Providers/PutUpserts", testProviderPut},
	{"Providers/ListByTenant", testProviderList},
	{"Providers/Delete", testProviderDelete},
}

// newProvider is a provider with every field set.
func newProvider(tenantID, name string) store.Provider {
	return store.Provider{
		TenantID:      tenantID,
		Name:          name,
		Issuer:        "https://idp.example.com/" + name,
		Audiences:     []string{"web-" + name, "mobile-" + name},
		JWKSURI:       "https://idp.example.com/" + name + "/jwks",
		Algorithms:    []string{"RS256", "ES256"},
		AutoProvision: true,
		LinkByEmail:   true,
		CreatedAt:     base.Add(time.Microsecond),
		UpdatedAt:     base.Add(time.Second),
	}
}

func checkProvider(t *testing.T, got, want store.Provider) {
	t.Helper()
	if got.TenantID != want.TenantID || got.Name != want.Name || got.Issuer != want.Issuer ||
		got.JWKSURI != want.JWKSURI || got.AutoProvision != want.AutoProvision || got.LinkByEmail != want.LinkByEmail {
		t.Errorf("provider:\n got %+v\nwant %+v", got, want)
	}
	sameStrings(t, "provider Audiences", got.Audiences, want.Audiences)
	sameStrings(t, "provider Algorithms", got.Algorithms, want.Algorithms)
	sameTime(t, "provider CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "provider UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func mustProvider(t *testing.T, s store.Store, p store.Provider) store.Provider {
	t.Helper()
	if err := s.CreateProvider(t.Context(), p); err != nil {
		t.Fatalf("CreateProvider(%s/%s): %v", p.TenantID, p.Name, err)
	}
	return p
}

func testProviderRoundTrip(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	want := mustProvider(t, s, newProvider("t1", "google"))
	got, err := s.GetProvider(t.Context(), "t1", "google")
	if err != nil {
		t.Fatalf("GetProvider: %v", err)
	}
	checkProvider(t, got, want)

	bare := store.Provider{TenantID: "t1", Name: "bare", Issuer: "https://bare.example.com", Audiences: []string{"a"}}
	mustProvider(t, s, bare)
	got, err = s.GetProvider(t.Context(), "t1", "bare")
	if err != nil {
		t.Fatalf("GetProvider(bare): %v", err)
	}
	checkProvider(t, got, bare)

	_, err = s.GetProvider(t.Context(), "t1", "nope")
	wantErr(t, "GetProvider of an unknown name", err, store.ErrNotFound)
}

func testProviderConflict(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustProvider(t, s, newProvider("t1", "google"))
	wantErr(t, "CreateProvider with a taken name", s.CreateProvider(t.Context(), newProvider("t1", "google")), store.ErrConflict)
	// Names are per tenant.
	mustProvider(t, s, newProvider("t2", "google"))
}

func testProviderUnknownTenant(t *testing.T, s store.Store) {
	wantErr(t, "CreateProvider in an unknown tenant", s.CreateProvider(t.Context(), newProvider("nope", "google")), store.ErrNotFound)
	wantErr(t, "PutProvider in an unknown tenant", s.PutProvider(t.Context(), newProvider("nope", "google")), store.ErrNotFound)
}

func testProviderPut(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	first := newProvider("t1", "corp")
	if err := s.PutProvider(ctx, first); err != nil {
		t.Fatalf("PutProvider (insert): %v", err)
	}
	next := store.Provider{TenantID: "t1", Name: "corp", Issuer: "https://other.example.com",
		Audiences: []string{"x"}, Algorithms: []string{"EdDSA"},
		CreatedAt: base.Add(day), UpdatedAt: base.Add(2 * day)}
	if err := s.PutProvider(ctx, next); err != nil {
		t.Fatalf("PutProvider (replace): %v", err)
	}
	got, err := s.GetProvider(ctx, "t1", "corp")
	if err != nil {
		t.Fatalf("GetProvider: %v", err)
	}
	want := next
	want.CreatedAt = first.CreatedAt // a replaced provider keeps its creation time
	checkProvider(t, got, want)
}

func testProviderList(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	for _, n := range []string{"zeta", "alpha", "mid"} {
		mustProvider(t, s, newProvider("t1", n))
	}
	mustProvider(t, s, newProvider("t2", "other"))
	list, err := s.ListProviders(ctx, "t1")
	if err != nil {
		t.Fatalf("ListProviders: %v", err)
	}
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	sameStrings(t, "ListProviders names", names, []string{"alpha", "mid", "zeta"})
	if len(list) == 3 {
		checkProvider(t, list[0], newProvider("t1", "alpha"))
	}
	empty, err := s.ListProviders(ctx, "t3")
	if err != nil || len(empty) != 0 {
		t.Errorf("ListProviders of a tenant without providers = %v, %v; want none", empty, err)
	}
}

func testProviderDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	mustProvider(t, s, newProvider("t1", "google"))
	mustProvider(t, s, newProvider("t2", "google"))
	if err := s.DeleteProvider(ctx, "t1", "google"); err != nil {
		t.Fatalf("DeleteProvider: %v", err)
	}
	_, err := s.GetProvider(ctx, "t1", "google")
	wantErr(t, "GetProvider after DeleteProvider", err, store.ErrNotFound)
	wantErr(t, "DeleteProvider again", s.DeleteProvider(ctx, "t1", "google"), store.ErrNotFound)
	if _, err := s.GetProvider(ctx, "t2", "google"); err != nil {
		t.Errorf("the other tenant's provider of the same name: %v", err)
	}
}
