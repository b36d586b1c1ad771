package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, []testCase{
		{"MFAChallenges/RoundTrip", testChallengeRoundTrip},
		{"MFAChallenges/CompleteOnce", testChallengeCompleteOnce},
		{"MFAChallenges/Expired", testChallengeExpired},
		{"MFAChallenges/FailuresEndIt", testChallengeFailures},
		{"MFAChallenges/TOTPStepReplayWritesNothing", testChallengeStepReplay},
		{"MFAChallenges/RecoveryCodeOnce", testChallengeRecoveryCode},
		{"KnownDevices/RememberAndBound", testDevicesRemember},
	}...)
}

// challengeLife is the lifetime of the suite's challenges.
const challengeLife = 5 * time.Minute

// maxAttempts is the number of wrong codes that ends a challenge in the suite.
const maxAttempts = 5

func newChallenge(u store.User, label string, at time.Time) store.MFAChallenge {
	return store.MFAChallenge{TenantID: u.TenantID, Hash: hashOf(label), UserID: u.ID,
		Methods: []string{"totp", "recovery_code"}, Data: []byte(`{"client_id":"web"}`),
		CreatedAt: at, ExpiresAt: at.Add(challengeLife)}
}

func mustChallenge(t *testing.T, s store.Store, c store.MFAChallenge) {
	t.Helper()
	if err := s.CreateChallenge(t.Context(), c); err != nil {
		t.Fatalf("CreateChallenge: %v", err)
	}
}

func complete(t *testing.T, s store.Store, c store.MFAChallenge, now time.Time, step int64, recovery string) (store.MFAChallenge, error) {
	return s.CompleteChallenge(t.Context(), store.CompleteChallengeRequest{TenantID: c.TenantID, Hash: c.Hash,
		Now: now, MaxAttempts: maxAttempts, TOTPStep: step, TOTPFactorID: "f1", RecoveryHash: recovery})
}

func testChallengeRoundTrip(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	c := newChallenge(u, "c1", base)
	mustChallenge(t, s, c)
	got, err := s.GetChallenge(t.Context(), "t1", c.Hash)
	if err != nil {
		t.Fatalf("GetChallenge: %v", err)
	}
	if got.TenantID != "t1" || got.Hash != c.Hash || got.UserID != u.ID || !bytes.Equal(got.Data, c.Data) || got.Attempts != 0 {
		t.Errorf("challenge = %+v, want %+v", got, c)
	}
	sameStrings(t, "Methods", got.Methods, c.Methods)
	sameTime(t, "CreatedAt", got.CreatedAt, c.CreatedAt)
	sameTime(t, "ExpiresAt", got.ExpiresAt, c.ExpiresAt)
	sameTime(t, "UsedAt", got.UsedAt, time.Time{})
	wantErr(t, "CreateChallenge twice", s.CreateChallenge(t.Context(), c), store.ErrConflict)
	_, err = s.GetChallenge(t.Context(), "t1", hashOf("unknown"))
	wantErr(t, "GetChallenge unknown", err, store.ErrNotFound)
}

func testChallengeCompleteOnce(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	c := newChallenge(u, "c1", base)
	mustChallenge(t, s, c)
	now := base.Add(time.Minute)
	got, err := complete(t, s, c, now, 1000, "")
	if err != nil {
		t.Fatalf("CompleteChallenge: %v", err)
	}
	if got.UserID != u.ID || !bytes.Equal(got.Data, c.Data) {
		t.Errorf("completed challenge = %+v", got)
	}
	sameTime(t, "UsedAt", got.UsedAt, now)
	_, err = complete(t, s, c, now, 1001, "")
	wantErr(t, "CompleteChallenge twice", err, store.ErrNotFound)
	// The step was recorded with the completion.
	wantErr(t, "UseTOTPStep of the completing step", s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 1000, now), store.ErrConflict)
	// The step belongs to the factor: another factor of the user may use it.
	if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f2", 1000, now); err != nil {
		t.Errorf("UseTOTPStep of the completing step with another factor: %v", err)
	}
	// The failed second completion recorded nothing.
	if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 1001, now); err != nil {
		t.Errorf("a failed completion recorded its step: %v", err)
	}
	_, err = s.ReserveChallengeAttempt(t.Context(), "t1", c.Hash, now, maxAttempts)
	wantErr(t, "ReserveChallengeAttempt of a used challenge", err, store.ErrNotFound)
}

func testChallengeExpired(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	c := newChallenge(u, "c1", base)
	mustChallenge(t, s, c)
	_, err := complete(t, s, c, c.ExpiresAt, 0, "")
	wantErr(t, "CompleteChallenge at expiry", err, store.ErrNotFound)
	_, err = s.ReserveChallengeAttempt(t.Context(), "t1", c.Hash, c.ExpiresAt, maxAttempts)
	wantErr(t, "ReserveChallengeAttempt at expiry", err, store.ErrNotFound)
	if _, err := complete(t, s, c, c.ExpiresAt.Add(-time.Microsecond), 0, ""); err != nil {
		t.Fatalf("CompleteChallenge just before expiry: %v", err)
	}
}

