package token

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func jwksKIDs(t *testing.T, jwks []byte) []string {
	t.Helper()
	var set struct{ Keys []rawJWK }
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func headerKID(t *testing.T, tok string) string {
	t.Helper()
	var h map[string]any
	decodeJSON(t, strings.Split(tok, ".")[0], &h)
	kid, _ := h["kid"].(string)
	return kid
}

func TestNewKeySet_GeneratesAndStoresEncryptedKey(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			stored, _ := e.store.ListSigningKeys(context.Background())
			if len(stored) != 1 {
				t.Fatalf("%d keys stored, want 1", len(stored))
			}
			sk := stored[0]
			if sk.KID != e.ks.ActiveKID() || sk.Alg != alg || !sk.RetiredAt.IsZero() || !sk.CreatedAt.Equal(e.clock.Now()) {
				t.Fatalf("stored key = %+v", sk)
			}
			// Public part: JWK JSON with kid, alg and use, no private member.
			var jwk rawJWK
			if err := json.Unmarshal(sk.PublicJWK, &jwk); err != nil {
				t.Fatal(err)
			}
			if jwk.Kid != sk.KID || jwk.Alg != alg || jwk.Use != "sig" || jwk.D != "" {
				t.Fatalf("public JWK = %s", sk.PublicJWK)
			}
			if thumbprint(t, &jwk) != sk.KID {
				t.Fatal("kid is not the RFC 7638 thumbprint")
			}
			// Private part: PKCS#8 DER sealed with aad = kid.
			if _, err := x509.ParsePKCS8PrivateKey(sk.PrivateEnc); err == nil {
				t.Fatal("private key stored in clear")
			}
			if _, err := e.sealer.Open(sk.PrivateEnc, []byte("other")); err == nil {
				t.Fatal("private key opens with another aad")
			}
			der, err := e.sealer.Open(sk.PrivateEnc, []byte(sk.KID))
			if err != nil {
				t.Fatalf("open private key: %v", err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatalf("private key is not PKCS#8: %v", err)
			}
			type equaler interface{ Equal(crypto.PrivateKey) bool }
			if !priv.(equaler).Equal(e.ks.snap.Load().active.private) {
				t.Fatal("stored private key differs from the signing key")
			}
		})
	}
}

func TestNewKeySet_LoadsExistingKey(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	tok := mustSign(t, e.ks, claimsAt(now))

	// A restart (or another process) with a different configured alg keeps
	// the active key: alg only applies to newly generated keys.
	ks2 := e.open(t, AlgRS256)
	if ks2.ActiveKID() != e.ks.ActiveKID() {
		t.Fatalf("second key set has active %s, want %s", ks2.ActiveKID(), e.ks.ActiveKID())
	}
	if n := len(e.store.kids()); n != 1 {
		t.Fatalf("%d keys stored, want 1", n)
	}
	if _, err := ks2.Verify(context.Background(), tok, now); err != nil {
		t.Fatalf("token of the first key set: %v", err)
	}
	if _, err := e.ks.Verify(context.Background(), mustSign(t, ks2, claimsAt(now)), now); err != nil {
		t.Fatalf("token of the second key set: %v", err)
	}
	if !bytes.Equal(ks2.JWKS(), e.ks.JWKS()) {
		t.Fatalf("JWKS differ:\n%s\n%s", ks2.JWKS(), e.ks.JWKS())
	}
}

