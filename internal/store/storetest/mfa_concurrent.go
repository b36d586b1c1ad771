package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, []testCase{
		{"MFAConcurrent/TOTPStepOneWinner", testConcurrentTOTPStep},
		{"MFAConcurrent/ChallengeOneWinner", testConcurrentChallenge},
		{"MFAConcurrent/ChallengesSameStepOneWinner", testConcurrentChallengesSameStep},
		{"MFAConcurrent/FailuresAllCount", testConcurrentFailures},
	}...)
}

// concurrentMFA is how many callers race for one step or challenge.
const concurrentMFA = 10

// atOnce runs fn(i) for i in [0, n) from n goroutines released together
// and returns their errors.
func atOnce(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner fails unless exactly one error is nil and every other one is loser.
func oneWinner(t *testing.T, what string, errs []error, loser error) {
	t.Helper()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loser):
			t.Errorf("%s #%d: %v, want %v", what, i, err, loser)
		}
	}
	if wins != 1 {
		t.Fatalf("%s: %d winners of %d, want exactly 1", what, wins, len(errs))
	}
}

func testConcurrentTOTPStep(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	errs := atOnce(concurrentMFA, func(int) error {
		return s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", 123456, base)
	})
	oneWinner(t, "UseTOTPStep", errs, store.ErrConflict)
}

func testConcurrentChallenge(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	c := newChallenge(u, "c1", base)
	mustChallenge(t, s, c)
	// Each caller brings its own step, so only the challenge decides.
	errs := atOnce(concurrentMFA, func(i int) error {
		_, err := complete(t, s, c, base, int64(1000+i), "")
		return err
	})
	oneWinner(t, "CompleteChallenge", errs, store.ErrNotFound)
	// The losers wrote nothing: only the winner's step is recorded.
	used := 0
	for i := range concurrentMFA {
		if err := s.UseTOTPStep(t.Context(), "t1", u.ID, "f1", int64(1000+i), base); errors.Is(err, store.ErrConflict) {
			used++
		} else if err != nil {
			t.Fatalf("UseTOTPStep: %v", err)
		}
	}
	if used != 1 {
		t.Fatalf("%d steps recorded, want 1", used)
	}
}

func testConcurrentChallengesSameStep(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	var chs []store.MFAChallenge
	for i := range concurrentMFA {
		c := newChallenge(u, fmt.Sprint("c", i), base)
		mustChallenge(t, s, c)
		chs = append(chs, c)
	}
	// One code (one step) presented against ten challenges: one wins.
	errs := atOnce(concurrentMFA, func(i int) error {
		_, err := complete(t, s, chs[i], base, 777, "")
		return err
	})
	oneWinner(t, "CompleteChallenge with the same step", errs, store.ErrConflict)
	open := 0
	for _, c := range chs {
		got, err := s.GetChallenge(t.Context(), "t1", c.Hash)
		if err != nil {
			t.Fatalf("GetChallenge: %v", err)
		}
		if got.UsedAt.IsZero() {
			open++
		}
	}
	if open != concurrentMFA-1 {
		t.Fatalf("%d challenges still open, want %d (the losers' stay open)", open, concurrentMFA-1)
	}
}

func testConcurrentFailures(t *testing.T, s store.Store) {
	u := mfaUser(t, s)
	c := newChallenge(u, "c1", base)
	mustChallenge(t, s, c)
	errs := atOnce(concurrentMFA, func(int) error {
		_, err := s.ReserveChallengeAttempt(t.Context(), "t1", c.Hash, base, maxAttempts)
		return err
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("ReserveChallengeAttempt #%d: %v", i, err)
		}
	}
	if ok != maxAttempts {
		t.Fatalf("%d failures counted, want exactly %d", ok, maxAttempts)
	}
	got, err := s.GetChallenge(t.Context(), "t1", c.Hash)
	if err != nil || got.Attempts != maxAttempts {
		t.Fatalf("attempts = %d (%v), want %d", got.Attempts, err, maxAttempts)
	}
}
