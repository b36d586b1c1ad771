package postgres_test

import (
	"context"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

// TestMigrate0008_KeepsCollidingUsernames builds a database as the release
// before usernames were compared by RFC 8265 left it, with users whose
// names become equal once prepared, and migrates it.
func TestMigrate0008_KeepsCollidingUsernames(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.NewDatabase(t), postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.MigrateTo(ctx, 7); err != nil {
		t.Fatalf("migrate to 7: %v", err)
	}
	if err := s.ExecForTest(ctx, `INSERT INTO tenants (id, name, created_at) VALUES ('t1', 't1', now()), ('t2', 't2', now())`); err != nil {
		t.Fatalf("seed tenants: %v", err)
	}
	for i, u := range storetest.LegacyNames {
		if err := s.ExecForTest(ctx, `INSERT INTO users (tenant_id, id, username, username_lower, email, email_lower,
			groups, roles, attributes, status, created_at, updated_at)
			VALUES ('t1', $1, $2, $3, $4, $5, '[]', '[]', '{}', 'active',
				'2030-01-01'::timestamptz + make_interval(secs => $6), '2030-01-01'::timestamptz + make_interval(secs => $6))`,
			u.ID, u.Username, u.OldKey, u.Email, u.OldEmailKey, float64(i+1)); err != nil {
			t.Fatalf("seed user %s: %v", u.ID, err)
		}
	}
	if err := s.ExecForTest(ctx, `INSERT INTO providers (tenant_id, name, issuer, audiences, algorithms, created_at, updated_at)
		VALUES ('t1', 'p1', 'https://idp.example', '["a"]', '["RS256"]', '2030-01-01', '2030-01-01'),
		       ('t1', 'p2', 'https://idp.example', '["b"]', '["RS256"]', '2030-01-02', '2030-01-02')`); err != nil {
		t.Fatalf("seed providers: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	storetest.CheckNameMigration(t, s)
}
