package core

import (
	"context"
	"fmt"
	"time"
)

// Throttling counts an attempt before it is checked: each credential check
// (a password about to be hashed, a second-factor code about to be
// compared) first reserves one place on every budget it spends, in one
// atomic store call per budget, and runs only when every reservation is
// granted. So N concurrent guesses never run more checks than a budget's
// limit, whatever their timing.
//
// A failed check stays counted, and the failure that finds a budget full
// locks it for the lockout time. A successful check resets the budgets that
// belong to the account (its owner proved who they are) and gives back its
// place on the client IP's budget (an address is throttled for its
// failures, not for its sign-ins). A check that could not run gives every
// place back.

// budget is one throttle key an attempt is counted on.
type budget struct {
	key string
	max int
	// resetOnSuccess: a success forgets the key's count (an account or a
	// second factor); otherwise a success only gives its place back (an
	// address).
	resetOnSuccess bool
	// scope names the budget in login_locked.
	scope string
}

// attempt is one reserved credential check.
type attempt struct {
	tenantID string
	budgets  []budget
	counts   []int // each budget's count, this attempt included
}

// count is the number of attempts on the budget of scope before this one
// within the window (failures, or checks still running); 0 when the attempt
// does not spend such a budget.
func (a *attempt) count(scope string) int {
	for i, b := range a.budgets {
		if b.scope == scope {
			return max(a.counts[i]-1, 0)
		}
	}
	return 0
}

// reserve reserves one attempt on each budget, in order. When one is
// refused, the places already taken are given back and the answer is
// CodeTooManyAttempts with the time to wait.
func (s *Service) reserve(ctx context.Context, tenantID string, now time.Time, budgets ...budget) (*attempt, error) {
	a := &attempt{tenantID: tenantID}
	window := s.policy.failureWindow()
	for _, b := range budgets {
		th, ok, err := s.store.ReserveAttempt(ctx, tenantID, b.key, now, b.max, window)
		if err != nil {
			s.release(ctx, a, now)
			return nil, fmt.Errorf("reserve attempt: %w", err)
		}
		if !ok {
			s.release(ctx, a, now)
			// Locked, or full while the attempts that filled it are still
			// being checked: then the count ends with the window at the latest.
			wait := th.LockedUntil.Sub(now)
			if wait <= 0 {
				wait = th.FirstAt.Add(window).Sub(now)
			}
			return nil, &Error{Code: CodeTooManyAttempts, Message: "too many failed attempts; try again later", RetryAfter: max(wait, time.Second)}
		}
		a.budgets = append(a.budgets, b)
		a.counts = append(a.counts, th.Failures)
	}
	return a, nil
}

// release gives back every place of a whose check did not run or did not
// decide anything. Failures only cost a place: they are logged.
func (s *Service) release(ctx context.Context, a *attempt, now time.Time) {
	for _, b := range a.budgets {
		if err := s.store.ReleaseAttempt(ctx, a.tenantID, b.key, now); err != nil {
			s.log.Warn("throttle place not given back", "tenant", a.tenantID, "err", err)
		}
	}
}

// failed concludes a failed check: the budgets it filled are locked. It
// returns the scopes it locked (for login_locked).
func (s *Service) failed(ctx context.Context, a *attempt, now time.Time) ([]string, error) {
	var locked []string
	for _, b := range a.budgets {
		ok, err := s.store.FailAttempt(ctx, a.tenantID, b.key, now, b.max, s.policy.LoginLockout)
		if err != nil {
			return nil, fmt.Errorf("record failure: %w", err)
		}
		if ok {
			locked = append(locked, b.scope)
		}
	}
	return locked, nil
}

// succeeded concludes a successful check: account budgets are reset,
// address budgets get their place back.
func (s *Service) succeeded(ctx context.Context, a *attempt, now time.Time) error {
	for _, b := range a.budgets {
		var err error
		if b.resetOnSuccess {
			err = s.store.ResetThrottle(ctx, a.tenantID, b.key)
		} else {
			err = s.store.ReleaseAttempt(ctx, a.tenantID, b.key, now)
		}
		if err != nil {
			return fmt.Errorf("reset throttle: %w", err)
		}
	}
	return nil
}

// addressBudget is the client IP's budget, across accounts.
func (s *Service) addressBudget(ip string) budget {
	return budget{key: "ip:" + ip, max: s.policy.IPMaxFailures, scope: ScopeIP}
}

// addressLocked refuses, without counting anything, while the client IP's
// budget is locked (a ceremony that checks no credential yet).
func (s *Service) addressLocked(ctx context.Context, tenantID, ip string, now time.Time) error {
	th, err := s.store.GetThrottle(ctx, tenantID, s.addressBudget(ip).key)
	if err != nil {
		return fmt.Errorf("read throttle: %w", err)
	}
	if now.Before(th.LockedUntil) {
		return &Error{Code: CodeTooManyAttempts, Message: "too many failed attempts; try again later", RetryAfter: th.LockedUntil.Sub(now)}
	}
	return nil
}
