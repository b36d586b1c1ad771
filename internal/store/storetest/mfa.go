package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, []testCase{
		{"MFA/PendingFactorReplaced", testMFAPendingReplaced},
		{"MFA/PendingFactorUnknownUser", testMFAPendingUnknownUser},
		{"MFA/ConfirmActivatesAndReplaces", testMFAConfirm},
		{"MFA/ConfirmOnlyPending", testMFAConfirmOnlyPending},
		{"MFA/DeleteFactors", testMFADeleteFactors},
		{"MFA/TOTPStepOnce", testMFATOTPStepOnce},
		{"MFA/DeletedUserTakesEverything", testMFAUserDeleted},
		{"MFA/TenantIsolation", testMFATenantIsolation},
		{"MFA/Sweep", testMFASweep},
	}...)
}

// mfaUser creates tenant t1 and user alice in it.
func mfaUser(t *testing.T, s store.Store) store.User {
	t.Helper()
	mustTenant(t, s, "t1")
	return mustUser(t, s, newUser("t1", "u-alice", "alice"))
}

func newFactor(u store.User, id string, at time.Time) store.MFAFactor {
	return store.MFAFactor{TenantID: u.TenantID, UserID: u.ID, ID: id, Kind: store.FactorTOTP,
		SecretEnc: []byte("sealed-" + id), CreatedAt: at}
}

func mustPutFactor(t *testing.T, s store.Store, f store.MFAFactor) {
	t.Helper()
	if err := s.PutPendingFactor(t.Context(), f); err != nil {
		t.Fatalf("PutPendingFactor(%s): %v", f.ID, err)
	}
}

func mustFactors(t *testing.T, s store.Store, u store.User) []store.MFAFactor {
	t.Helper()
	fs, err := s.ListFactors(t.Context(), u.TenantID, u.ID)
	if err != nil {
		t.Fatalf("ListFactors: %v", err)
	}
	return fs
}

func mustConfirm(t *testing.T, s store.Store, u store.User, id string, at time.Time, codes ...string) store.MFAFactor {
	t.Helper()
	f, err := s.ConfirmFactor(t.Context(), u.TenantID, u.ID, id, at, codes)
	if err != nil {
		t.Fatalf("ConfirmFactor(%s): %v", id, err)
	}
	return f
}

func recoveryCount(t *testing.T, s store.Store, u store.User) int {
	t.Helper()
	n, err := s.CountRecoveryCodes(t.Context(), u.TenantID, u.ID)
	if err != nil {
		t.Fatalf("CountRecoveryCodes: %v", err)
	}
	return n
}

func testMFAPendingReplaced(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPutFactor(t, s, newFactor(u, "f1", base))
	mustPutFactor(t, s, newFactor(u, "f2", base.Add(time.Minute)))
	fs := mustFactors(t, s, u)
	if len(fs) != 1 || fs[0].ID != "f2" {
		t.Fatalf("factors = %+v, want only the pending f2", fs)
	}
	f := fs[0]
	if f.TenantID != "t1" || f.UserID != u.ID || f.Kind != store.FactorTOTP || !bytes.Equal(f.SecretEnc, []byte("sealed-f2")) {
		t.Errorf("factor = %+v", f)
	}
	sameTime(t, "CreatedAt", f.CreatedAt, base.Add(time.Minute))
	sameTime(t, "ConfirmedAt", f.ConfirmedAt, time.Time{})
	if f.Active() {
		t.Error("a pending factor is active")
	}
}

func testMFAPendingUnknownUser(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	err := s.PutPendingFactor(t.Context(), store.MFAFactor{TenantID: "t1", UserID: "ghost", ID: "f1",
		Kind: store.FactorTOTP, SecretEnc: []byte("x"), CreatedAt: base})
	wantErr(t, "PutPendingFactor for a missing user", err, store.ErrNotFound)
	err = s.CreateChallenge(t.Context(), store.MFAChallenge{TenantID: "t1", Hash: hashOf("c"), UserID: "ghost",
		CreatedAt: base, ExpiresAt: base.Add(time.Minute)})
	wantErr(t, "CreateChallenge for a missing user", err, store.ErrNotFound)
}