func TestNewKeySet_RefusesUndecryptableKey(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	ctx := context.Background()
	opts := KeySetOptions{Issuer: testIssuer, Now: e.clock.Now, Logger: quiet}

	if _, err := NewKeySet(ctx, e.store, testSealer(t, testMasterKey(t)), opts); err == nil || !errors.Is(err, ErrOpen) {
		t.Fatalf("wrong master key: err = %v, want ErrOpen", err)
	}
	other, _ := NewSealer(testMasterKey(t), "totp")
	if _, err := NewKeySet(ctx, e.store, other, opts); err == nil {
		t.Fatal("wrong purpose: no error")
	}

	// A sealed key moved to another kid fails: the kid is the aad.
	kid1 := e.ks.ActiveKID()
	if _, err := e.ks.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	stored, _ := e.store.ListSigningKeys(ctx)
	e.store.update(e.ks.ActiveKID(), func(k *store.SigningKey) { k.PrivateEnc = stored[1].PrivateEnc })
	if stored[1].KID != kid1 {
		t.Fatalf("unexpected order %v", e.store.kids())
	}
	if _, err := NewKeySet(ctx, e.store, e.sealer, opts); !errors.Is(err, ErrOpen) {
		t.Fatalf("swapped sealed keys: err = %v, want ErrOpen", err)
	}
	// A public JWK that does not match the private key is refused.
	e.store.update(e.ks.ActiveKID(), func(k *store.SigningKey) { k.PrivateEnc = stored[0].PrivateEnc; k.PublicJWK = stored[1].PublicJWK })
	if _, err := NewKeySet(ctx, e.store, e.sealer, opts); err == nil {
		t.Fatal("mismatched public JWK: no error")
	}
}

