package token

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// openDelayed builds a key set on e's store, sealer and clock with an
// activation delay, as a process configured with one would.
func (e *env) openDelayed(t testing.TB, delay time.Duration) *KeySet {
	t.Helper()
	ks, err := NewKeySet(context.Background(), e.store, e.sealer, KeySetOptions{
		Issuer: testIssuer, AccessTTL: testTTL, Now: e.clock.Now, ActivationDelay: delay,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	})
	if err != nil {
		t.Fatalf("NewKeySet(delay %s): %v", delay, err)
	}
	return ks
}

func signedBy(t *testing.T, ks *KeySet, now time.Time) string {
	t.Helper()
	return headerKID(t, mustSign(t, ks, claimsAt(now)))
}

// TestRotate_ActivationDelayPublishesBeforeSigning: with a delay, a rotated
// key is in the JWKS at once but signs only from its activation; the
// previous key signs until then and stays published for a token lifetime
// (plus the margin) after it.
func TestRotate_ActivationDelayPublishesBeforeSigning(t *testing.T) {
	const delay = 30 * time.Second
	e := &env{store: &memStore{}, sealer: testSealer(t, testMasterKey(t)), clock: newClock(), logs: &syncBuffer{}}
	ks := e.openDelayed(t, delay)
	ctx := context.Background()
	kid1 := ks.ActiveKID()
	if at, _ := ks.SignsFrom(kid1); !at.Equal(e.clock.Now()) {
		t.Fatalf("the first key of an empty store signs from %v, want at once (%v)", at, e.clock.Now())
	}
	rotatedAt := e.clock.Now()
	kid2, err := ks.Rotate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	activation := rotatedAt.Add(delay)
	if at, ok := ks.SignsFrom(kid2); !ok || !at.Equal(activation) {
		t.Fatalf("SignsFrom(new key) = %v %t, want %v", at, ok, activation)
	}
	if kids := jwksKIDs(t, ks.JWKS()); !slices.Contains(kids, kid2) || !slices.Contains(kids, kid1) {
		t.Fatalf("JWKS right after the rotation = %v, want both keys", kids)
	}
	if got := signedBy(t, ks, e.clock.Now()); got != kid1 || ks.ActiveKID() != kid1 {
		t.Fatalf("right after the rotation tokens are signed by %s (active %s), want the previous key %s", got, ks.ActiveKID(), kid1)
	}

	// Stored: the new key with its activation, the previous one retired then.
	stored, _ := e.store.ListSigningKeys(ctx)
	if len(stored) != 2 || stored[0].KID != kid2 || !stored[0].ActivatesAt.Equal(activation) ||
		stored[1].KID != kid1 || !stored[1].RetiredAt.Equal(activation) ||
		!stored[1].PublishUntil.Equal(activation.Add(testTTL+publishMargin)) {
		t.Fatalf("stored keys = %+v", stored)
	}

	e.clock.Add(delay - time.Microsecond)
	if got := signedBy(t, ks, e.clock.Now()); got != kid1 {
		t.Fatalf("just before the activation: signed by %s, want %s", got, kid1)
	}
	old := mustSign(t, ks, claimsAt(e.clock.Now())) // the previous key's last token
	e.clock.Add(time.Microsecond)
	if got := signedBy(t, ks, e.clock.Now()); got != kid2 || ks.ActiveKID() != kid2 {
		t.Fatalf("at the activation: signed by %s (active %s), want %s", got, ks.ActiveKID(), kid2)
	}
	if got := jwksKIDs(t, ks.JWKS()); !slices.Equal(got, []string{kid2, kid1}) {
		t.Fatalf("JWKS after the activation = %v, want [%s %s]", got, kid2, kid1)
	}
	// The last token of the previous key verifies until it expires.
	e.clock.Add(testTTL - 2*time.Second) // exp is in whole seconds
	if !e.clock.Now().Before(activation.Add(testTTL + publishMargin)) {
		t.Fatal("test clock past the previous key's publication")
	}
	if _, err := ks.Verify(ctx, old, e.clock.Now()); err != nil {
		t.Fatalf("token of the previous key before its exp: %v", err)
	}
	if !strings.Contains(e.logs.String(), "signing key activated") {
		t.Errorf("activation not logged: %s", e.logs.String())
	}
}

