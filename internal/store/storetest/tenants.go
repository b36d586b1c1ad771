package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func testTenantCreateGetList(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := []store.Tenant{
		{ID: "acme", Name: "Acme Corp", CreatedAt: base.Add(1500 * time.Microsecond)},
		{ID: "globex", Name: "Globex", CreatedAt: base.Add(day)},
	}
	for _, tn := range want {
		if err := s.CreateTenant(ctx, tn); err != nil {
			t.Fatalf("CreateTenant(%q): %v", tn.ID, err)
		}
	}
	for _, tn := range want {
		got, err := s.GetTenant(ctx, tn.ID)
		if err != nil {
			t.Fatalf("GetTenant(%q): %v", tn.ID, err)
		}
		if got.ID != tn.ID || got.Name != tn.Name {
			t.Errorf("GetTenant(%q) = %+v, want %+v", tn.ID, got, tn)
		}
		sameTime(t, "tenant CreatedAt", got.CreatedAt, tn.CreatedAt)
	}
	list, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	seen := map[string]store.Tenant{}
	for _, tn := range list {
		seen[tn.ID] = tn
	}
	for _, tn := range want {
		got, ok := seen[tn.ID]
		if !ok || got.Name != tn.Name || !got.CreatedAt.Equal(tn.CreatedAt) {
			t.Errorf("ListTenants lacks %+v; got %+v", tn, list)
		}
	}
}

func testTenantDuplicate(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "acme")
	err := s.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Other", CreatedAt: base})
	wantErr(t, "CreateTenant duplicate", err, store.ErrConflict)
	got, err := s.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	if got.Name != "Tenant acme" {
		t.Errorf("duplicate CreateTenant changed the name to %q", got.Name)
	}
}

func testTenantNotFound(t *testing.T, s store.Store) {
	_, err := s.GetTenant(t.Context(), "nope")
	wantErr(t, "GetTenant unknown", err, store.ErrNotFound)
}
