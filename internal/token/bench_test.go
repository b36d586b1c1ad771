package token

import (
	"context"
	"testing"
)

func BenchmarkSign(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			e := newEnv(b, alg)
			c := claimsAt(e.clock.Now())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.ks.Sign(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			e := newEnv(b, alg)
			now := e.clock.Now()
			tok := mustSign(b, e.ks, claimsAt(now))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.ks.Verify(ctx, tok, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSignParallel(b *testing.B) {
	e := newEnv(b, AlgEdDSA)
	c := claimsAt(e.clock.Now())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.ks.Sign(c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
