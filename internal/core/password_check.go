package core

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// FamiliarAddressAge is how long an address from which an account signed
// in successfully stays familiar: failures from it count on a budget of its
// own (smart lockout), so that guesses from elsewhere cannot lock the
// owner out.
const FamiliarAddressAge = 30 * 24 * time.Hour

// Budget scopes, as login_locked names them.
const (
	ScopeAccount         = "account"          // the account's shared budget
	ScopeFamiliarAddress = "familiar_address" // the account's budget for one familiar address
	ScopeIP              = "ip"               // the client IP's budget, across accounts
	ScopeMFA             = "mfa"              // the user's second-factor budget
)

// passwordCheck is a password check that ran within its budgets.
type passwordCheck struct {
	attempt   *attempt
	ok        bool
	rehash    bool
	devices   []store.KnownDevice // the user's known devices, read for the budget
	familiar  bool                // the account budget is the one of a familiar address
	sharedKey string              // the account's shared budget key
}

// checkPassword checks pw for u, or for an unknown login when u is nil,
// counted before the hash is computed (see reserve): on the account's
// budget (the budget of the address when it is familiar to the account),
// and on the client IP's. Every sign-in by password and every password
// given to prove who one is goes through here. Unknown logins get a budget
// of their own and the same work, so that they answer like known ones.
// The caller concludes the attempt with failed or succeeded.
func (s *Service) checkPassword(ctx context.Context, tenantID string, u *store.User, login, pw string, m Meta, now time.Time) (passwordCheck, error) {
	uid := ""
	if u != nil {
		uid = u.ID
	}
	// Read for unknown logins too (it finds nothing): the same work.
	devices, err := s.store.ListKnownDevices(ctx, tenantID, uid)
	if err != nil {
		return passwordCheck{}, err
	}
	p := s.policy
	acct := budget{key: "login:" + strings.ToLower(login), max: p.LoginMaxFailures, resetOnSuccess: true, scope: ScopeAccount}
	pc := passwordCheck{devices: devices}
	if u != nil {
		acct.key = accountKey(u.ID)
		pc.sharedKey = acct.key
		if mark, ok := s.familiarAddress(*u, m.IP, devices, now); ok {
			acct.key += "@" + mark
			acct.scope = ScopeFamiliarAddress
			pc.familiar = true
		}
	}
	ip := s.addressBudget(m.IP)
	a, err := s.reserve(ctx, tenantID, now, ip, acct)
	if err != nil {
		return passwordCheck{}, err
	}
	pc.attempt = a
	pc.ok, pc.rehash, err = s.verifyPassword(ctx, u, pw)
	if err != nil {
		s.release(ctx, a, now)
		return passwordCheck{}, err
	}
	return pc, nil
}

// accountKey is the throttle key of an account's shared password budget:
// the username, email and phone of one user count on it together.
func accountKey(userID string) string { return "account:" + userID }

// familiarAddress reports whether ip is an address from which u signed in
// successfully within FamiliarAddressAge, and returns its keyed hash.
func (s *Service) familiarAddress(u store.User, ip string, devices []store.KnownDevice, now time.Time) (string, bool) {
	if ip == "" {
		return "", false
	}
	mark := s.ipMark(u, ip)
	for _, d := range devices {
		if d.Kind == store.DeviceIP && d.Hash == mark && now.Sub(d.LastSeen) <= FamiliarAddressAge {
			return mark, true
		}
	}
	return "", false
}

// verifyPassword runs the hash: against u's password hash, or against a
// dummy of the same cost when u is nil. A user without a password or with
// an unreadable hash does not match.
func (s *Service) verifyPassword(ctx context.Context, u *store.User, pw string) (ok, rehash bool, err error) {
	if u == nil {
		err = s.hasher.VerifyDummy(ctx, pw)
	} else {
		ok, rehash, err = s.hasher.Verify(ctx, u.PasswordHash, pw)
	}
	if !errors.Is(err, password.ErrBusy) {
		s.metrics.PasswordCheck()
	}
	switch {
	case err == nil:
		return ok, rehash, nil
	case errors.Is(err, password.ErrBusy) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return false, false, hashErr(err)
	case u == nil:
		return false, false, nil // too long for the dummy: no match
	}
	if u.PasswordHash != "" && !errors.Is(err, password.ErrTooLong) {
		s.log.Warn("unreadable password hash", "tenant", u.TenantID, "user", u.ID)
	}
	return false, false, nil
}
