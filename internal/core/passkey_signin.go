package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// passkeyAMR is the amr of a passkey sign-in: proof of possession of a key,
// and, since user verification is required, a second factor (the PIN or
// biometric that unlocked it) in the same gesture.
var passkeyAMR = []string{"pop", "mfa"}

// BeginPasskeySignIn starts a sign-in with a discoverable credential: no
// username, the authenticator offers the user's passkeys for the relying
// party. It is refused while the client IP is locked out.
func (s *Service) BeginPasskeySignIn(ctx context.Context, tenantID string, m Meta) (PasskeyOptions, error) {
	if s.rp == nil {
		return PasskeyOptions{}, ErrPasskeysOff
	}
	if err := s.addressLocked(ctx, tenantID, m.IP, s.clock.Now()); err != nil {
		return PasskeyOptions{}, err
	}
	assertion, sd, err := s.rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return PasskeyOptions{}, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return s.putCeremony(ctx, tenantID, store.CeremonySignIn, "", sd, assertion.Response)
}

// PasskeyAssertion completes BeginPasskeySignIn.
type PasskeyAssertion struct {
	TenantID       string
	ChallengeToken string
	Credential     []byte // the PublicKeyCredential JSON of navigator.credentials.get()
	Meta
}

// PasskeyAuthentication is a verified passkey sign-in: who signed in and
// with what, before any session exists (the hosted pages open a browser
// session with it; PasskeySignIn a token session).
type PasskeyAuthentication struct {
	User    store.User
	Passkey store.Passkey
	AMR     []string
}

// AuthenticatePasskey verifies the answer to a passkey sign-in ceremony:
// the challenge (single use), origin, relying party id, signature, user
// verification, and a signature counter that moved forward (a counter that
// did not is a cloned authenticator, refused). The passkey must belong to
// an active user of the tenant. Failures count against the client IP.
func (s *Service) AuthenticatePasskey(ctx context.Context, in PasskeyAssertion) (PasskeyAuthentication, error) {
	if s.rp == nil {
		return PasskeyAuthentication{}, ErrPasskeysOff
	}
	if err := checkCeremonyInput(in.ChallengeToken, in.Credential); err != nil {
		return PasskeyAuthentication{}, err
	}
	now := s.clock.Now()
	parsed, err := protocol.ParseCredentialRequestResponseBytes(in.Credential)
	if err != nil {
		return PasskeyAuthentication{}, errBadCredentialDoc
	}
	// Counted on the client IP before it is checked, like a password.
	a, err := s.reserve(ctx, in.TenantID, now, s.addressBudget(in.IP))
	if err != nil {
		return PasskeyAuthentication{}, err
	}
	auth, err := s.authenticatePasskey(ctx, in, parsed, a, now)
	if err != nil {
		return PasskeyAuthentication{}, err
	}
	if err := s.succeeded(ctx, a, now); err != nil {
		return PasskeyAuthentication{}, err
	}
	return auth, nil
}

// authenticatePasskey checks a parsed assertion for which attempt a was
// reserved; a failure concludes a, any other error gives its place back.
func (s *Service) authenticatePasskey(ctx context.Context, in PasskeyAssertion, parsed *protocol.ParsedCredentialAssertionData,
	a *attempt, now time.Time) (auth PasskeyAuthentication, err error) {
	defer func() {
		if err != nil && !errors.Is(err, errPasskeyRejected) {
			s.release(ctx, a, now)
		}
	}()
	_, sd, err := s.consumeCeremony(ctx, in.TenantID, token.HashOpaque(in.ChallengeToken), store.CeremonySignIn)
	if err != nil {
		return PasskeyAuthentication{}, err
	}
	var (
		u  store.User
		pk store.Passkey
	)
	lookup := func(rawID, userHandle []byte) (webauthn.User, error) {
		p, err := s.store.GetPasskeyByCredentialID(ctx, in.TenantID, rawID)
		if err != nil {
			return nil, err
		}
		if p.UserID != string(userHandle) {
			return nil, errors.New("user handle does not match the passkey's user")
		}
		if u, err = s.store.GetUser(ctx, in.TenantID, p.UserID); err != nil {
			return nil, err
		}
		pk = p
		return passkeyUser{u: u, creds: []webauthn.Credential{credentialOf(p)}}, nil
	}
	_, cred, err := s.rp.ValidatePasskeyLogin(lookup, sd, parsed)
	if err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			return PasskeyAuthentication{}, err
		}
		return PasskeyAuthentication{}, s.passkeyFailed(ctx, in.TenantID, u.ID, in.Meta, a, now, webauthnReason(err))
	}
	if u.Status != store.StatusActive {
		s.audit(ctx, event(EventLoginFailed, in.TenantID, u.ID, in.Meta, map[string]any{"reason": "account_" + u.Status, "method": "passkey"}))
		return PasskeyAuthentication{}, newError(CodeAccountDisabled, "the account is "+u.Status)
	}
	if pk, err = s.usePasskey(ctx, pk, cred); err != nil {
		if errors.Is(err, errPasskeyRejected) {
			return PasskeyAuthentication{}, s.passkeyFailed(ctx, in.TenantID, u.ID, in.Meta, a, now, "signature counter did not increase (cloned authenticator?)")
		}
		return PasskeyAuthentication{}, err
	}
	return PasskeyAuthentication{User: u, Passkey: pk, AMR: slices.Clone(passkeyAMR)}, nil
}