func TestNewKeySet_Options(t *testing.T) {
	ctx := context.Background()
	s := testSealer(t, testMasterKey(t))
	bad := map[string]struct {
		ks     KeyStore
		sealer *Sealer
		opts   KeySetOptions
	}{
		"no issuer":    {&memStore{}, s, KeySetOptions{Logger: quiet}},
		"bad alg":      {&memStore{}, s, KeySetOptions{Issuer: testIssuer, Alg: "HS256"}},
		"negative TTL": {&memStore{}, s, KeySetOptions{Issuer: testIssuer, AccessTTL: -time.Second}},
		"no sealer":    {&memStore{}, nil, KeySetOptions{Issuer: testIssuer}},
		"no store":     {nil, s, KeySetOptions{Issuer: testIssuer}},
	}
	for name, c := range bad {
		if _, err := NewKeySet(ctx, c.ks, c.sealer, c.opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ks, err := NewKeySet(ctx, &memStore{}, s, KeySetOptions{Issuer: testIssuer, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if ks.alg != AlgEdDSA || ks.accessTTL != 15*time.Minute || !slices.Equal(ks.Algs(), []string{AlgEdDSA}) {
		t.Fatalf("defaults: alg %s, TTL %s, algs %v", ks.alg, ks.accessTTL, ks.Algs())
	}
}

func TestRotate_OldTokensVerifyUntilPublishUntil(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	ctx := context.Background()
	t0 := e.clock.Now()
	kid1 := e.ks.ActiveKID()
	old := mustSign(t, e.ks, claimsAt(t0))
	jwks1 := e.ks.JWKS()

	e.clock.Add(time.Minute)
	tRot := e.clock.Now()
	kid2, err := e.ks.Rotate(ctx, "")
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if kid2 == kid1 || e.ks.ActiveKID() != kid2 {
		t.Fatalf("Rotate = %s, active %s, old %s", kid2, e.ks.ActiveKID(), kid1)
	}
	fresh := mustSign(t, e.ks, claimsAt(tRot))
	if headerKID(t, fresh) != kid2 || headerKID(t, old) != kid1 {
		t.Fatal("tokens do not carry the kid of the key that signed them")
	}
	if got := jwksKIDs(t, e.ks.JWKS()); !slices.Equal(got, []string{kid2, kid1}) {
		t.Fatalf("JWKS kids = %v, want [%s %s]", got, kid2, kid1)
	}
	if bytes.Equal(jwks1, e.ks.JWKS()) {
		t.Fatal("JWKS not rebuilt after rotation")
	}
	independentVerify(t, e.ks.JWKS(), old)
	independentVerify(t, e.ks.JWKS(), fresh)

	// The store retired the old key until rotation + AccessTTL + 1 minute.
	publishUntil := tRot.Add(testTTL + time.Minute)
	stored, _ := e.store.ListSigningKeys(ctx)
	if stored[1].KID != kid1 || !stored[1].RetiredAt.Equal(tRot) || !stored[1].PublishUntil.Equal(publishUntil) {
		t.Fatalf("retired key = %+v, want retired at %s until %s", stored[1], tRot, publishUntil)
	}

	for _, now := range []time.Time{tRot, t0.Add(testTTL - time.Second)} {
		if _, err := e.ks.Verify(ctx, old, now); err != nil {
			t.Fatalf("old token at %s: %v", now, err)
		}
	}
	// Reloading before PublishUntil keeps the old key published.
	e.clock.Add(testTTL + time.Minute - time.Second)
	if err := e.ks.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, e.ks.JWKS()); !slices.Equal(got, []string{kid2, kid1}) {
		t.Fatalf("JWKS kids before PublishUntil = %v", got)
	}
	if _, err := e.ks.Verify(ctx, old, t0); err != nil {
		t.Fatalf("old token before PublishUntil: %v", err)
	}

	// Past PublishUntil, a reload drops the old key from memory and store.
	e.clock.Add(2 * time.Second)
	if err := e.ks.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, e.ks.JWKS()); !slices.Equal(got, []string{kid2}) {
		t.Fatalf("JWKS kids after PublishUntil = %v, want [%s]", got, kid2)
	}
	if got := e.store.kids(); !slices.Equal(got, []string{kid2}) {
		t.Fatalf("stored kids = %v, want [%s]", got, kid2)
	}
	wantInvalid(t, e.ks, old, t0, "unknown")
	if _, err := e.ks.Verify(ctx, fresh, tRot); err != nil {
		t.Fatalf("new token: %v", err)
	}
}

func TestRotate_ToAnotherAlg(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	ctx := context.Background()
	now := e.clock.Now()
	old := mustSign(t, e.ks, claimsAt(now))
	if _, err := e.ks.Rotate(ctx, AlgES256); err != nil {
		t.Fatal(err)
	}
	if got := e.ks.Algs(); !slices.Equal(got, []string{AlgES256, AlgEdDSA}) {
		t.Fatalf("Algs = %v", got)
	}
	fresh := mustSign(t, e.ks, claimsAt(now))
	if h, _ := independentVerify(t, e.ks.JWKS(), fresh); h["alg"] != AlgES256 {
		t.Fatalf("new token alg = %v", h["alg"])
	}
	for _, tok := range []string{old, fresh} {
		if _, err := e.ks.Verify(ctx, tok, now); err != nil {
			t.Fatal(err)
		}
	}
	// Later rotations without an alg use the configured one again.
	if _, err := e.ks.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if e.ks.snap.Load().active.alg != AlgEdDSA {
		t.Fatal("Rotate(\"\") did not use the configured alg")
	}
	if _, err := e.ks.Rotate(ctx, "HS256"); err == nil {
		t.Fatal("Rotate(HS256): no error")
	}
}

// Two processes share a store: one rotates, the other picks the key up on
// Reload, or at once when it meets a token with the new kid.
func TestReload_PicksUpKeyFromAnotherProcess(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	ctx := context.Background()
	now := e.clock.Now()
	a, b := e.ks, e.open(t, AlgEdDSA)
	kid1 := a.ActiveKID()

	kid2, err := a.Rotate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if b.ActiveKID() != kid1 {
		t.Fatal("b changed without a reload")
	}
	// b meets a token with the unknown kid: it reloads and accepts it.
	if _, err := b.Verify(ctx, mustSign(t, a, claimsAt(now)), now); err != nil {
		t.Fatalf("b verifying a's new key: %v", err)
	}
	if b.ActiveKID() != kid2 {
		t.Fatalf("b active = %s, want %s", b.ActiveKID(), kid2)
	}
	if !slices.Equal(jwksKIDs(t, b.JWKS()), []string{kid2, kid1}) {
		t.Fatalf("b JWKS kids = %v", jwksKIDs(t, b.JWKS()))
	}

	// An explicit Reload picks up the next rotation.
	kid3, err := a.Rotate(ctx, AlgRS256)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if b.ActiveKID() != kid3 || !slices.Equal(jwksKIDs(t, b.JWKS()), []string{kid3, kid2, kid1}) {
		t.Fatalf("b after reload: active %s, JWKS %v", b.ActiveKID(), jwksKIDs(t, b.JWKS()))
	}
	if !bytes.Equal(a.JWKS(), b.JWKS()) {
		t.Fatalf("JWKS differ:\n%s\n%s", a.JWKS(), b.JWKS())
	}
	if _, err := a.Verify(ctx, mustSign(t, b, claimsAt(now)), now); err != nil {
		t.Fatalf("a verifying b's token: %v", err)
	}
}

// The JWKS document is rebuilt only when the published keys change.
func TestJWKS_CachedAcrossReloads(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	ctx := context.Background()
	first := e.ks.JWKS()
	if err := e.ks.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if &first[0] != &e.ks.JWKS()[0] {
		t.Fatal("JWKS rebuilt although no key changed")
	}
	// The active private key is parsed once, not on every reload.
	signer := e.ks.snap.Load().active.atSigner
	if err := e.ks.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if e.ks.snap.Load().active.atSigner != signer {
		t.Fatal("signer rebuilt although the key did not change")
	}
}

func TestWatch_ReloadsUntilCancelled(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	b := e.open(t, AlgEdDSA)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		b.Watch(ctx, 5*time.Millisecond)
		close(done)
	}()
	kid2, err := e.ks.Rotate(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.ActiveKID() != kid2 {
		if time.Now().After(deadline) {
			t.Fatal("Watch did not pick up the rotation")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
}

// Rotations are logged with the kid, never with key material.
func TestRotate_LogsKIDWithoutSecrets(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg)
			kid, err := e.ks.Rotate(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, "signing key activated") || !strings.Contains(logs, kid) {
				t.Fatalf("rotation not logged: %s", logs)
			}
			der, err := x509.MarshalPKCS8PrivateKey(e.ks.snap.Load().active.private)
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := e.store.ListSigningKeys(context.Background())
			for _, secret := range [][]byte{der, stored[0].PrivateEnc} {
				for _, enc := range []string{base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret), hex.EncodeToString(secret)} {
					if strings.Contains(logs, enc[:24]) {
						t.Fatal("logs contain private key material")
					}
				}
			}
		})
	}
}

