package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// TestLockedBeyondBusyTimeoutIsUnavailable holds the write lock from a
// second handle longer than the first one's busy timeout.
func TestLockedBeyondBusyTimeoutIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	holder := openMigrated(t, path)
	s, err := Open(context.Background(), path, Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	c, err := holder.writer.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.CreateTenant(context.Background(), store.Tenant{ID: "t1", Name: "T"})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("CreateTenant while locked: %v, want ErrUnavailable", err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Errorf("gave up after %v, before the busy timeout", waited)
	}
	if _, err := c.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTenant(context.Background(), store.Tenant{ID: "t1", Name: "T"}); err != nil {
		t.Errorf("CreateTenant once unlocked: %v", err)
	}
}

func TestContextDeadlineIsUnavailable(t *testing.T) {
	s := openMigrated(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err := s.GetTenant(ctx, "t1")
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetTenant with an expired context: %v, want ErrUnavailable wrapping the deadline", err)
	}
	err = s.CreateTenant(ctx, store.Tenant{ID: "t1"})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("CreateTenant with an expired context: %v, want ErrUnavailable", err)
	}
	// The writer connection is still usable afterwards.
	if err := s.CreateTenant(context.Background(), store.Tenant{ID: "t1"}); err != nil {
		t.Errorf("CreateTenant after a cancelled write: %v", err)
	}
}

func TestMissingTenantIsNotFound(t *testing.T) {
	s := openMigrated(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	err := s.CreateUser(context.Background(), store.User{TenantID: "nope", ID: "u1", Username: "alice"})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateUser in an unknown tenant: %v, want ErrNotFound", err)
	}
}

// TestCancelInsideTransaction cancels the context while a write
// transaction is open: the write fails as unavailable, nothing of it stays,
// and the writer connection is clean for the next transaction.
func TestCancelInsideTransaction(t *testing.T) {
	s := openMigrated(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	seedSession(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := s.UpdateUser(ctx, "t1", "u1", func(u *store.User) error {
		u.DisplayName = "changed"
		cancel()
		return nil
	})
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("UpdateUser cancelled inside the transaction: %v, want ErrUnavailable wrapping context.Canceled", err)
	}
	u, err := s.GetUser(context.Background(), "t1", "u1")
	if err != nil || u.DisplayName != "" {
		t.Fatalf("user after the cancelled update: %+v, %v", u, err)
	}
	if _, err := s.UpdateUser(context.Background(), "t1", "u1", func(u *store.User) error {
		u.DisplayName = "later"
		return nil
	}); err != nil {
		t.Fatalf("UpdateUser after a cancelled one: %v", err)
	}
}
