package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// base is the fixed clock of the suite, far from the real one so that no
// backend can pass by using time.Now.
var base = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// Lifetimes used by the fixtures.
const (
	sessionLife = 30 * 24 * time.Hour
	idleTTL     = 7 * 24 * time.Hour
	day         = 24 * time.Hour
)

// reuseType is the audit type the suite asks the store to record on reuse.
const reuseType = "refresh_token_reused"

// hashOf stands in for the hex SHA-256 of an opaque token.
func hashOf(label string) string {
	sum := sha256.Sum256([]byte(label))
	return hex.EncodeToString(sum[:])
}

func mustTenant(t *testing.T, s store.Store, id string) {
	t.Helper()
	if err := s.CreateTenant(t.Context(), store.Tenant{ID: id, Name: "Tenant " + id, CreatedAt: base}); err != nil {
		t.Fatalf("CreateTenant(%q): %v", id, err)
	}
}

// newUser is a minimal active user.
func newUser(tenantID, id, username string) store.User {
	return store.User{
		TenantID:     tenantID,
		ID:           id,
		Username:     username,
		Status:       store.StatusActive,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		CreatedAt:    base,
		UpdatedAt:    base,
	}
}

func mustUser(t *testing.T, s store.Store, u store.User) store.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s/%s): %v", u.TenantID, u.ID, err)
	}
	return u
}

// newSession is a live user session created at at.
func newSession(tenantID, id, userID string, at time.Time) store.Session {
	return store.Session{
		TenantID:   tenantID,
		ID:         id,
		UserID:     userID,
		ClientID:   "web",
		Kind:       store.SessionUser,
		AMR:        []string{"pwd"},
		IP:         "198.51.100.7",
		UserAgent:  "suite/1.0",
		CreatedAt:  at,
		LastUsedAt: at,
		ExpiresAt:  at.Add(sessionLife),
		AuthTime:   at,
	}
}

// newToken is the first refresh token of a session created at at.
func newToken(hash string, at time.Time) store.RefreshToken {
	return store.RefreshToken{Hash: hash, Generation: 1, CreatedAt: at, ExpiresAt: at.Add(idleTTL)}
}

func mustSession(t *testing.T, s store.Store, sess store.Session, rt store.RefreshToken) {
	t.Helper()
	rt.TenantID, rt.SessionID = sess.TenantID, sess.ID
	if err := s.CreateSession(t.Context(), sess, rt); err != nil {
		t.Fatalf("CreateSession(%s/%s): %v", sess.TenantID, sess.ID, err)
	}
}

// family is a user with one session and its first refresh token.
type family struct {
	tenant  string
	user    store.User
	session store.Session
	token   string // hash of the active refresh token
}

// newFamily creates user, session and token named after label in tenant
// (which must exist), created at at.
func newFamily(t *testing.T, s store.Store, tenant, label string, at time.Time) family {
	t.Helper()
	u := mustUser(t, s, newUser(tenant, label+"-user", label))
	sess := newSession(tenant, label+"-session", u.ID, at)
	tok := hashOf(label + "-rt0")
	mustSession(t, s, sess, newToken(tok, at))
	return family{tenant: tenant, user: u, session: sess, token: tok}
}

// rotateReq presents presented at now and offers next as the successor.
func rotateReq(f family, presented, next string, now time.Time) store.RotateRequest {
	return store.RotateRequest{
		TenantID:      f.tenant,
		PresentedHash: presented,
		Now:           now,
		IdleTTL:       idleTTL,
		New:           store.RefreshToken{Hash: next, CreatedAt: now},
		ReuseAudit:    store.AuditEvent{Type: reuseType, Time: now, TenantID: f.tenant, IP: "203.0.113.9"},
	}
}

func mustRotate(t *testing.T, s store.Store, req store.RotateRequest, want int) store.RotateResult {
	t.Helper()
	res, err := s.RotateRefreshToken(t.Context(), req)
	if err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	if res.Outcome != want {
		t.Fatalf("RotateRefreshToken outcome = %s, want %s", outcomeName(res.Outcome), outcomeName(want))
	}
	return res
}

func outcomeName(o int) string {
	switch o {
	case store.Rotated:
		return "Rotated"
	case store.Retried:
		return "Retried"
	case store.Reused:
		return "Reused"
	case store.Invalid:
		return "Invalid"
	case store.WrongClient:
		return "WrongClient"
	}
	return "unknown outcome"
}

// revocations returns the whole revocation feed.
func revocations(t *testing.T, s store.Store) []store.Revocation {
	t.Helper()
	revs, err := s.ListRevocations(t.Context(), 0, 1000)
	if err != nil {
		t.Fatalf("ListRevocations: %v", err)
	}
	return revs
}

func mustGetSession(t *testing.T, s store.Store, tenant, id string) store.Session {
	t.Helper()
	sess, err := s.GetSession(t.Context(), tenant, id)
	if err != nil {
		t.Fatalf("GetSession(%s/%s): %v", tenant, id, err)
	}
	return sess
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

// sameTime fails unless got and want are the same instant and got is UTC
// (or both are zero).
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", what, got)
		}
		return
	}
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, got.Location())
	}
}

// sameJSON compares values through their JSON encoding, which is how a
// store keeps them.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: marshal got: %v", what, err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: marshal want: %v", what, err)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

// sameStrings compares string lists, treating nil and empty alike.
func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %q, want %q", what, got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s = %q, want %q", what, got, want)
			return
		}
	}
}