func testChallengeFailures(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	c := newChallenge(u, "c1", base)
	mustChallenge(t, s, c)
	for i := 1; i <= maxAttempts; i++ {
		got, err := s.ReserveChallengeAttempt(t.Context(), "t1", c.Hash, base, maxAttempts)
		if err != nil {
			t.Fatalf("ReserveChallengeAttempt #%d: %v", i, err)
		}
		if got.Attempts != i {
			t.Fatalf("attempts after failure #%d = %d", i, got.Attempts)
		}
	}
	_, err := s.ReserveChallengeAttempt(t.Context(), "t1", c.Hash, base, maxAttempts)
	wantErr(t, "ReserveChallengeAttempt past the maximum", err, store.ErrNotFound)
	_, err = complete(t, s, c, base, 7, "")
	wantErr(t, "CompleteChallenge after the maximum of failures", err, store.ErrNotFound)
}

func testChallengeStepReplay(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 42, base); err != nil {
		t.Fatalf("UseTOTPStep: %v", err)
	}
	c := newChallenge(u, "c1", base)
	mustChallenge(t, s, c)
	_, err := complete(t, s, c, base, 42, "")
	wantErr(t, "CompleteChallenge with a used step", err, store.ErrConflict)
	// Nothing was written: the challenge is still open.
	got, err := s.GetChallenge(t.Context(), "t1", c.Hash)
	if err != nil || !got.UsedAt.IsZero() {
		t.Fatalf("challenge after a replayed step: %+v, %v", got, err)
	}
	if _, err := complete(t, s, c, base, 43, ""); err != nil {
		t.Fatalf("CompleteChallenge with a fresh step: %v", err)
	}
}

func testChallengeRecoveryCode(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPutFactor(t, s, newFactor(u, "f1", base))
	mustConfirm(t, s, u, "f1", base, hashOf("r1"), hashOf("r2"))
	c1 := newChallenge(u, "c1", base)
	mustChallenge(t, s, c1)
	_, err := complete(t, s, c1, base, 0, hashOf("wrong"))
	wantErr(t, "CompleteChallenge with an unknown recovery code", err, store.ErrConflict)
	if _, err := complete(t, s, c1, base, 0, hashOf("r1")); err != nil {
		t.Fatalf("CompleteChallenge with a recovery code: %v", err)
	}
	if n := recoveryCount(t, s, u); n != 1 {
		t.Fatalf("unused recovery codes = %d, want 1", n)
	}
	c2 := newChallenge(u, "c2", base)
	mustChallenge(t, s, c2)
	_, err = complete(t, s, c2, base, 0, hashOf("r1"))
	wantErr(t, "CompleteChallenge with a used recovery code", err, store.ErrConflict)
	if got, err := s.GetChallenge(t.Context(), "t1", c2.Hash); err != nil || !got.UsedAt.IsZero() {
		t.Fatalf("challenge after a used recovery code: %+v, %v", got, err)
	}
	// Another user's code is not this user's.
	bob := mustUser(t, s, newUser("t1", "u-bob", "bob"))
	c3 := newChallenge(bob, "c3", base)
	mustChallenge(t, s, c3)
	_, err = complete(t, s, c3, base, 0, hashOf("r2"))
	wantErr(t, "CompleteChallenge with another user's recovery code", err, store.ErrConflict)
}

func mustRemember(t *testing.T, s store.Store, u store.User, at time.Time, marks ...store.DeviceMark) {
	t.Helper()
	if err := s.RememberDevices(t.Context(), u.TenantID, u.ID, marks, at, 3); err != nil {
		t.Fatalf("RememberDevices: %v", err)
	}
}

func mustDevices(t *testing.T, s store.Store, u store.User) []store.KnownDevice {
	t.Helper()
	ds, err := s.ListKnownDevices(t.Context(), u.TenantID, u.ID)
	if err != nil {
		t.Fatalf("ListKnownDevices: %v", err)
	}
	return ds
}

func testDevicesRemember(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	ip := func(h string) store.DeviceMark { return store.DeviceMark{Kind: store.DeviceIP, Hash: h} }
	ua := func(h string) store.DeviceMark { return store.DeviceMark{Kind: store.DeviceUserAgent, Hash: h} }
	mustRemember(t, s, u, base, ip("ip1"), ua("ua1"))
	mustRemember(t, s, u, base.Add(time.Hour), ip("ip1"))
	ds := mustDevices(t, s, u)
	if len(ds) != 2 || ds[0].Hash != "ip1" || ds[0].Kind != store.DeviceIP || ds[1].Hash != "ua1" {
		t.Fatalf("devices = %+v", ds)
	}
	sameTime(t, "FirstSeen", ds[0].FirstSeen, base)
	sameTime(t, "LastSeen", ds[0].LastSeen, base.Add(time.Hour))
	if ds[0].TenantID != "t1" || ds[0].UserID != u.ID {
		t.Errorf("device = %+v", ds[0])
	}

	// At most 3 of a kind: the least recently seen IPs are forgotten, the
	// User-Agent is untouched.
	for i, h := range []string{"ip2", "ip3", "ip4"} {
		mustRemember(t, s, u, base.Add(time.Duration(2+i)*time.Hour), ip(h))
	}
	ds = mustDevices(t, s, u)
	var ips []string
	uas := 0
	for _, d := range ds {
		if d.Kind == store.DeviceIP {
			ips = append(ips, d.Hash)
		} else {
			uas++
		}
	}
	sameStrings(t, "known IPs, newest first", ips, []string{"ip4", "ip3", "ip2"})
	if uas != 1 {
		t.Errorf("known User-Agents = %d, want 1", uas)
	}
	// Another user knows none of them.
	bob := mustUser(t, s, newUser("t1", "u-bob", "bob"))
	if ds := mustDevices(t, s, bob); len(ds) != 0 {
		t.Errorf("bob's devices = %+v", ds)
	}
}