// usePasskey records a verified assertion of pk; errPasskeyRejected when its
// counter did not move forward.
func (s *Service) usePasskey(ctx context.Context, pk store.Passkey, cred *webauthn.Credential) (store.Passkey, error) {
	if cred.Authenticator.CloneWarning {
		return store.Passkey{}, errPasskeyRejected
	}
	out, err := s.store.UsePasskey(ctx, store.PasskeyUse{TenantID: pk.TenantID, ID: pk.ID,
		SignCount: cred.Authenticator.SignCount, BackupState: cred.Flags.BackupState, Now: s.clock.Now()})
	switch {
	case errors.Is(err, store.ErrConflict):
		return store.Passkey{}, errPasskeyRejected
	case errors.Is(err, store.ErrNotFound):
		return store.Passkey{}, errPasskeyRejected // removed meanwhile
	case err != nil:
		return store.Passkey{}, fmt.Errorf("use passkey: %w", err)
	}
	return out, nil
}

// passkeyFailed concludes a failed passkey sign-in on the client IP's
// budget (attempt a), writes passkey_failed and returns the answer.
func (s *Service) passkeyFailed(ctx context.Context, tenantID, userID string, m Meta, a *attempt, now time.Time, reason string) error {
	if _, err := s.failed(ctx, a, now); err != nil {
		return err
	}
	s.audit(ctx, event(EventPasskeyFailed, tenantID, userID, m, map[string]any{"ceremony": "signin", "reason": reason}))
	return errPasskeyRejected
}

// PasskeySignIn signs a user in with a passkey and opens a token session of
// the built-in client, like every other sign-in. A passkey satisfies the
// second factor: no MFA challenge follows.
func (s *Service) PasskeySignIn(ctx context.Context, in PasskeyAssertion) (LoginResult, error) {
	res, err := s.passkeySignIn(ctx, in)
	s.metrics.Login("passkey_" + loginOutcome(err))
	return res, err
}

func (s *Service) passkeySignIn(ctx context.Context, in PasskeyAssertion) (LoginResult, error) {
	auth, err := s.AuthenticatePasskey(ctx, in)
	if err != nil {
		return LoginResult{}, err
	}
	u := auth.User
	res, err := s.startSession(ctx, u, SessionParams{AMR: auth.AMR, IP: in.IP, UserAgent: in.UserAgent})
	if err != nil {
		return LoginResult{}, err
	}
	s.rememberDevices(ctx, u, in.Meta)
	s.PasskeySignedIn(ctx, auth, res.Session.ID, DefaultClientID, in.Meta)
	return res, nil
}

// PasskeySignedIn writes the audit events of a passkey sign-in that opened
// session sessionID (a token session, or a hosted page's browser session).
func (s *Service) PasskeySignedIn(ctx context.Context, auth PasskeyAuthentication, sessionID, clientID string, m Meta) {
	u := auth.User
	e := event(EventPasskeySignIn, u.TenantID, u.ID, m, map[string]any{"passkey_id": auth.Passkey.ID})
	e.SessionID = sessionID
	s.audit(ctx, e)
	s.audit(ctx, store.AuditEvent{Type: EventLoginSucceeded, TenantID: u.TenantID, UserID: u.ID, SessionID: sessionID,
		IP: m.IP, UserAgent: m.UserAgent, Details: map[string]any{"method": "passkey", "client_id": clientID}})
}

// mfaCeremonyHash is the hash under which the passkey ceremony of an MFA
// challenge is kept: derived from the challenge's own hash, so asking for
// options again replaces the previous ceremony.
func mfaCeremonyHash(challengeHash string) string {
	return token.HashOpaque(MethodWebAuthn + ":" + challengeHash)
}

