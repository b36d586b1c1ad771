package token

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// memStore is an in-memory KeyStore with the semantics of store.Store.
type memStore struct {
	mu    sync.Mutex
	keys  []store.SigningKey // in insertion order
	lists int                // number of ListSigningKeys calls
}

func (m *memStore) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lists++
	out := make([]store.SigningKey, 0, len(m.keys))
	for i := len(m.keys) - 1; i >= 0; i-- {
		k := m.keys[i]
		k.PrivateEnc = slices.Clone(k.PrivateEnc)
		k.PublicJWK = slices.Clone(k.PublicJWK)
		out = append(out, k)
	}
	return out, nil
}

func (m *memStore) AddSigningKey(ctx context.Context, k store.SigningKey, publishUntil time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].KID == k.KID {
			return fmt.Errorf("add key %s: %w", k.KID, store.ErrConflict)
		}
	}
	for i := range m.keys {
		if m.keys[i].RetiredAt.IsZero() {
			m.keys[i].RetiredAt = k.SignsFrom()
			m.keys[i].PublishUntil = publishUntil
		}
	}
	k.RetiredAt, k.PublishUntil = time.Time{}, time.Time{}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memStore) AddFirstSigningKey(ctx context.Context, k store.SigningKey) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if o.RetiredAt.IsZero() {
			return false, nil
		}
	}
	k.RetiredAt, k.PublishUntil = time.Time{}, time.Time{}
	m.keys = append(m.keys, k)
	return true, nil
}

func (m *memStore) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = slices.DeleteFunc(m.keys, func(k store.SigningKey) bool {
		return !k.RetiredAt.IsZero() && k.PublishUntil.Before(t)
	})
	return nil
}

func (m *memStore) listCalls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lists
}

func (m *memStore) kids() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, k := range m.keys {
		out = append(out, k.KID)
	}
	return out
}

// update changes the stored key kid in place.
func (m *memStore) update(kid string, fn func(*store.SigningKey)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].KID == kid {
			fn(&m.keys[i])
		}
	}
}

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	testIssuer = "https://auth.example.test"
	testTTL    = 15 * time.Minute
)

func testMasterKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func testSealer(t testing.TB, master []byte) *Sealer {
	t.Helper()
	s, err := NewSealer(master, "signing-keys")
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	return s
}

// syncBuffer is a log destination safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a key set with its store, sealer, clock and log.
type env struct {
	ks     *KeySet
	store  *memStore
	sealer *Sealer
	clock  *clock
	logs   *syncBuffer
}

func newEnv(t testing.TB, alg string) *env {
	t.Helper()
	e := &env{store: &memStore{}, sealer: testSealer(t, testMasterKey(t)), clock: newClock(), logs: &syncBuffer{}}
	e.ks = e.open(t, alg)
	return e
}

// open builds another key set on the same store, sealer and clock, as a
// second process would.
func (e *env) open(t testing.TB, alg string) *KeySet {
	t.Helper()
	ks, err := NewKeySet(context.Background(), e.store, e.sealer, KeySetOptions{
		Issuer: testIssuer, Alg: alg, AccessTTL: testTTL, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	})
	if err != nil {
		t.Fatalf("NewKeySet(%s): %v", alg, err)
	}
	return ks
}

// claimsAt returns complete access-token claims issued at now.
func claimsAt(now time.Time) Claims {
	return Claims{
		Issuer:    testIssuer,
		Subject:   "user-1",
		Audience:  []string{"app-1"},
		ExpiresAt: now.Add(testTTL),
		IssuedAt:  now,
		NotBefore: now,
		ID:        NewOpaque(),
		SessionID: "sess-1",
		TenantID:  "default",
		ClientID:  "app-1",
		Roles:     []string{"admin"},
		AMR:       []string{"pwd"},
	}
}

func mustSign(t testing.TB, ks *KeySet, c Claims) string {
	t.Helper()
	tok, err := ks.Sign(c)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

// quiet discards logs.
var quiet = slog.New(slog.DiscardHandler)

var algs = []string{AlgEdDSA, AlgES256, AlgRS256}
