package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func signingKey(kid string, created time.Time) store.SigningKey {
	return store.SigningKey{
		KID:        kid,
		Alg:        "EdDSA",
		PrivateEnc: []byte("\x00sealed-" + kid + "\xff"),
		PublicJWK:  []byte(`{"kty":"OKP","crv":"Ed25519","kid":"` + kid + `","x":"AAAA"}`),
		CreatedAt:  created,
	}
}

func listKeys(t *testing.T, s store.Store) []store.SigningKey {
	t.Helper()
	keys, err := s.ListSigningKeys(t.Context())
	if err != nil {
		t.Fatalf("ListSigningKeys: %v", err)
	}
	return keys
}

func checkKey(t *testing.T, got, want store.SigningKey, retired, publishUntil time.Time) {
	t.Helper()
	if got.KID != want.KID || got.Alg != want.Alg ||
		!bytes.Equal(got.PrivateEnc, want.PrivateEnc) || !bytes.Equal(got.PublicJWK, want.PublicJWK) {
		t.Errorf("key = %+v, want %+v", got, want)
	}
	sameTime(t, want.KID+" CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, want.KID+" ActivatesAt", got.ActivatesAt, want.ActivatesAt)
	sameTime(t, want.KID+" RetiredAt", got.RetiredAt, retired)
	sameTime(t, want.KID+" PublishUntil", got.PublishUntil, publishUntil)
}

func addKey(t *testing.T, s store.Store, k store.SigningKey, publishUntil time.Time) {
	t.Helper()
	if err := s.AddSigningKey(t.Context(), k, publishUntil); err != nil {
		t.Fatalf("AddSigningKey(%s): %v", k.KID, err)
	}
}

func testKeysAdd(t *testing.T, s store.Store) {
	if keys := listKeys(t, s); len(keys) != 0 {
		t.Fatalf("fresh store has keys %+v", keys)
	}
	k1, k2, k3 := signingKey("k1", base), signingKey("k2", base.Add(day)), signingKey("k3", base.Add(3*day))
	addKey(t, s, k1, base.Add(time.Hour))
	keys := listKeys(t, s)
	if len(keys) != 1 {
		t.Fatalf("keys = %+v, want one", keys)
	}
	checkKey(t, keys[0], k1, time.Time{}, time.Time{})

	addKey(t, s, k2, base.Add(2*day))
	keys = listKeys(t, s)
	if len(keys) != 2 {
		t.Fatalf("keys = %+v, want two", keys)
	}
	checkKey(t, keys[0], k2, time.Time{}, time.Time{})
	checkKey(t, keys[1], k1, k2.CreatedAt, base.Add(2*day))

	addKey(t, s, k3, base.Add(4*day))
	keys = listKeys(t, s)
	if len(keys) != 3 {
		t.Fatalf("keys = %+v, want three", keys)
	}
	checkKey(t, keys[0], k3, time.Time{}, time.Time{})
	checkKey(t, keys[1], k2, k3.CreatedAt, base.Add(4*day))
	checkKey(t, keys[2], k1, k2.CreatedAt, base.Add(2*day)) // retired once, unchanged since
}

// testKeysAddWithActivation: a key that starts signing after its creation
// retires its predecessor at its activation, not at its creation; the
// next key retires it at that one's own.
func testKeysAddWithActivation(t *testing.T, s store.Store) {
	k1 := signingKey("k1", base)
	k2 := signingKey("k2", base.Add(day))
	k2.ActivatesAt = base.Add(day + time.Hour)
	k3 := signingKey("k3", base.Add(day+time.Minute)) // rotated again before k2 signs
	k3.ActivatesAt = base.Add(day + 2*time.Hour)
	addKey(t, s, k1, time.Time{})
	addKey(t, s, k2, base.Add(2*day))
	keys := listKeys(t, s)
	if len(keys) != 2 {
		t.Fatalf("keys = %+v, want two", keys)
	}
	checkKey(t, keys[0], k2, time.Time{}, time.Time{})
	checkKey(t, keys[1], k1, k2.ActivatesAt, base.Add(2*day))
	addKey(t, s, k3, base.Add(3*day))
	keys = listKeys(t, s)
	if len(keys) != 3 {
		t.Fatalf("keys = %+v, want three", keys)
	}
	checkKey(t, keys[0], k3, time.Time{}, time.Time{})
	checkKey(t, keys[1], k2, k3.ActivatesAt, base.Add(3*day))
	checkKey(t, keys[2], k1, k2.ActivatesAt, base.Add(2*day))
	if got := keys[2].SignsFrom(); !got.Equal(k1.CreatedAt) {
		t.Errorf("k1 SignsFrom = %v, want its CreatedAt", got)
	}
	if got := keys[0].SignsFrom(); !got.Equal(k3.ActivatesAt) {
		t.Errorf("k3 SignsFrom = %v, want its ActivatesAt", got)
	}
}

func testKeysDuplicate(t *testing.T, s store.Store) {
	k1 := signingKey("k1", base)
	addKey(t, s, k1, time.Time{})
	dup := signingKey("k1", base.Add(day))
	wantErr(t, "AddSigningKey duplicate kid", s.AddSigningKey(t.Context(), dup, base.Add(2*day)), store.ErrConflict)
	keys := listKeys(t, s)
	if len(keys) != 1 {
		t.Fatalf("keys = %+v, want one", keys)
	}
	checkKey(t, keys[0], k1, time.Time{}, time.Time{}) // still active
}

func testKeysDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	addKey(t, s, signingKey("k1", base), time.Time{})
	addKey(t, s, signingKey("k2", base.Add(day)), base.Add(2*day))   // k1 published until 2d
	addKey(t, s, signingKey("k3", base.Add(3*day)), base.Add(5*day)) // k2 published until 5d

	kids := func() []string {
		var out []string
		for _, k := range listKeys(t, s) {
			out = append(out, k.KID)
		}
		return out
	}
	steps := []struct {
		before time.Time
		want   string
	}{
		{base.Add(day), "[k3 k2 k1]"},
		{base.Add(2 * day), "[k3 k2 k1]"}, // not before: kept
		{base.Add(2*day + time.Microsecond), "[k3 k2]"},
		{base.Add(100 * day), "[k3]"}, // the active key always stays
	}
	for _, st := range steps {
		if err := s.DeleteSigningKeysRetiredBefore(ctx, st.before); err != nil {
			t.Fatalf("DeleteSigningKeysRetiredBefore(%v): %v", st.before, err)
		}
		if got := kids(); fmt.Sprint(got) != st.want {
			t.Errorf("after DeleteSigningKeysRetiredBefore(%v) keys = %v, want %s", st.before, got, st.want)
		}
	}
}