// BeginPasskeyMFA starts a passkey as the second factor of an open MFA
// challenge whose methods include webauthn: the options allow exactly the
// user's passkeys.
func (s *Service) BeginPasskeyMFA(ctx context.Context, tenantID, challengeToken string) (PasskeyOptions, error) {
	if s.rp == nil {
		return PasskeyOptions{}, ErrPasskeysOff
	}
	if challengeToken == "" {
		return PasskeyOptions{}, newError(CodeInvalidRequest, "challenge_token is required")
	}
	if len(challengeToken) > maxOpaqueLen {
		return PasskeyOptions{}, errInvalidChallenge
	}
	hash := token.HashOpaque(challengeToken)
	ch, u, err := s.peekChallenge(ctx, tenantID, hash, s.clock.Now())
	if err != nil {
		return PasskeyOptions{}, err
	}
	if !slices.Contains(ch.Methods, MethodWebAuthn) {
		return PasskeyOptions{}, newError(CodeInvalidRequest, "this challenge cannot be completed with a passkey")
	}
	pks, err := s.store.ListPasskeys(ctx, u.TenantID, u.ID)
	if err != nil {
		return PasskeyOptions{}, fmt.Errorf("list passkeys: %w", err)
	}
	if len(pks) == 0 {
		return PasskeyOptions{}, errInvalidChallenge // removed meanwhile
	}
	assertion, sd, err := s.rp.BeginLogin(passkeyUser{u: u, creds: credentialsOf(pks)}, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return PasskeyOptions{}, fmt.Errorf("begin passkey mfa: %w", err)
	}
	data, err := jsonBytes(sd)
	if err != nil {
		return PasskeyOptions{}, err
	}
	c := store.PasskeyCeremony{TenantID: tenantID, Hash: mfaCeremonyHash(hash), Kind: store.CeremonyMFA, UserID: u.ID,
		Data: data, CreatedAt: s.clock.Now(), ExpiresAt: ch.ExpiresAt}
	if err := s.store.PutPasskeyCeremony(ctx, c); err != nil {
		return PasskeyOptions{}, fmt.Errorf("store ceremony: %w", err)
	}
	return PasskeyOptions{PublicKey: assertion.Response, ExpiresAt: ch.ExpiresAt}, nil
}

// verifyPasskeyMFA completes an MFA challenge with a passkey. A failed
// assertion counts as a wrong code (against the challenge and the user).
func (s *Service) verifyPasskeyMFA(ctx context.Context, in MFAVerify, ch store.MFAChallenge, u store.User, a *attempt) (res LoginResult, err error) {
	now := s.clock.Now()
	failed := false
	defer func() {
		if err != nil && !failed {
			s.release(ctx, a, now) // nothing was checked
		}
	}()
	fail := func(reason string) error {
		failed = true
		return s.mfaFailed(ctx, u, ch, a, in, reason)
	}
	if s.rp == nil {
		return LoginResult{}, ErrPasskeysOff
	}
	if len(in.Credential) > maxCredentialJSON {
		return LoginResult{}, errBadCredentialDoc
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(in.Credential)
	if err != nil {
		return LoginResult{}, errBadCredentialDoc
	}
	_, sd, err := s.consumeCeremony(ctx, in.TenantID, mfaCeremonyHash(ch.Hash), store.CeremonyMFA)
	if errors.Is(err, errInvalidCeremony) {
		return LoginResult{}, newError(CodeInvalidRequest, "ask POST /auth/mfa/webauthn/options for this challenge first (each options answer is good for one attempt)")
	}
	if err != nil {
		return LoginResult{}, err
	}
	pk, err := s.store.GetPasskeyByCredentialID(ctx, u.TenantID, parsed.RawID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && pk.UserID != u.ID) {
		return LoginResult{}, fail("unknown_passkey")
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("get passkey: %w", err)
	}
	cred, err := s.rp.ValidateLogin(passkeyUser{u: u, creds: []webauthn.Credential{credentialOf(pk)}}, sd, parsed)
	if err != nil {
		return LoginResult{}, fail("passkey: " + webauthnReason(err))
	}
	if _, err := s.usePasskey(ctx, pk, cred); err != nil {
		if errors.Is(err, errPasskeyRejected) {
			return LoginResult{}, fail("passkey: signature counter did not increase")
		}
		return LoginResult{}, err
	}
	// The attempt being completed is counted already: the limit is one more.
	done, err := s.store.CompleteChallenge(ctx, store.CompleteChallengeRequest{TenantID: in.TenantID, Hash: ch.Hash,
		Now: now, MaxAttempts: MaxChallengeAttempts + 1})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return LoginResult{}, errInvalidChallenge
	case err != nil:
		return LoginResult{}, fmt.Errorf("complete challenge: %w", err)
	}
	failed = true // decided: the places stay as succeeded leaves them
	if err := s.succeeded(ctx, a, now); err != nil {
		s.log.Warn("mfa throttle not reset", "tenant", u.TenantID, "user", u.ID, "err", err)
	}
	return s.finishMFA(ctx, u, done, in, "pop", "mfa")
}
