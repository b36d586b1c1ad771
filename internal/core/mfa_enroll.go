package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// TOTPIssuer is the issuer shown by authenticator apps for Gatehouse's
// TOTP factors (with the tenant appended outside the default tenant).
const TOTPIssuer = "Gatehouse"

// TOTPEnrollment is a pending TOTP factor as the user must add it to an
// authenticator app. The secret is shown once; it is stored only sealed.
type TOTPEnrollment struct {
	Secret string // base32, no padding
	URL    string // otpauth://totp/... (RFC 6238 parameters, issuer and account name)
}

// EnrollTOTP starts the enrolment of a TOTP factor for the principal: a new
// secret, pending until ConfirmTOTP. It needs a recent authentication
// (pw, the current password, or a recent sign-in: see Reauthenticate).
// Enrolling again while a factor is active also requires a current code of
// that factor (code); the active factor stays until the new one is confirmed.
func (s *Service) EnrollTOTP(ctx context.Context, p Principal, code, pw string, m Meta) (TOTPEnrollment, error) {
	u, err := s.principalUser(ctx, p)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	if err := s.reauthenticate(ctx, p, u, pw, m, PurposeMFAEnroll); err != nil {
		return TOTPEnrollment{}, err
	}
	f, err := s.loadFactors(ctx, u)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	if f.totp != nil {
		if code == "" {
			return TOTPEnrollment{}, newError(CodeMFARequired, "a TOTP factor is active: give a current code to replace it")
		}
		if err := s.checkTOTP(ctx, u, *f.totp, code, m, "reenroll"); err != nil {
			return TOTPEnrollment{}, err
		}
	}
	now := s.clock.Now()
	fac := store.MFAFactor{TenantID: u.TenantID, UserID: u.ID, ID: newRandomID(), Kind: store.FactorTOTP, CreatedAt: now}
	issuer := TOTPIssuer
	if u.TenantID != DefaultTenant {
		issuer += " (" + u.TenantID + ")"
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Username, Period: totpPeriod,
		Secret: newTOTPSecret(), Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("totp key: %w", err)
	}
	if fac.SecretEnc, err = s.sealTOTPSecret(fac, key.Secret()); err != nil {
		return TOTPEnrollment{}, err
	}
	if err := s.store.PutPendingFactor(ctx, fac); err != nil {
		return TOTPEnrollment{}, fmt.Errorf("store pending factor: %w", err)
	}
	e := event(EventMFAEnrollStarted, u.TenantID, u.ID, m, map[string]any{"method": MethodTOTP, "replaces_active": f.totp != nil})
	e.SessionID = p.SessionID
	s.audit(ctx, e)
	return TOTPEnrollment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP activates the principal's pending TOTP factor with a current
// code of it and returns RecoveryCodeCount new recovery codes, shown once
// and stored only as keyed hashes. Like EnrollTOTP it needs a recent
// authentication (pw or a recent sign-in). A replaced factor and its
// recovery codes are gone from then on.
func (s *Service) ConfirmTOTP(ctx context.Context, p Principal, code, pw string, m Meta) ([]string, error) {
	if code == "" {
		return nil, newError(CodeInvalidRequest, "code is required")
	}
	u, err := s.principalUser(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.reauthenticate(ctx, p, u, pw, m, PurposeMFAConfirm); err != nil {
		return nil, err
	}
	f, err := s.loadFactors(ctx, u)
	if err != nil {
		return nil, err
	}
	if f.pending == nil {
		return nil, newError(CodeInvalidRequest, "no TOTP enrolment is pending: start with POST /auth/mfa/totp/enroll")
	}
	if err := s.checkTOTP(ctx, u, *f.pending, code, m, "confirm"); err != nil {
		return nil, err
	}
	codes := newRecoveryCodes()
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = s.recoveryHash(u, c)
	}
	if _, err := s.store.ConfirmFactor(ctx, u.TenantID, u.ID, f.pending.ID, s.clock.Now(), hashes); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, newError(CodeInvalidRequest, "no TOTP enrolment is pending: start with POST /auth/mfa/totp/enroll")
		}
		return nil, fmt.Errorf("confirm factor: %w", err)
	}
	e := event(EventMFAEnrolled, u.TenantID, u.ID, m, map[string]any{"method": MethodTOTP, "replaced": f.totp != nil})
	e.SessionID = p.SessionID
	s.audit(ctx, e)
	return codes, nil
}

// checkTOTP verifies a code of factor f for u outside a challenge
// (enrolment): counted on the user's second-factor budget before it is
// checked, like a challenge's codes, and each code accepted once per factor.
func (s *Service) checkTOTP(ctx context.Context, u store.User, f store.MFAFactor, code string, m Meta, purpose string) error {
	if len(code) > maxCodeLen {
		return errInvalidMFACode
	}
	now := s.clock.Now()
	a, err := s.reserve(ctx, u.TenantID, now, s.mfaBudget(u.ID))
	if err != nil {
		return err
	}
	secret, err := s.openTOTPSecret(f)
	if err != nil {
		s.release(ctx, a, now)
		return err
	}
	step, ok := matchTOTP(secret, code, now)
	if ok {
		err := s.store.UseTOTPStep(ctx, u.TenantID, u.ID, f.ID, step, now)
		if err == nil {
			return s.succeeded(ctx, a, now)
		}
		if !errors.Is(err, store.ErrConflict) {
			s.release(ctx, a, now)
			return fmt.Errorf("use totp step: %w", err)
		}
	}
	if err := s.mfaAttemptFailed(ctx, u, a, m, map[string]any{"method": MethodTOTP, "purpose": purpose}); err != nil {
		return err
	}
	return errInvalidMFACode
}

// ResetMFA removes every second factor and recovery code of a user (for a
// support desk whose user lost their device); open challenges end with them
// and an active second-factor lock is lifted.
func (s *Service) ResetMFA(ctx context.Context, tenantID, userID string, m Meta) error {
	if _, err := s.store.GetUser(ctx, tenantID, userID); err != nil {
		return storeErr(err, "user")
	}
	n, err := s.store.DeleteFactors(ctx, tenantID, userID)
	if err != nil {
		return fmt.Errorf("delete factors: %w", err)
	}
	// A new factor starts with a fresh budget: the lock of the lost one is lifted.
	if err := s.store.ClearThrottle(ctx, tenantID, mfaKey(userID)); err != nil {
		return fmt.Errorf("clear mfa throttle: %w", err)
	}
	s.audit(ctx, event(EventMFAReset, tenantID, userID, m, map[string]any{"factors_removed": n}))
	return nil
}

// principalUser returns the active user of an access token.
func (s *Service) principalUser(ctx context.Context, p Principal) (store.User, error) {
	u, err := s.store.GetUser(ctx, p.TenantID, p.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errUnauthorized
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user: %w", err)
	}
	if u.Status != store.StatusActive {
		return store.User{}, errUnauthorized
	}
	return u, nil
}
