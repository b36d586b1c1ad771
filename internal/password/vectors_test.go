package password

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// referenceVectors are hashes published by each algorithm's own reference
// or by the library whose format Gatehouse imports, never made by this
// package.
var referenceVectors = []struct {
	source, password, encoded string
	kind                      Kind
}{
	// The Argon2 reference implementation's test suite
	// (github.com/P-H-C/phc-winner-argon2, src/test.c, version 0x13). The
	// RFC 9106 §5 vectors use a secret and associated data, which the
	// encoded form cannot carry; golang.org/x/crypto/argon2 checks them.
	{"argon2 reference test.c", "password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", KindArgon2id},
	{"argon2 reference test.c", "password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", KindArgon2id},
	{"argon2 reference test.c", "differentpassword", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94", KindArgon2id},
	{"argon2 reference test.c", "password", "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E", KindArgon2i},
	{"argon2 reference test.c", "password", "$argon2i$v=19$m=65536,t=2,p=1$ZGlmZnNhbHQ$sDV8zPvvkfOGCw26RHsjSMvv7K2vmQq/6cxAcmxSEnE", KindArgon2i},
	// OpenBSD's bcrypt vectors as shipped with jBCrypt (TestBCrypt.java).
	{"jBCrypt TestBCrypt", "", "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.", KindBcrypt},
	{"jBCrypt TestBCrypt", "a", "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe", KindBcrypt},
	{"jBCrypt TestBCrypt", "abcdefghijklmnopqrstuvwxyz", "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC", KindBcrypt},
	// RFC 7914 §12 test vectors 1 and 3, written in passlib's form (the
	// RFC's 64-byte outputs as checksums, salts "" and "SodiumChloride").
	{"RFC 7914 §12 vector 1", "", "$scrypt$ln=4,r=1,p=1$$d9ZXYjhleyA7GcpCwYoEl/FrSETjB0ro39/6P+3iFEL80Aad7QlI+DJqdToPyB8X6NPg+y4NNijPNeIMONGJBg", KindScrypt},
	{"RFC 7914 §12 vector 2", "password", "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA", KindScrypt},
	{"RFC 7914 §12 vector 3", "pleaseletmein", "$scrypt$ln=14,r=8,p=1$U29kaXVtQ2hsb3JpZGU$cCO9yzr9c0hGHAbNgf046/2o+7qQT44+qbVD9lRdofLVQylVYT8Pz2LUlwUkKpr55h6F3A1lHkDfzwF7RVdYhw", KindScrypt},
	// passlib's documentation of passlib.hash.scrypt.
	{"passlib scrypt docs", "password", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", KindScrypt},
	{"passlib scrypt docs", "password", "$scrypt$ln=8,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ", KindScrypt},
	// RFC 7914 §11, the PBKDF2-HMAC-SHA256 test vectors (64-byte outputs),
	// written in passlib's form (salts "salt" and "NaCl").
	{"RFC 7914 §11 vector 1", "passwd", "$pbkdf2-sha256$1$c2FsdA$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLxJypzM8Xm2RZkWZLOdd.8xfHG4RbHjC9UJESBB06GXgw", KindPBKDF2SHA256},
	{"RFC 7914 §11 vector 2", "Password", "$pbkdf2-sha256$80000$TmFDbA$TdzY9guYviGDDO5e8icB.WQaRBjQTAQUrv8Ih2s0q1ah1CWhIlgzVJrbhBtRybMXaicr3ruh0HhHj2Kzl/M8jQ", KindPBKDF2SHA256},
	// passlib's documentation of pbkdf2_sha256 and its own test suite
	// (passlib/tests/test_handlers.py, known_correct_hashes).
	{"passlib pbkdf2 docs", "password", "$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", KindPBKDF2SHA256},
	{"passlib docs", "toomanysecrets", "$pbkdf2-sha256$29000$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk", KindPBKDF2SHA256},
	{"passlib test_handlers", "password", "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ", KindPBKDF2SHA256},
	{"passlib test_handlers", "Ιωαννης", "$pbkdf2-sha256$1212$3SABFJGDtyhrQMVt1uABPw$WyaUoqCLgvz97s523nF4iuOqZNbp5Nt8do/cuaa7AiI", KindPBKDF2SHA256},
	{"passlib test_handlers", "password", "$pbkdf2-sha512$1212$RHY0Fr3IDMSVO/RSZyb5ow$eNLfBK.eVozomMr.1gYa17k9B7KIK25NOEshvhrSX.esqY3s.FvWZViXz4KoLlQI.BzY/YTNJOiKc5gBYFYGww", KindPBKDF2SHA512},
	{"passlib test_handlers", "Ιωαννης", "$pbkdf2-sha512$1212$KkbvoKGsAIcF8IslDR6skQ$8be/PRmd88Ps8fmPowCJttH9G3vgxpG.Krjt3KT.NP6cKJ0V4Prarqf.HBwz0dCkJ6xgWnSj2ynXSV7MlvMa8Q", KindPBKDF2SHA512},
	// Firebase's scrypt README (github.com/firebase/scrypt), encoded below.
	{"firebase/scrypt README", "user1password", firebaseREADME(), KindFirebaseScrypt},
}

// firebaseREADME is the example of Firebase's scrypt README: the project's
// parameters and one exported user.
func firebaseREADME() string {
	s, err := EncodeFirebaseScrypt(FirebaseScrypt{
		SignerKey:     "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
		SaltSeparator: "Bw==",
		Rounds:        8,
		MemCost:       14,
		Salt:          "42xEC+ixf3L2lw==",
		Hash:          "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
	})
	if err != nil {
		panic(err)
	}
	return s
}

func TestVerify_ReferenceVectors(t *testing.T) {
	h := New(fast, 2, 0)
	ctx := context.Background()
	for _, v := range referenceVectors {
		t.Run(v.source+"/"+string(v.kind), func(t *testing.T) {
			if got := KindOf(v.encoded); got != v.kind {
				t.Fatalf("KindOf = %q, want %q (Check: %v)", got, v.kind, Check(v.encoded))
			}
			ok, rehash, err := h.Verify(ctx, v.encoded, v.password)
			if err != nil || !ok || !rehash {
				t.Fatalf("Verify(right password) = %v, %v, %v; want true, true, nil", ok, rehash, err)
			}
			ok, rehash, err = h.Verify(ctx, v.encoded, v.password+"x")
			if err != nil || ok || rehash {
				t.Fatalf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
			if !h.NeedsRehash(v.encoded) {
				t.Fatal("NeedsRehash = false for an imported hash")
			}
		})
	}
}

func TestVerify_FirebaseAcceptsURLSafeUnpaddedExport(t *testing.T) {
	std := firebaseREADME()
	url, err := EncodeFirebaseScrypt(FirebaseScrypt{
		SignerKey:     "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA",
		SaltSeparator: "Bw",
		Rounds:        8,
		MemCost:       14,
		Salt:          "42xEC-ixf3L2lw",
		Hash:          "lSrfV15cpx95_sZS2W9c9Kp6i_LVgQNDNC_qzrCnh1SAyZvqmZqAjTdn3aoItz-VHjoZilo78198JAdRuid5lQ",
	})
	if err != nil || url != std {
		t.Fatalf("URL-safe encoding gave %q, %v; want %q", url, err, std)
	}
	if !strings.HasPrefix(std, "$firebase-scrypt$r=8,m=14$Bw$") {
		t.Fatalf("encoded form %q", std)
	}
}

func TestCheck_Bounds(t *testing.T) {
	salt16 := "c29tZXNhbHRzb21lc2FsdA" // 16 bytes
	sum32 := "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	sumAB := "1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk"
	sum64 := "eNLfBK.eVozomMr.1gYa17k9B7KIK25NOEshvhrSX.esqY3s.FvWZViXz4KoLlQI.BzY/YTNJOiKc5gBYFYGww"
	fb := func(r, m int) FirebaseScrypt {
		return FirebaseScrypt{SignerKey: "AAAAAAAAAAAAAAAAAAAAAA==", SaltSeparator: "Bw==", Salt: "c2FsdA==",
			Hash: "AAAAAAAAAAAAAAAAAAAAAA==", Rounds: r, MemCost: m}
	}
	tests := []struct {
		name    string
		encoded string
		ok      bool
	}{
		{"argon2id at the bounds", "$argon2id$v=19$m=65536,t=10,p=4$" + salt16 + "$" + sum32, true},
		{"argon2id 1 GiB", "$argon2id$v=19$m=1048576,t=2,p=1$" + salt16 + "$" + sum32, false},
		{"argon2id 64 MiB + 1 KiB", "$argon2id$v=19$m=65537,t=2,p=1$" + salt16 + "$" + sum32, false},
		{"argon2id t=11", "$argon2id$v=19$m=65536,t=11,p=1$" + salt16 + "$" + sum32, false},
		{"argon2id t=64", "$argon2id$v=19$m=1024,t=64,p=1$" + salt16 + "$" + sum32, false},
		{"argon2id p=5", "$argon2id$v=19$m=65536,t=2,p=5$" + salt16 + "$" + sum32, false},
		{"argon2i p=5", "$argon2i$v=19$m=65536,t=2,p=5$" + salt16 + "$" + sum32, false},
		{"bcrypt cost 4", "$2a$04$" + strings.Repeat("a", 53), true},
		{"bcrypt cost 14", "$2b$14$" + strings.Repeat("a", 53), true},
		{"bcrypt cost 15", "$2b$15$" + strings.Repeat("a", 53), false},
		{"bcrypt cost 03", "$2y$03$" + strings.Repeat("a", 53), false},
		{"scrypt 64 MiB", "$scrypt$ln=16,r=8,p=1$" + salt16 + "$" + sum32, true},
		{"scrypt 128 MiB", "$scrypt$ln=17,r=8,p=1$" + salt16 + "$" + sum32, false},
		{"scrypt 64 MiB p=4", "$scrypt$ln=16,r=8,p=4$" + salt16 + "$" + sum32, true},
		{"scrypt 64 MiB p=5", "$scrypt$ln=16,r=8,p=5$" + salt16 + "$" + sum32, false},
		{"scrypt ln=0", "$scrypt$ln=0,r=8,p=1$" + salt16 + "$" + sum32, false},
		{"scrypt ln=21", "$scrypt$ln=21,r=1,p=1$" + salt16 + "$" + sum32, false},
		{"scrypt r huge", "$scrypt$ln=1,r=4294967295,p=1$" + salt16 + "$" + sum32, false},
		{"scrypt p huge", "$scrypt$ln=1,r=1,p=4294967295$" + salt16 + "$" + sum32, false},
		{"scrypt short checksum", "$scrypt$ln=4,r=1,p=1$" + salt16 + "$c2FsdA", false},
		{"pbkdf2-sha256 2,000,000 rounds", "$pbkdf2-sha256$2000000$" + salt16 + "$" + sumAB, true},
		{"pbkdf2-sha256 2,000,001 rounds", "$pbkdf2-sha256$2000001$" + salt16 + "$" + sumAB, false},
		{"pbkdf2-sha512 10^9 rounds", "$pbkdf2-sha512$1000000000$" + salt16 + "$" + sum64, false},
		{"pbkdf2 0 rounds", "$pbkdf2-sha256$0$" + salt16 + "$" + sumAB, false},
		{"pbkdf2 leading zero", "$pbkdf2-sha256$01212$" + salt16 + "$" + sumAB, false},
		{"pbkdf2 standard base64 plus", "$pbkdf2-sha256$1212$" + salt16 + "$" + strings.ReplaceAll(sumAB, ".", "+"), false},
		{"pbkdf2 missing field", "$pbkdf2-sha256$1212$" + salt16, false},
		{"pbkdf2-sha1 not supported", "$pbkdf2$1212$" + salt16 + "$" + sumAB, false},
	}
	for _, tt := range tests {
		err := Check(tt.encoded)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Check = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: error %v does not wrap ErrMalformedHash", tt.name, err)
		}
		if err != nil && strings.Contains(err.Error(), tt.encoded) {
			t.Errorf("%s: error quotes the hash", tt.name)
		}
	}
	for _, f := range []struct {
		r, m int
		ok   bool
	}{{8, 14, true}, {1, 1, true}, {9, 14, false}, {8, 15, false}, {0, 14, false}, {8, 0, false}} {
		_, err := EncodeFirebaseScrypt(fb(f.r, f.m))
		if (err == nil) != f.ok {
			t.Errorf("firebase rounds=%d mem_cost=%d: %v, want ok=%v", f.r, f.m, err, f.ok)
		}
	}
	bad := fb(8, 14)
	bad.Hash = "AAAA" // shorter than the signer key
	if _, err := EncodeFirebaseScrypt(bad); err == nil {
		t.Error("firebase hash shorter than the signer key accepted")
	}
	bad = fb(8, 14)
	bad.Salt = "!!"
	if _, err := EncodeFirebaseScrypt(bad); err == nil {
		t.Error("firebase salt that is not base64 accepted")
	}
}

// An out-of-bounds hash is never computed: Verify does the dummy work at
// the hasher's own cost instead and reports the hash as malformed.
func TestVerify_OutOfBoundsHashCostsTheDummyWork(t *testing.T) {
	h := New(fast, 1, 0)
	var worked []Params
	h.beforeWork = func(p Params) { worked = append(worked, p) }
	huge := "$argon2id$v=19$m=1048576,t=64,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	for _, enc := range []string{huge, "", "garbage"} {
		worked = nil
		ok, rehash, err := h.Verify(context.Background(), enc, "pw")
		if ok || rehash || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%.20q) = %v, %v, %v; want false, false, ErrMalformedHash", enc, ok, rehash, err)
		}
		if len(worked) != 1 || worked[0] != h.Params() {
			t.Errorf("Verify(%.20q) worked %+v, want once with %+v", enc, worked, h.Params())
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	h := New(fast, 1, 0)
	own, _ := h.Hash(context.Background(), "pw")
	if h.NeedsRehash(own) {
		t.Error("own hash needs a rehash")
	}
	other := New(Params{Memory: 2048, Iterations: 1, Parallelism: 1}, 1, 0)
	if !other.NeedsRehash(own) {
		t.Error("hash with other parameters needs no rehash")
	}
	if !h.NeedsRehash("") || !h.NeedsRehash("garbage") {
		t.Error("unreadable hash needs no rehash")
	}
}
