package core

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

const mfaTestPassword = "correct horse battery"

// mfaFixture is a service on a real SQLite file with one user, alice.
type mfaFixture struct {
	svc   *Service
	st    *sqlite.Store
	clock *testClock
	alice store.User
}

func newMFAFixture(t *testing.T, p Policy) *mfaFixture {
	t.Helper()
	ctx := context.Background()
	st := openTestStore(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	clock := &testClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	svc := newTestService(t, st, clock, p)
	if err := svc.EnsureTenant(ctx, DefaultTenant, "Default"); err != nil {
		t.Fatalf("EnsureTenant: %v", err)
	}
	alice, err := svc.CreateUser(ctx, NewUser{TenantID: DefaultTenant, Username: "alice", Password: mfaTestPassword}, Meta{})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return &mfaFixture{svc: svc, st: st, clock: clock, alice: alice}
}

var mfaTestPolicy = Policy{
	Issuer: "http://gatehouse.test", AccessTTL: 15 * time.Minute, RefreshTTL: 7 * 24 * time.Hour,
	SessionMaxLifetime: 30 * 24 * time.Hour, LoginMaxFailures: 5, LoginLockout: 15 * time.Minute,
	IPMaxFailures: 50, PasswordMinLength: 10, MFAMode: MFAAlways,
}

func (f *mfaFixture) login(t *testing.T, canChallenge bool) (LoginResult, error) {
	t.Helper()
	return f.svc.LoginPassword(t.Context(), PasswordLogin{TenantID: DefaultTenant, Username: "alice", Password: mfaTestPassword,
		Meta: Meta{IP: "198.51.100.1", UserAgent: "test/1.0"}, CanChallenge: canChallenge})
}

func (f *mfaFixture) code(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol gives alice a confirmed TOTP factor and returns its secret; the
// clock then moves to the next step.
func (f *mfaFixture) enrol(t *testing.T) string {
	t.Helper()
	res, err := f.login(t, true)
	if err != nil || res.AccessToken == "" {
		t.Fatalf("login: %+v, %v", res, err)
	}
	p := Principal{Claims: res.Claims}
	e, err := f.svc.EnrollTOTP(t.Context(), p, "", mfaTestPassword, Meta{})
	if err != nil {
		t.Fatalf("EnrollTOTP: %v", err)
	}
	codes, err := f.svc.ConfirmTOTP(t.Context(), p, f.code(t, e.Secret), mfaTestPassword, Meta{})
	if err != nil || len(codes) != RecoveryCodeCount {
		t.Fatalf("ConfirmTOTP: %v, %v", codes, err)
	}
	f.clock.Advance(30 * time.Second)
	return e.Secret
}

// TestVerifyMFA_ConcurrentOneWinner runs under the race detector too: ten
// verifications of one challenge with the right code yield one session.
func TestVerifyMFA_ConcurrentOneWinner(t *testing.T) {
	f := newMFAFixture(t, mfaTestPolicy)
	secret := f.enrol(t)
	res, err := f.login(t, true)
	if err != nil || res.Challenge == nil || res.AccessToken != "" || res.Session.ID != "" {
		t.Fatalf("login of an enrolled user: %+v, %v", res, err)
	}
	before, err := f.st.ListUserSessions(t.Context(), DefaultTenant, f.alice.ID, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	code := f.code(t, secret)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = f.svc.VerifyMFA(context.Background(), MFAVerify{TenantID: DefaultTenant,
				ChallengeToken: res.Challenge.Token, Method: MethodTOTP, Code: code})
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch c := ErrorCode(err); {
		case err == nil:
			wins++
		case c != CodeInvalidGrant && c != CodeInvalidMFACode:
			t.Errorf("a losing verify: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d verifies won, want 1", wins, n)
	}
	after, err := f.st.ListUserSessions(t.Context(), DefaultTenant, f.alice.ID, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("sessions %d → %d, want exactly one more", len(before), len(after))
	}
}

func TestLoginPassword_SecondFactorWithoutChallengeIsRefused(t *testing.T) {
	f := newMFAFixture(t, mfaTestPolicy)
	f.enrol(t)
	before, _ := f.st.ListUserSessions(t.Context(), DefaultTenant, f.alice.ID, f.clock.Now())
	res, err := f.login(t, false)
	wantMFACode(t, "login that cannot carry a challenge", err, CodeMFARequired)
	if res.AccessToken != "" || res.Challenge != nil {
		t.Fatalf("result = %+v", res)
	}
	after, _ := f.st.ListUserSessions(t.Context(), DefaultTenant, f.alice.ID, f.clock.Now())
	if len(after) != len(before) {
		t.Fatal("a refused sign-in created a session")
	}
}

func TestTOTPSecret_SealedAndBoundToItsFactor(t *testing.T) {
	f := newMFAFixture(t, mfaTestPolicy)
	secret := f.enrol(t)
	fs, err := f.st.ListFactors(t.Context(), DefaultTenant, f.alice.ID)
	if err != nil || len(fs) != 1 {
		t.Fatalf("factors: %v, %v", fs, err)
	}
	if bytes.Contains(fs[0].SecretEnc, []byte(secret)) {
		t.Fatal("the secret is stored in clear")
	}
	got, err := f.svc.openTOTPSecret(fs[0])
	if err != nil || got != secret {
		t.Fatalf("openTOTPSecret = %q, %v", got, err)
	}
	moved := fs[0]
	moved.UserID = "someone-else"
	if _, err := f.svc.openTOTPSecret(moved); !errors.Is(err, token.ErrOpen) {
		t.Fatalf("a secret opened for another user: %v", err)
	}
}

func TestVerifyMFA_UnknownChallengeAndBadInput(t *testing.T) {
	f := newMFAFixture(t, mfaTestPolicy)
	ctx := t.Context()
	_, err := f.svc.VerifyMFA(ctx, MFAVerify{TenantID: DefaultTenant, ChallengeToken: token.NewOpaque(), Method: MethodTOTP, Code: "123456"})
	wantMFACode(t, "unknown challenge", err, CodeInvalidGrant)
	_, err = f.svc.VerifyMFA(ctx, MFAVerify{TenantID: DefaultTenant, ChallengeToken: "x", Method: "sms", Code: "123456"})
	wantMFACode(t, "unknown method", err, CodeInvalidRequest)
	_, err = f.svc.VerifyMFA(ctx, MFAVerify{TenantID: DefaultTenant, ChallengeToken: string(make([]byte, 5000)), Method: MethodTOTP, Code: "1"})
	wantMFACode(t, "oversized challenge", err, CodeInvalidGrant)
}

func wantMFACode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if ErrorCode(err) != code {
		t.Fatalf("%s: error = %v, want code %s", what, err, code)
	}
}