// A retired key stops verifying at PublishUntil, even before a reload
// removes it, and a reload triggered by an unknown kid does not publish it
// again although the store still holds it.
func TestRotate_RetiredKeyEndsAtPublishUntilWithoutReload(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	ctx := context.Background()
	t0 := e.clock.Now()
	kid1 := e.ks.ActiveKID()
	c := claimsAt(t0)
	c.ExpiresAt = t0.Add(24 * time.Hour) // outlives its key on purpose
	long := mustSign(t, e.ks, c)

	kid2, err := e.ks.Rotate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	publishUntil := t0.Add(testTTL + time.Minute)
	if _, err := e.ks.Verify(ctx, long, publishUntil.Add(-time.Second)); err != nil {
		t.Fatalf("before PublishUntil: %v", err)
	}
	wantInvalid(t, e.ks, long, publishUntil, "no longer published")

	// Past PublishUntil, the next rotation leaves the old key out.
	e.clock.Add(testTTL + time.Minute)
	kid3, err := e.ks.Rotate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, e.ks.JWKS()); !slices.Equal(got, []string{kid3, kid2}) {
		t.Fatalf("JWKS kids after the second rotation = %v, want [%s %s]", got, kid3, kid2)
	}

	// A second process loads the keys on an unknown kid, without pruning.
	b := e.open(t, AlgEdDSA)
	if slices.Contains(jwksKIDs(t, b.JWKS()), kid1) {
		t.Fatal("expired key published by a fresh key set")
	}
	if !slices.Contains(e.store.kids(), kid1) {
		t.Fatal("test setup: the store should still hold the expired key")
	}
	e.clock.Add(time.Second) // the store deletes keys whose PublishUntil is strictly before now
	if err := e.ks.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(e.store.kids(), kid1) {
		t.Fatal("Reload did not delete the expired key")
	}
}