func testKeysAddFirst(t *testing.T, s store.Store) {
	ctx := t.Context()
	k1 := signingKey("k1", base)
	if added, err := s.AddFirstSigningKey(ctx, k1); err != nil || !added {
		t.Fatalf("AddFirstSigningKey on an empty store = %v, %v; want true", added, err)
	}
	if added, err := s.AddFirstSigningKey(ctx, signingKey("k2", base.Add(day))); err != nil || added {
		t.Fatalf("AddFirstSigningKey with an active key = %v, %v; want false", added, err)
	}
	keys := listKeys(t, s)
	if len(keys) != 1 {
		t.Fatalf("keys = %+v, want only k1", keys)
	}
	checkKey(t, keys[0], k1, time.Time{}, time.Time{})

	// Retired keys alone do not count: with k1 retired and then deleted
	// there is no active key, and a first key may be added again.
	addKey(t, s, signingKey("k3", base.Add(2*day)), base.Add(3*day))
	if added, err := s.AddFirstSigningKey(ctx, signingKey("k4", base.Add(4*day))); err != nil || added {
		t.Fatalf("AddFirstSigningKey with k3 active = %v, %v; want false", added, err)
	}
}

// testKeysAddFirstConcurrent is processes starting together on a fresh
// database: each offers a first key, exactly one is stored.
func testKeysAddFirstConcurrent(t *testing.T, s store.Store) {
	const n = 8
	var wg sync.WaitGroup
	added := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			added[i], errs[i] = s.AddFirstSigningKey(t.Context(), signingKey(fmt.Sprintf("first-%d", i), base))
		}()
	}
	close(start)
	wg.Wait()
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("AddFirstSigningKey %d: %v", i, errs[i])
		}
		if added[i] {
			winners++
		}
	}
	keys := listKeys(t, s)
	if winners != 1 || len(keys) != 1 || !keys[0].RetiredAt.IsZero() {
		t.Fatalf("%d winners, keys %+v; want exactly one active key", winners, keys)
	}
}