func testMFAConfirm(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPutFactor(t, s, newFactor(u, "f1", base))
	f := mustConfirm(t, s, u, "f1", base.Add(time.Minute), hashOf("r1"), hashOf("r2"), hashOf("r3"))
	if f.ID != "f1" || !f.Active() {
		t.Fatalf("confirmed factor = %+v", f)
	}
	sameTime(t, "ConfirmedAt", f.ConfirmedAt, base.Add(time.Minute))
	if n := recoveryCount(t, s, u); n != 3 {
		t.Fatalf("recovery codes = %d, want 3", n)
	}

	// A new pending factor leaves the active one in place until confirmed.
	mustPutFactor(t, s, newFactor(u, "f2", base.Add(2*time.Minute)))
	fs := mustFactors(t, s, u)
	if len(fs) != 2 || fs[0].ID != "f1" || !fs[0].Active() || fs[1].ID != "f2" || fs[1].Active() {
		t.Fatalf("factors = %+v, want active f1 and pending f2", fs)
	}
	mustConfirm(t, s, u, "f2", base.Add(3*time.Minute), hashOf("r4"))
	fs = mustFactors(t, s, u)
	if len(fs) != 1 || fs[0].ID != "f2" || !fs[0].Active() {
		t.Fatalf("factors = %+v, want only the active f2", fs)
	}
	if n := recoveryCount(t, s, u); n != 1 {
		t.Fatalf("recovery codes after re-enrolment = %d, want 1 (the old ones replaced)", n)
	}
}

func testMFAConfirmOnlyPending(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	_, err := s.ConfirmFactor(t.Context(), u.TenantID, u.ID, "nope", base, nil)
	wantErr(t, "ConfirmFactor of an unknown factor", err, store.ErrNotFound)
	mustPutFactor(t, s, newFactor(u, "f1", base))
	mustConfirm(t, s, u, "f1", base.Add(time.Minute), hashOf("r1"))
	_, err = s.ConfirmFactor(t.Context(), u.TenantID, u.ID, "f1", base.Add(2*time.Minute), []string{hashOf("r9")})
	wantErr(t, "ConfirmFactor twice", err, store.ErrNotFound)
	if n := recoveryCount(t, s, u); n != 1 {
		t.Fatalf("a failed confirmation changed the recovery codes: %d", n)
	}
	fs := mustFactors(t, s, u)
	sameTime(t, "ConfirmedAt", fs[0].ConfirmedAt, base.Add(time.Minute))
}

func testMFADeleteFactors(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPutFactor(t, s, newFactor(u, "f1", base))
	mustConfirm(t, s, u, "f1", base, hashOf("r1"), hashOf("r2"))
	mustPutFactor(t, s, newFactor(u, "f2", base))
	ch := newChallenge(u, "c1", base)
	mustChallenge(t, s, ch)
	n, err := s.DeleteFactors(t.Context(), u.TenantID, u.ID)
	if err != nil || n != 2 {
		t.Fatalf("DeleteFactors = %d, %v; want 2", n, err)
	}
	if fs := mustFactors(t, s, u); len(fs) != 0 {
		t.Fatalf("factors after delete: %+v", fs)
	}
	if n := recoveryCount(t, s, u); n != 0 {
		t.Fatalf("recovery codes after delete: %d", n)
	}
	_, err = s.GetChallenge(t.Context(), u.TenantID, ch.Hash)
	wantErr(t, "open challenge after DeleteFactors", err, store.ErrNotFound)
	if n, err := s.DeleteFactors(t.Context(), u.TenantID, u.ID); err != nil || n != 0 {
		t.Fatalf("DeleteFactors again = %d, %v; want 0, nil", n, err)
	}
}

func testMFATOTPStepOnce(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	other := mustUser(t, s, newUser("t1", "u-bob", "bob"))
	if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 66666, base); err != nil {
		t.Fatalf("UseTOTPStep: %v", err)
	}
	wantErr(t, "UseTOTPStep again", s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 66666, base), store.ErrConflict)
	if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 66667, base); err != nil {
		t.Fatalf("UseTOTPStep of the next step: %v", err)
	}
	if err := s.UseTOTPStep(t.Context(), "t1", other.ID, "f1", 66666, base); err != nil {
		t.Fatalf("UseTOTPStep of the same step by another user: %v", err)
	}
	// A step belongs to the factor whose code used it: a new factor (after
	// a reset or a re-enrolment) may use it once too.
	if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f2", 66666, base); err != nil {
		t.Fatalf("UseTOTPStep of the same step by another factor: %v", err)
	}
	wantErr(t, "UseTOTPStep again with the other factor", s.UseTOTPStep(t.Context(), "t1", u.ID, "f2", 66666, base), store.ErrConflict)
}

