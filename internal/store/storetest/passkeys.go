package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, []testCase{
		{"Passkeys/RoundTrip", testPasskeyRoundTrip},
		{"Passkeys/CredentialUniquePerTenant", testPasskeyUnique},
		{"Passkeys/UnknownUser", testPasskeyUnknownUser},
		{"Passkeys/UseCounterForwardOnly", testPasskeyUseCounter},
		{"Passkeys/UseConcurrentOneWinner", testPasskeyUseConcurrent},
		{"Passkeys/RenameDelete", testPasskeyRenameDelete},
		{"Passkeys/GoWithUser", testPasskeyGoWithUser},
		{"PasskeyCeremonies/ConsumeOnce", testCeremonyConsumeOnce},
		{"PasskeyCeremonies/KindExpiryTenant", testCeremonyKindExpiry},
		{"PasskeyCeremonies/PutReplaces", testCeremonyPutReplaces},
	}...)
}

func newPasskey(u store.User, id string, at time.Time) store.Passkey {
	return store.Passkey{TenantID: u.TenantID, UserID: u.ID, ID: id, CredentialID: []byte("cred-" + id),
		PublicKey: []byte("cose-" + id), AttestationFormat: "none", SignCount: 3, BackupEligible: true,
		Transports: []string{"internal", "hybrid"}, AAGUID: make([]byte, 16), Name: "Phone " + id, CreatedAt: at}
}

func mustPasskey(t *testing.T, s store.Store, p store.Passkey) {
	t.Helper()
	if err := s.CreatePasskey(t.Context(), p); err != nil {
		t.Fatalf("CreatePasskey: %v", err)
	}
}

func testPasskeyRoundTrip(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	p := newPasskey(u, "pk1", base)
	mustPasskey(t, s, p)
	mustPasskey(t, s, newPasskey(u, "pk2", base.Add(time.Second)))
	got, err := s.GetPasskeyByCredentialID(t.Context(), "t1", p.CredentialID)
	if err != nil {
		t.Fatalf("GetPasskeyByCredentialID: %v", err)
	}
	if got.ID != "pk1" || got.UserID != u.ID || !bytes.Equal(got.PublicKey, p.PublicKey) || got.SignCount != 3 ||
		!got.BackupEligible || got.BackupState || got.AttestationFormat != "none" || got.Name != p.Name ||
		!bytes.Equal(got.AAGUID, p.AAGUID) || !got.LastUsedAt.IsZero() {
		t.Errorf("passkey = %+v, want %+v", got, p)
	}
	sameStrings(t, "Transports", got.Transports, p.Transports)
	sameTime(t, "CreatedAt", got.CreatedAt, p.CreatedAt)
	list, err := s.ListPasskeys(t.Context(), "t1", u.ID)
	if err != nil || len(list) != 2 || list[0].ID != "pk1" || list[1].ID != "pk2" {
		t.Fatalf("ListPasskeys = %+v, %v; want pk1, pk2", list, err)
	}
	if _, err := s.GetPasskeyByCredentialID(t.Context(), "t1", []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown credential: err = %v, want ErrNotFound", err)
	}
}

func testPasskeyUnique(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPasskey(t, s, newPasskey(u, "pk1", base))
	dup := newPasskey(u, "pk2", base)
	dup.CredentialID = []byte("cred-pk1")
	wantErr(t, "same credential id", s.CreatePasskey(t.Context(), dup), store.ErrConflict)
	mustTenant(t, s, "t2")
	other := mustUser(t, s, newUser("t2", "u-bob", "bob"))
	elsewhere := newPasskey(other, "pk1", base)
	mustPasskey(t, s, elsewhere) // the same credential id (and id) in another tenant
	if _, err := s.GetPasskeyByCredentialID(t.Context(), "t2", []byte("cred-pk1")); err != nil {
		t.Fatalf("other tenant: %v", err)
	}
	got, err := s.GetPasskeyByCredentialID(t.Context(), "t1", []byte("cred-pk1"))
	if err != nil || got.UserID != u.ID {
		t.Fatalf("t1 passkey = %+v, %v; want the one of %s", got, err, u.ID)
	}
}

func testPasskeyUnknownUser(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	u.ID = "u-ghost"
	wantErr(t, "unknown user", s.CreatePasskey(t.Context(), newPasskey(u, "pk1", base)), store.ErrNotFound)
}

func testPasskeyUseCounter(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPasskey(t, s, newPasskey(u, "pk1", base))
	at := base.Add(time.Minute)
	got, err := s.UsePasskey(t.Context(), store.PasskeyUse{TenantID: "t1", ID: "pk1", SignCount: 4, BackupState: true, Now: at})
	if err != nil || got.SignCount != 4 || !got.BackupState {
		t.Fatalf("UsePasskey(4) = %+v, %v", got, err)
	}
	sameTime(t, "LastUsedAt", got.LastUsedAt, at)
	for _, n := range []uint32{4, 2, 0} {
		_, err := s.UsePasskey(t.Context(), store.PasskeyUse{TenantID: "t1", ID: "pk1", SignCount: n, Now: at})
		wantErr(t, "counter not forward", err, store.ErrConflict)
	}
	_, err = s.UsePasskey(t.Context(), store.PasskeyUse{TenantID: "t1", ID: "nope", SignCount: 9, Now: at})
	wantErr(t, "unknown passkey", err, store.ErrNotFound)
	_, err = s.UsePasskey(t.Context(), store.PasskeyUse{TenantID: "t2", ID: "pk1", SignCount: 9, Now: at})
	wantErr(t, "other tenant", err, store.ErrNotFound)

	zero := newPasskey(u, "pk0", base) // an authenticator without a counter
	zero.SignCount = 0
	mustPasskey(t, s, zero)
	for range 2 {
		if _, err := s.UsePasskey(t.Context(), store.PasskeyUse{TenantID: "t1", ID: "pk0", SignCount: 0, Now: at}); err != nil {
			t.Fatalf("zero counter: %v", err)
		}
	}
}

