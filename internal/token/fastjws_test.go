package token

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// TestSign_EdDSAFastPathMatchesGoJose: the direct Ed25519 path and the
// general JWS signer produce the same bytes for the same claims (so a
// leeway retry re-creates the same token whichever path signs).
func TestSign_EdDSAFastPathMatchesGoJose(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	c := claimsAt(e.clock.Now())
	fast := mustSign(t, e.ks, c)
	snap := e.ks.snap.Load()
	if h := snap.activeATHeader; h == "" || !strings.HasPrefix(fast, h+".") || snap.byATHeader[h] != snap.active {
		t.Fatalf("the direct path was not taken: header %q, token %.60s", h, fast)
	}

	payload, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	jws, err := e.ks.snap.Load().active.atSigner.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	general, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	if fast != general {
		t.Fatalf("fast path token differs from go-jose's:\n%s\n%s", fast, general)
	}
	independentVerify(t, e.ks.JWKS(), fast)
}

func TestVerify_FastPathRejectsTampering(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	tok := mustSign(t, e.ks, claimsAt(now))
	parts := strings.Split(tok, ".")
	other := strings.Split(mustSign(t, e.ks, claimsAt(now)), ".")
	enc := base64.RawURLEncoding
	sig, _ := enc.DecodeString(parts[2])
	sig[0] ^= 1
	for name, bad := range map[string]string{
		"payload of another token": parts[0] + "." + other[1] + "." + parts[2],
		"flipped signature bit":    parts[0] + "." + parts[1] + "." + enc.EncodeToString(sig),
		"short signature":          parts[0] + "." + parts[1] + "." + parts[2][:20],
		"signature not base64url":  parts[0] + "." + parts[1] + ".!!" + parts[2][2:],
		"padded signature":         parts[0] + "." + parts[1] + "." + parts[2] + "==",
		"payload not base64url":    parts[0] + ".*" + parts[1][1:] + "." + parts[2],
	} {
		t.Run(name, func(t *testing.T) {
			wantInvalid(t, e.ks, bad, now, "")
		})
	}
	// A token signed by a key that is not in the set, under a header that
	// looks like ours, is refused.
	stranger := newEnv(t, AlgEdDSA)
	forged := strings.Split(mustSign(t, stranger.ks, claimsAt(now)), ".")
	wantInvalid(t, e.ks, parts[0]+"."+forged[1]+"."+forged[2], now, "signature does not verify")
	if _, err := e.ks.Verify(context.Background(), tok, now); err != nil {
		t.Fatalf("the untampered token: %v", err)
	}
}

func TestVerify_CachedTokenStillExpiresAndIsCopied(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	ctx := context.Background()
	now := e.clock.Now()
	tok := mustSign(t, e.ks, claimsAt(now))
	first, err := e.ks.Verify(ctx, tok, now)
	if err != nil {
		t.Fatal(err)
	}
	first.Roles[0] = "changed by the caller"
	second, err := e.ks.Verify(ctx, tok, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if second.Roles[0] != "admin" {
		t.Fatalf("a caller's change reached the cache: roles %v", second.Roles)
	}
	if _, ok := e.ks.verified.get(sha256Of(tok), e.ks.snap.Load(), now); !ok {
		t.Fatal("a verified token was not cached")
	}
	wantInvalid(t, e.ks, tok, now.Add(testTTL), "expired")
	// Not yet valid: a cached token is not served before its nbf either.
	c := claimsAt(now)
	c.NotBefore = now.Add(time.Minute)
	early := mustSign(t, e.ks, c)
	if _, err := e.ks.Verify(ctx, early, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, e.ks, early, now, "not valid before")
}

func TestVerify_CacheStaysBounded(t *testing.T) {
	e := newEnv(t, AlgEdDSA)
	now := e.clock.Now()
	for i := range verifiedMax + 100 {
		var h [32]byte
		h[0], h[1], h[2] = byte(i), byte(i>>8), byte(i>>16)
		e.ks.verified.put(h, claimsAt(now), e.ks.ActiveKID(), now)
	}
	if n := len(e.ks.verified.m); n > verifiedMax {
		t.Fatalf("cache holds %d entries, bound %d", n, verifiedMax)
	}
}

func TestVerify_OtherAlgsTakeTheGeneralPath(t *testing.T) {
	for _, alg := range []string{AlgES256, AlgRS256} {
		e := newEnv(t, alg)
		if len(e.ks.snap.Load().byATHeader) != 0 || e.ks.snap.Load().activeATHeader != "" {
			t.Fatalf("%s: no direct path expected", alg)
		}
		now := e.clock.Now()
		tok := mustSign(t, e.ks, claimsAt(now))
		independentVerify(t, e.ks.JWKS(), tok)
		if _, err := e.ks.Verify(context.Background(), tok, now); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
	}
}

func sha256Of(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// BenchmarkVerifyCold verifies tokens never seen before (no cache hit):
// the cost of the first presentation of each token.
func BenchmarkVerifyCold(b *testing.B) {
	e := newEnv(b, AlgEdDSA)
	now := e.clock.Now()
	toks := make([]string, 4096)
	for i := range toks {
		toks[i] = mustSign(b, e.ks, claimsAt(now))
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(toks) {
			b.StopTimer()
			e.ks.verified = newVerifiedCache()
			i = 0
			b.StartTimer()
		}
		if _, err := e.ks.Verify(ctx, toks[i], now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
