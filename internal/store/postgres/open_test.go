package postgres_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres/pgtest"
)

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return addr
}

func TestOpen_ClosedPortIsUnavailable(t *testing.T) {
	dsn := "postgres://postgres@" + closedPort(t) + "/postgres?sslmode=disable"
	start := time.Now()
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{QueryTimeout: 2 * time.Second})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded against a closed port")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open error = %v, want store.ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open took %v, want a prompt failure", d)
	}
}

// TestOpen_SilentServerTimesOut points the store at a server that accepts
// connections and never answers: Open must give up at the query timeout
// with store.ErrUnavailable.
func TestOpen_SilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	dsn := "postgres://postgres@" + l.Addr().String() + "/postgres?sslmode=disable"
	start := time.Now()
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{QueryTimeout: 500 * time.Millisecond})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded against a silent server")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open error = %v, want store.ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open took %v, want about the query timeout", d)
	}
}

func TestOpen_BadDSNDoesNotEchoPassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:s3cret-pw@[bad/x", postgres.Options{})
	if err == nil {
		t.Fatal("Open accepted a malformed DSN")
	}
	if got := err.Error(); containsFold(got, "s3cret-pw") {
		t.Errorf("error %q reveals the password", got)
	}
}

func TestStore_ClosedIsUnavailable(t *testing.T) {
	s := pgtest.NewStore(t)
	if s.Kind() != "postgres" {
		t.Errorf("Kind() = %q, want postgres", s.Kind())
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping after Close = %v, want store.ErrUnavailable", err)
	}
	if _, err := s.ListTenants(context.Background()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ListTenants after Close = %v, want store.ErrUnavailable", err)
	}
}

// TestStore_RecoversAfterConnectionsKilled terminates every server
// connection of the store, as a database restart does: calls may fail with
// store.ErrUnavailable meanwhile, and the pool must then serve again by
// itself.
func TestStore_RecoversAfterConnectionsKilled(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s := openStore(t, dsn)
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "one", CreatedAt: base}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	admin := pgtest.DSN(t)
	for round := range 3 {
		killed := terminateBackends(t, admin, dsn)
		if killed == 0 {
			t.Fatalf("round %d: no connection of the store to terminate", round)
		}
		var lastErr error
		recovered := false
		for range 10 {
			_, err := s.GetTenant(ctx, "t1")
			if err == nil {
				recovered = true
				break
			}
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("round %d: GetTenant = %v, want nil or store.ErrUnavailable", round, err)
			}
			lastErr = err
		}
		if !recovered {
			t.Fatalf("round %d: store did not recover: %v", round, lastErr)
		}
	}
}
