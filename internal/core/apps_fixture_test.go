package core

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// testClock is a clock the tests move.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// appFixture is a service on a real SQLite file with the default tenant.
type appFixture struct {
	svc   *Service
	st    *sqlite.Store
	clock *testClock
	path  string
}

var appTestPolicy = Policy{
	Issuer: "http://gatehouse.test", AccessTTL: 15 * time.Minute, RefreshTTL: 7 * 24 * time.Hour,
	SessionMaxLifetime: 30 * 24 * time.Hour, LoginMaxFailures: 3, LoginLockout: 15 * time.Minute,
	IPMaxFailures: 10, PasswordMinLength: 10,
}

var appTestMaster = []byte("0123456789abcdef0123456789abcdef")

func newAppFixture(t *testing.T) *appFixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	clock := &testClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &appFixture{clock: clock, path: path}
	f.svc, f.st = openAppService(t, path, clock)
	if err := f.svc.EnsureTenant(t.Context(), DefaultTenant, "Default"); err != nil {
		t.Fatalf("EnsureTenant: %v", err)
	}
	return f
}

// openAppService opens a service on the database file path: two of them
// on one file behave as two processes sharing a database.
func openAppService(t testing.TB, path string, clock Clock) (*Service, *sqlite.Store) {
	t.Helper()
	st := openTestStore(t, path)
	return newTestService(t, st, clock, appTestPolicy), st
}

// openTestStore opens and migrates the SQLite database at path, closed
// when the test ends.
func openTestStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// newTestService assembles a service on st with policy p, the test
// master key and cheap password hashing.
func newTestService(t testing.TB, st store.Store, clock Clock, p Policy) *Service {
	t.Helper()
	sealer := func(purpose string) *token.Sealer {
		s, err := token.NewSealer(appTestMaster, purpose)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	keyed, err := token.NewKeyedHash(appTestMaster, "mfa-and-devices")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	keys, err := token.NewKeySet(context.Background(), st, sealer("signing-keys"), token.KeySetOptions{Issuer: p.Issuer, AccessTTL: p.AccessTTL, Now: clock.Now, Logger: quiet})
	if err != nil {
		t.Fatalf("keys: %v", err)
	}
	hasher := password.New(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, 0, 0)
	svc, err := New(Deps{Store: st, Keys: keys, Hasher: hasher, Sealer: sealer("refresh-retry"), Clock: clock, Logger: quiet,
		TOTPSealer: sealer("totp-secrets"), KeyedHash: keyed}, p)
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	return svc
}

// user creates an active user of the default tenant.
func (f *appFixture) user(t *testing.T, username string) store.User {
	t.Helper()
	u, err := f.svc.CreateUser(t.Context(), NewUser{TenantID: DefaultTenant, Username: username, DisplayName: "User " + username,
		Groups: []string{"eng"}}, Meta{})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// signIn opens a user session for u and returns its tokens.
func (f *appFixture) signIn(t *testing.T, u store.User) LoginResult {
	t.Helper()
	res, err := f.svc.startSession(t.Context(), u, SessionParams{AMR: []string{"pwd"}, IP: "198.51.100.1"})
	if err != nil {
		t.Fatalf("startSession: %v", err)
	}
	return res
}

// client registers a confidential client of the default tenant.
func (f *appFixture) client(t *testing.T, name string) (store.Client, string) {
	t.Helper()
	ic, err := f.svc.CreateClient(t.Context(), NewClient{TenantID: DefaultTenant, Name: name}, Meta{Actor: "test"})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return ic.Client, ic.Secret
}

// wantCode fails unless err is a core error with code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("%s: error = %v, want code %s", what, err, code)
	}
}
