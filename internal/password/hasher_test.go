package password

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// fast are cheap parameters so that tests run quickly; they still exercise
// real argon2id.
var fast = Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func TestHash_RoundTrip(t *testing.T) {
	ctx := context.Background()
	h := New(Params{}, 2, 0)
	for _, pw := range []string{"correct horse battery staple", "", "pässwörd ✓", strings.Repeat("x", MaxLength)} {
		encoded, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(%d bytes): %v", len(pw), err)
		}
		ok, rehash, err := h.Verify(ctx, encoded, pw)
		if err != nil || !ok || rehash {
			t.Errorf("Verify(own hash, right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
		}
		wrong := "!"
		if pw != "" {
			wrong = pw[:len(pw)-1] + "!"
		}
		ok, rehash, err = h.Verify(ctx, encoded, wrong)
		if err != nil || ok || rehash {
			t.Errorf("Verify(own hash, wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	}
}

func TestHash_FormatAndDefaults(t *testing.T) {
	h := New(Params{}, 1, 0)
	if h.Params() != DefaultParams() {
		t.Fatalf("zero Params gave %+v, want %+v", h.Params(), DefaultParams())
	}
	encoded, err := h.Hash(context.Background(), "secret-password")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)
	m := re.FindStringSubmatch(encoded)
	if m == nil {
		t.Fatalf("hash %q is not the expected PHC format", encoded)
	}
	// The encoded hash is the plain argon2id key of the password and salt.
	salt, _ := base64.RawStdEncoding.DecodeString(m[1])
	key, _ := base64.RawStdEncoding.DecodeString(m[2])
	want := argon2.IDKey([]byte("secret-password"), salt, 2, 19*1024, 1, 32)
	if string(key) != string(want) {
		t.Fatal("encoded hash differs from argon2.IDKey over the same inputs")
	}
	again, _ := h.Hash(context.Background(), "secret-password")
	if again == encoded {
		t.Fatal("two hashes of one password are identical: salt is not random")
	}
}

func TestHash_TooLong(t *testing.T) {
	h := New(fast, 1, 0)
	ctx := context.Background()
	long := strings.Repeat("a", MaxLength+1)
	if _, err := h.Hash(ctx, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash: %v, want ErrTooLong", err)
	}
	encoded, _ := h.Hash(ctx, "short")
	if _, _, err := h.Verify(ctx, encoded, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Verify: %v, want ErrTooLong", err)
	}
	if err := h.VerifyDummy(ctx, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("VerifyDummy: %v, want ErrTooLong", err)
	}
}

func TestVerify_BcryptImport(t *testing.T) {
	ctx := context.Background()
	h := New(fast, 1, 0)
	raw, err := bcrypt.GenerateFromPassword([]byte("legacy-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	base := string(raw)
	if !strings.HasPrefix(base, "$2a$") {
		t.Fatalf("unexpected bcrypt prefix in %q", base[:4])
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		encoded := prefix + base[4:]
		if !IsSupportedHash(encoded) {
			t.Errorf("IsSupportedHash(%s...) = false", prefix)
		}
		ok, rehash, err := h.Verify(ctx, encoded, "legacy-password")
		if err != nil || !ok || !rehash {
			t.Errorf("%s right password: %v, %v, %v; want true, true, nil", prefix, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, encoded, "legacy-passworD")
		if err != nil || ok || rehash {
			t.Errorf("%s wrong password: %v, %v, %v; want false, false, nil", prefix, ok, rehash, err)
		}
	}
}

func TestVerify_BcryptLooksAtFirst72Bytes(t *testing.T) {
	ctx := context.Background()
	h := New(fast, 1, 0)
	pw72 := strings.Repeat("0123456789abcdef", 5)[:72]
	raw, err := bcrypt.GenerateFromPassword([]byte(pw72), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := h.Verify(ctx, string(raw), pw72+"anything after byte 72")
	if err != nil || !ok {
		t.Fatalf("bcrypt with extra bytes after 72: %v, %v; want a match as the original system gave", ok, err)
	}
	ok, _, _ = h.Verify(ctx, string(raw), pw72[:71])
	if ok {
		t.Fatal("bcrypt matched a 71-byte prefix")
	}
}

func TestVerify_ParamsChangeNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := New(fast, 1, 0)
	encoded, err := old.Hash(ctx, "pw-1234567890")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same", fast, false},
		{"memory", Params{Memory: 2048, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, true},
		{"iterations", Params{Memory: 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}, true},
		{"parallelism", Params{Memory: 1024, Iterations: 1, Parallelism: 2, SaltLen: 16, KeyLen: 32}, true},
		{"salt length", Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 32, KeyLen: 32}, true},
		{"key length", Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 64}, true},
	}
	for _, tt := range tests {
		h := New(tt.p, 1, 0)
		ok, rehash, err := h.Verify(ctx, encoded, "pw-1234567890")
		if err != nil || !ok || rehash != tt.want {
			t.Errorf("%s: Verify = %v, %v, %v; want true, %v, nil", tt.name, ok, rehash, err, tt.want)
		}
		// A wrong password never asks for a rehash.
		if _, rehash, _ := h.Verify(ctx, encoded, "wrong"); rehash {
			t.Errorf("%s: wrong password reported needsRehash", tt.name)
		}
	}
}

func TestVerify_MalformedHashes(t *testing.T) {
	valid := New(fast, 1, 0)
	good, err := valid.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	salt, key := parts[4], parts[5]
	phc := func(alg, ver, costs, s, k string) string {
		return "$" + alg + "$" + ver + "$" + costs + "$" + s + "$" + k
	}
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	bcs := string(bc)

	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", "pw"},
		{"dollar only", "$"},
		{"prefix only", "$argon2id$"},
		{"argon2d", phc("argon2d", "v=19", "m=1024,t=1,p=1", salt, key)},
		{"old version", phc("argon2id", "v=16", "m=1024,t=1,p=1", salt, key)},
		{"no version", "$argon2id$m=1024,t=1,p=1$" + salt + "$" + key},
		{"extra field", good + "$x"},
		{"trailing dollar", good + "$"},
		{"missing key", phc("argon2id", "v=19", "m=1024,t=1,p=1", salt, "")},
		{"params out of order", phc("argon2id", "v=19", "t=1,m=1024,p=1", salt, key)},
		{"extra param", phc("argon2id", "v=19", "m=1024,t=1,p=1,keyid=x", salt, key)},
		{"missing param", phc("argon2id", "v=19", "m=1024,t=1", salt, key)},
		{"non-numeric memory", phc("argon2id", "v=19", "m=lots,t=1,p=1", salt, key)},
		{"negative memory", phc("argon2id", "v=19", "m=-1,t=1,p=1", salt, key)},
		{"zero memory", phc("argon2id", "v=19", "m=0,t=1,p=1", salt, key)},
		{"huge memory", phc("argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key)},
		{"memory overflows uint32", phc("argon2id", "v=19", "m=4294967296,t=1,p=1", salt, key)},
		{"zero iterations", phc("argon2id", "v=19", "m=1024,t=0,p=1", salt, key)},
		{"huge iterations", phc("argon2id", "v=19", "m=1024,t=1000000,p=1", salt, key)},
		{"zero parallelism", phc("argon2id", "v=19", "m=1024,t=1,p=0", salt, key)},
		{"parallelism overflows uint8", phc("argon2id", "v=19", "m=4096,t=1,p=256", salt, key)},
		{"memory below 8 per lane", phc("argon2id", "v=19", "m=8,t=1,p=4", salt, key)},
		{"salt not base64", phc("argon2id", "v=19", "m=1024,t=1,p=1", "!!!!", key)},
		{"salt padded", phc("argon2id", "v=19", "m=1024,t=1,p=1", salt+"==", key)},
		{"salt too short", phc("argon2id", "v=19", "m=1024,t=1,p=1", "c2FsdA", key)},
		{"key too short", phc("argon2id", "v=19", "m=1024,t=1,p=1", salt, "a2V5a2V5"[:6])},
		{"key url-safe alphabet", phc("argon2id", "v=19", "m=1024,t=1,p=1", salt, strings.Repeat("-", 43))},
		{"bcrypt truncated", bcs[:40]},
		{"bcrypt too long", bcs + "x"},
		{"bcrypt unknown variant", "$2x$" + bcs[4:]},
		{"bcrypt 2 without minor", "$2$" + bcs[4:]},
		{"bcrypt bad cost", "$2a$xx" + bcs[6:]},
		{"bcrypt cost 31", "$2a$31" + bcs[6:]},
		{"bcrypt cost 3", "$2a$03" + bcs[6:]},
		{"bcrypt bad char", bcs[:20] + "*" + bcs[21:]},
		{"bcrypt missing separator", bcs[:6] + "x" + bcs[7:]},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA"},
		{"sha512 crypt", "$6$salt$hash"},
	}
	h := New(fast, 1, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			ok, rehash, err := h.Verify(context.Background(), tt.hash, "pw")
			if !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify error = %v, want ErrMalformedHash", err)
			}
			if ok || rehash {
				t.Errorf("Verify = %v, %v on a malformed hash", ok, rehash)
			}
			if IsSupportedHash(tt.hash) {
				t.Error("IsSupportedHash = true")
			}
		})
	}
	if !IsSupportedHash(good) || !IsSupportedHash(bcs) {
		t.Error("IsSupportedHash rejects a valid hash")
	}
}

func TestVerifyDummy_DoesTheWorkAndNeverMatches(t *testing.T) {
	h := New(fast, 1, 0)
	var worked []Params
	h.beforeWork = func(p Params) { worked = append(worked, p) }
	for i := 0; i < 3; i++ {
		if err := h.VerifyDummy(context.Background(), "any password"); err != nil {
			t.Fatalf("VerifyDummy: %v", err)
		}
	}
	if len(worked) != 3 {
		t.Fatalf("VerifyDummy derived %d keys in 3 calls, want 3", len(worked))
	}
	for _, p := range worked {
		if p != h.Params() {
			t.Errorf("VerifyDummy worked with %+v, want the hasher's %+v", p, h.Params())
		}
	}
	// The dummy hash is made once and is a valid hash that matches nothing.
	if !IsSupportedHash(h.dummy) {
		t.Fatalf("dummy %q is not a supported hash", h.dummy)
	}
	first := h.dummy
	_ = h.VerifyDummy(context.Background(), "x")
	if h.dummy != first {
		t.Fatal("dummy hash was recomputed")
	}
	if ok, _, _ := h.Verify(context.Background(), h.dummy, "any password"); ok {
		t.Fatal("dummy hash matched a password")
	}
}
