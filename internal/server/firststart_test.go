package server_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

// TestFirstStart_ConcurrentOnPostgres starts several servers at once on one
// fresh PostgreSQL database: they must agree on one signing key, so that
// every JWKS publishes the key that every process signs with.
func TestFirstStart_ConcurrentOnPostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	env := map[string]string{
		"GATEHOUSE_DB":         dsn,
		"GATEHOUSE_ADMIN_KEY":  servertest.AdminKey,
		"GATEHOUSE_MASTER_KEY": servertest.MasterKey,
		"GATEHOUSE_ISSUER":     "http://gatehouse.test",
		"GATEHOUSE_DATA_DIR":   t.TempDir(),
	}
	cfg, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	servers := make([]*server.Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			servers[i], errs[i] = server.New(context.Background(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		t.Cleanup(func() { servers[i].Close() })
	}
	kid := servers[0].Keys.ActiveKID()
	for i, s := range servers {
		if got := s.Keys.ActiveKID(); got != kid {
			t.Errorf("server %d signs with %s, server 0 with %s", i, got, kid)
		}
	}
	keys, err := servers[0].Store.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].KID != kid {
		t.Fatalf("stored keys %d (first %v), want exactly the one active key %s", len(keys), keys, kid)
	}
}