func testMFAUserDeleted(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPutFactor(t, s, newFactor(u, "f1", base))
	mustConfirm(t, s, u, "f1", base, hashOf("r1"))
	mustChallenge(t, s, newChallenge(u, "c1", base))
	mustRemember(t, s, u, base, store.DeviceMark{Kind: store.DeviceIP, Hash: "ip1"})
	if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 5, base); err != nil {
		t.Fatalf("UseTOTPStep: %v", err)
	}
	if err := s.DeleteUser(t.Context(), "t1", u.ID, base); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	// A new user with the same id starts with nothing.
	mustUser(t, s, newUser("t1", u.ID, "alice2"))
	if fs := mustFactors(t, s, u); len(fs) != 0 {
		t.Errorf("factors of a deleted user survived: %+v", fs)
	}
	if n := recoveryCount(t, s, u); n != 0 {
		t.Errorf("recovery codes of a deleted user survived: %d", n)
	}
	if ds := mustDevices(t, s, u); len(ds) != 0 {
		t.Errorf("known devices of a deleted user survived: %+v", ds)
	}
	_, err := s.GetChallenge(t.Context(), "t1", hashOf("c1"))
	wantErr(t, "challenge of a deleted user", err, store.ErrNotFound)
	if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 5, base); err != nil {
		t.Errorf("TOTP step of a deleted user survived: %v", err)
	}
}

func testMFATenantIsolation(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustTenant(t, s, "t2")
	mustUser(t, s, newUser("t2", u.ID, "alice"))
	mustPutFactor(t, s, newFactor(u, "f1", base))
	mustConfirm(t, s, u, "f1", base, hashOf("r1"))
	ch := newChallenge(u, "c1", base)
	mustChallenge(t, s, ch)
	mustRemember(t, s, u, base, store.DeviceMark{Kind: store.DeviceIP, Hash: "ip1"})

	u2 := u
	u2.TenantID = "t2"
	if fs := mustFactors(t, s, u2); len(fs) != 0 {
		t.Errorf("t2 sees factors of t1: %+v", fs)
	}
	if n := recoveryCount(t, s, u2); n != 0 {
		t.Errorf("t2 sees recovery codes of t1: %d", n)
	}
	if ds := mustDevices(t, s, u2); len(ds) != 0 {
		t.Errorf("t2 sees devices of t1: %+v", ds)
	}
	_, err := s.GetChallenge(t.Context(), "t2", ch.Hash)
	wantErr(t, "GetChallenge in another tenant", err, store.ErrNotFound)
	_, err = s.CompleteChallenge(t.Context(), store.CompleteChallengeRequest{TenantID: "t2", Hash: ch.Hash, Now: base, MaxAttempts: 5})
	wantErr(t, "CompleteChallenge in another tenant", err, store.ErrNotFound)
	_, err = s.ConfirmFactor(t.Context(), "t2", u.ID, "f1", base, nil)
	wantErr(t, "ConfirmFactor in another tenant", err, store.ErrNotFound)
	if n, err := s.DeleteFactors(t.Context(), "t2", u.ID); err != nil || n != 0 {
		t.Errorf("DeleteFactors in t2 = %d, %v", n, err)
	}
	if fs := mustFactors(t, s, u); len(fs) != 1 {
		t.Errorf("t1 factors after a t2 delete: %+v", fs)
	}
}

func testMFASweep(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	old := newChallenge(u, "old", base)
	live := newChallenge(u, "live", base.Add(time.Hour))
	mustChallenge(t, s, old)
	mustChallenge(t, s, live)
	for step, at := range map[int64]time.Time{1: base, 2: base.Add(time.Hour)} {
		if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", step, at); err != nil {
			t.Fatalf("UseTOTPStep: %v", err)
		}
	}
	now := base.Add(time.Hour)
	if err := s.SweepMFA(t.Context(), now, now.Add(-time.Minute)); err != nil {
		t.Fatalf("SweepMFA: %v", err)
	}
	_, err := s.GetChallenge(t.Context(), "t1", old.Hash)
	wantErr(t, "expired challenge after sweep", err, store.ErrNotFound)
	if _, err := s.GetChallenge(t.Context(), "t1", live.Hash); err != nil {
		t.Fatalf("live challenge swept: %v", err)
	}
	if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 1, now); err != nil {
		t.Errorf("old TOTP step still recorded after sweep: %v", err)
	}
	wantErr(t, "recent TOTP step after sweep", s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 2, now), store.ErrConflict)
}
