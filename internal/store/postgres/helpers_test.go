package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/postgres"
)

// base is a fixed clock far from the real one.
var base = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	sessionLife = 30 * 24 * time.Hour
	idleTTL     = 7 * 24 * time.Hour
)

func hashOf(label string) string {
	sum := sha256.Sum256([]byte(label))
	return hex.EncodeToString(sum[:])
}

// openStore opens another store (another pool, as another process would)
// on the database dsn, migrated.
func openStore(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 20})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// seedSession creates tenant, user and a user session whose first refresh
// token has hash hashOf(label+"/0"), and returns the session.
func seedSession(t testing.TB, s store.Store, tenantID, userID, sessionID string) store.Session {
	t.Helper()
	ctx := context.Background()
	if _, err := s.GetTenant(ctx, tenantID); err != nil {
		if err := s.CreateTenant(ctx, store.Tenant{ID: tenantID, Name: tenantID, CreatedAt: base}); err != nil {
			t.Fatalf("CreateTenant: %v", err)
		}
	}
	if _, err := s.GetUser(ctx, tenantID, userID); err != nil {
		u := store.User{TenantID: tenantID, ID: userID, Username: "user-" + userID,
			Status: store.StatusActive, CreatedAt: base, UpdatedAt: base}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	sess := store.Session{TenantID: tenantID, ID: sessionID, UserID: userID, ClientID: "web",
		Kind: store.SessionUser, AMR: []string{"pwd"}, CreatedAt: base, LastUsedAt: base,
		ExpiresAt: base.Add(sessionLife), AuthTime: base}
	rt := store.RefreshToken{Hash: tokenHash(sessionID, 0), TenantID: tenantID, SessionID: sessionID,
		Generation: 0, CreatedAt: base, ExpiresAt: base.Add(idleTTL)}
	if err := s.CreateSession(ctx, sess, rt); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return sess
}

// tokenHash names the hash of the refresh token of generation gen.
func tokenHash(sessionID string, gen int) string {
	return hashOf(fmt.Sprintf("%s/%d", sessionID, gen))
}

// rotateReq asks to rotate presented into a successor with hash next.
func rotateReq(tenantID, presented, next string, now time.Time, leeway time.Duration) store.RotateRequest {
	return store.RotateRequest{
		TenantID:      tenantID,
		PresentedHash: presented,
		Now:           now,
		IdleTTL:       idleTTL,
		Leeway:        leeway,
		New:           store.RefreshToken{Hash: next, CreatedAt: now},
		RetryData:     []byte("sealed:" + next),
		ReuseAudit:    store.AuditEvent{Type: "refresh_token_reused", Time: now},
	}
}