// TestRotate_ActivationDelayAcrossProcesses: another process on the same
// store, started before or during the delay, publishes the new key once it
// has loaded it (at start or at a reload) and switches at the activation
// by itself, without reading the store again.
func TestRotate_ActivationDelayAcrossProcesses(t *testing.T) {
	const delay = time.Minute
	e := &env{store: &memStore{}, sealer: testSealer(t, testMasterKey(t)), clock: newClock(), logs: &syncBuffer{}}
	a := e.openDelayed(t, delay)
	before := e.openDelayed(t, delay) // running when a rotates
	ctx := context.Background()
	kid1 := a.ActiveKID()
	kid2, err := a.Rotate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	during := e.openDelayed(t, delay) // started during the delay
	if err := before.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for name, ks := range map[string]*KeySet{"before": before, "during": during} {
		if !slices.Contains(jwksKIDs(t, ks.JWKS()), kid2) {
			t.Errorf("%s: JWKS %v lacks the new key", name, jwksKIDs(t, ks.JWKS()))
		}
		if got := signedBy(t, ks, e.clock.Now()); got != kid1 {
			t.Errorf("%s: signed by %s during the delay, want %s", name, got, kid1)
		}
	}
	lists := e.store.listCalls()
	e.clock.Add(delay)
	for name, ks := range map[string]*KeySet{"a": a, "before": before, "during": during} {
		if got := signedBy(t, ks, e.clock.Now()); got != kid2 {
			t.Errorf("%s: signed by %s after the activation, want %s", name, got, kid2)
		}
	}
	if got := e.store.listCalls(); got != lists {
		t.Errorf("the activation read the store %d times", got-lists)
	}
	// A process started after the activation signs with the new key.
	if got := signedBy(t, e.openDelayed(t, delay), e.clock.Now()); got != kid2 {
		t.Errorf("started after the activation: signed by %s, want %s", got, kid2)
	}
	// Tokens of each process verify in every other.
	tok := mustSign(t, during, claimsAt(e.clock.Now()))
	if _, err := a.Verify(ctx, tok, e.clock.Now()); err != nil {
		t.Errorf("a verifying during's token: %v", err)
	}
}

// TestRotate_TwiceWithinTheDelay: a second rotation before the first key
// activates leaves each key its own window: the first rotated key signs
// from its activation until the second's.
func TestRotate_TwiceWithinTheDelay(t *testing.T) {
	const delay = 30 * time.Second
	e := &env{store: &memStore{}, sealer: testSealer(t, testMasterKey(t)), clock: newClock(), logs: &syncBuffer{}}
	ks := e.openDelayed(t, delay)
	ctx := context.Background()
	kid1 := ks.ActiveKID()
	kid2, err := ks.Rotate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(10 * time.Second)
	kid3, err := ks.Rotate(ctx, AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	other := e.openDelayed(t, delay)
	steps := []struct {
		after time.Duration
		want  string
	}{
		{0, kid1},
		{20*time.Second - time.Microsecond, kid1},
		{time.Microsecond, kid2}, // 30 s after the first rotation
		{10*time.Second - time.Microsecond, kid2},
		{time.Microsecond, kid3}, // 30 s after the second
	}
	for _, st := range steps {
		e.clock.Add(st.after)
		for name, k := range map[string]*KeySet{"rotating": ks, "other": other} {
			if got := signedBy(t, k, e.clock.Now()); got != st.want {
				t.Errorf("%s at %v: signed by %s, want %s", name, e.clock.Now(), got, st.want)
			}
		}
	}
	if kids := jwksKIDs(t, ks.JWKS()); !slices.Equal(kids, []string{kid3, kid2, kid1}) {
		t.Errorf("JWKS = %v", kids)
	}
}

func TestNewKeySet_RefusesNegativeActivationDelay(t *testing.T) {
	_, err := NewKeySet(context.Background(), &memStore{}, testSealer(t, testMasterKey(t)),
		KeySetOptions{Issuer: testIssuer, ActivationDelay: -time.Second})
	if err == nil {
		t.Fatal("negative activation delay accepted")
	}
}