func testPasskeyUseConcurrent(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPasskey(t, s, newPasskey(u, "pk1", base))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.UsePasskey(t.Context(), store.PasskeyUse{TenantID: "t1", ID: "pk1", SignCount: 10, Now: base})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("UsePasskey: %v, want nil or ErrConflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d uses of one counter value passed, want 1", ok, n)
	}
}

func testPasskeyRenameDelete(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPasskey(t, s, newPasskey(u, "pk1", base))
	got, err := s.RenamePasskey(t.Context(), "t1", u.ID, "pk1", "Laptop")
	if err != nil || got.Name != "Laptop" {
		t.Fatalf("RenamePasskey = %+v, %v", got, err)
	}
	_, err = s.RenamePasskey(t.Context(), "t1", "u-other", "pk1", "x")
	wantErr(t, "rename as another user", err, store.ErrNotFound)
	wantErr(t, "delete as another user", s.DeletePasskey(t.Context(), "t1", "u-other", "pk1"), store.ErrNotFound)
	if err := s.DeletePasskey(t.Context(), "t1", u.ID, "pk1"); err != nil {
		t.Fatalf("DeletePasskey: %v", err)
	}
	wantErr(t, "delete again", s.DeletePasskey(t.Context(), "t1", u.ID, "pk1"), store.ErrNotFound)
	if list, err := s.ListPasskeys(t.Context(), "t1", u.ID); err != nil || len(list) != 0 {
		t.Errorf("after delete: %+v, %v", list, err)
	}
}

func testPasskeyGoWithUser(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	mustPasskey(t, s, newPasskey(u, "pk1", base))
	if err := s.DeleteUser(t.Context(), "t1", u.ID, base); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.GetPasskeyByCredentialID(t.Context(), "t1", []byte("cred-pk1"))
	wantErr(t, "passkey of a deleted user", err, store.ErrNotFound)
}

func newCeremony(label, kind string, at time.Time) store.PasskeyCeremony {
	return store.PasskeyCeremony{TenantID: "t1", Hash: hashOf(label), Kind: kind, UserID: "u-alice",
		Data: []byte(`{"challenge":"x"}`), CreatedAt: at, ExpiresAt: at.Add(challengeLife)}
}

func testCeremonyConsumeOnce(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	c := newCeremony("c1", store.CeremonyRegister, base)
	if err := s.PutPasskeyCeremony(t.Context(), c); err != nil {
		t.Fatalf("PutPasskeyCeremony: %v", err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	got := make([]store.PasskeyCeremony, n)
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = s.ConsumePasskeyCeremony(t.Context(), "t1", c.Hash, store.CeremonyRegister, base.Add(time.Second))
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
			if got[i].UserID != "u-alice" || !bytes.Equal(got[i].Data, c.Data) || got[i].Kind != c.Kind {
				t.Errorf("consumed = %+v, want %+v", got[i], c)
			}
			sameTime(t, "UsedAt", got[i].UsedAt, base.Add(time.Second))
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("ConsumePasskeyCeremony: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d consumed the ceremony, want 1", ok, n)
	}
}

func testCeremonyKindExpiry(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	c := newCeremony("c1", store.CeremonySignIn, base)
	c.UserID = ""
	if err := s.PutPasskeyCeremony(t.Context(), c); err != nil {
		t.Fatalf("PutPasskeyCeremony: %v", err)
	}
	_, err := s.ConsumePasskeyCeremony(t.Context(), "t1", c.Hash, store.CeremonyRegister, base)
	wantErr(t, "other kind", err, store.ErrNotFound)
	_, err = s.ConsumePasskeyCeremony(t.Context(), "t2", c.Hash, store.CeremonySignIn, base)
	wantErr(t, "other tenant", err, store.ErrNotFound)
	_, err = s.ConsumePasskeyCeremony(t.Context(), "t1", c.Hash, store.CeremonySignIn, c.ExpiresAt)
	wantErr(t, "expired", err, store.ErrNotFound)
	if err := s.SweepMFA(t.Context(), c.ExpiresAt.Add(time.Second), base); err != nil {
		t.Fatalf("SweepMFA: %v", err)
	}
	_, err = s.ConsumePasskeyCeremony(t.Context(), "t1", c.Hash, store.CeremonySignIn, base)
	wantErr(t, "swept", err, store.ErrNotFound)
}

func testCeremonyPutReplaces(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	c := newCeremony("c1", store.CeremonyMFA, base)
	if err := s.PutPasskeyCeremony(t.Context(), c); err != nil {
		t.Fatalf("PutPasskeyCeremony: %v", err)
	}
	if _, err := s.ConsumePasskeyCeremony(t.Context(), "t1", c.Hash, store.CeremonyMFA, base); err != nil {
		t.Fatalf("consume: %v", err)
	}
	c.Data = []byte(`{"challenge":"y"}`)
	if err := s.PutPasskeyCeremony(t.Context(), c); err != nil {
		t.Fatalf("PutPasskeyCeremony again: %v", err)
	}
	got, err := s.ConsumePasskeyCeremony(t.Context(), "t1", c.Hash, store.CeremonyMFA, base)
	if err != nil || !bytes.Equal(got.Data, c.Data) {
		t.Fatalf("consume replaced = %+v, %v", got, err)
	}
}
