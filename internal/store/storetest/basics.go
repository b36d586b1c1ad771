package storetest

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func testKind(t *testing.T, s store.Store) {
	if k := s.Kind(); k != "sqlite" && k != "postgres" {
		t.Errorf("Kind() = %q, want sqlite or postgres", k)
	}
}

func testPingAndMigrateAgain(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	mustTenant(t, s, "t1")
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if _, err := s.GetTenant(ctx, "t1"); err != nil {
		t.Errorf("GetTenant after second Migrate: %v", err)
	}
}

func testClose(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantErr(t, "Ping after Close", s.Ping(t.Context()), store.ErrUnavailable)
	_, err := s.GetTenant(t.Context(), "t1")
	wantErr(t, "GetTenant after Close", err, store.ErrUnavailable)
	wantErr(t, "CreateTenant after Close", s.CreateTenant(t.Context(), store.Tenant{ID: "t1", Name: "x"}), store.ErrUnavailable)
}
