package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// accountUser returns the active user of an account.
func (s *Service) accountUser(ctx context.Context, a Account) (store.User, error) {
	return s.principalUser(ctx, Principal{Claims: token.Claims{TenantID: a.TenantID, Subject: a.UserID}})
}

// BeginPasskeyRegistration starts adding a passkey to the account: it needs
// a recent sign-in (ReauthMaxAge), is refused to impersonation sessions (an
// administrator acting as the user must not leave a credential behind), and
// excludes the user's existing passkeys so that one authenticator does not
// register twice.
//
// Instead of a recent sign-in, the current password may be given
// (password, §11): it is checked and throttled like a sign-in's.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, a Account, password string, m Meta) (PasskeyOptions, error) {
	if s.rp == nil {
		return PasskeyOptions{}, ErrPasskeysOff
	}
	if a.Actor != "" {
		return PasskeyOptions{}, newError(CodeForbidden, "an impersonation session cannot register a passkey")
	}
	u, err := s.accountUser(ctx, a)
	if err != nil {
		return PasskeyOptions{}, err
	}
	if err := s.recentOrPassword(ctx, a, u, password, m); err != nil {
		return PasskeyOptions{}, err
	}
	pks, err := s.store.ListPasskeys(ctx, u.TenantID, u.ID)
	if err != nil {
		return PasskeyOptions{}, fmt.Errorf("list passkeys: %w", err)
	}
	if len(pks) >= MaxPasskeysPerUser {
		return PasskeyOptions{}, newError(CodeConflict, fmt.Sprintf("a user may have at most %d passkeys: remove one first", MaxPasskeysPerUser))
	}
	pu := passkeyUser{u: u, creds: credentialsOf(pks)}
	creation, sd, err := s.rp.BeginRegistration(pu, webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()))
	if err != nil {
		return PasskeyOptions{}, fmt.Errorf("begin registration: %w", err)
	}
	return s.putCeremony(ctx, u.TenantID, store.CeremonyRegister, u.ID, sd, creation.Response)
}

// PasskeyRegistration completes BeginPasskeyRegistration.
type PasskeyRegistration struct {
	ChallengeToken string
	Credential     []byte // the PublicKeyCredential JSON of navigator.credentials.create()
	Name           string // optional; DefaultPasskeyName when empty
}

// RegisterPasskey verifies the authenticator's answer to a registration
// ceremony of the same account and stores the new passkey.
func (s *Service) RegisterPasskey(ctx context.Context, a Account, in PasskeyRegistration, m Meta) (store.Passkey, error) {
	if s.rp == nil {
		return store.Passkey{}, ErrPasskeysOff
	}
	if err := checkCeremonyInput(in.ChallengeToken, in.Credential); err != nil {
		return store.Passkey{}, err
	}
	name, err := passkeyName(in.Name)
	if err != nil {
		return store.Passkey{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(in.Credential)
	if err != nil {
		return store.Passkey{}, errBadCredentialDoc
	}
	c, sd, err := s.consumeCeremony(ctx, a.TenantID, token.HashOpaque(in.ChallengeToken), store.CeremonyRegister)
	if err != nil {
		return store.Passkey{}, err
	}
	if c.UserID != a.UserID {
		return store.Passkey{}, errInvalidCeremony
	}
	u, err := s.accountUser(ctx, a)
	if err != nil {
		return store.Passkey{}, err
	}
	cred, err := s.rp.CreateCredential(passkeyUser{u: u}, sd, parsed)
	if err != nil {
		s.audit(ctx, event(EventPasskeyFailed, u.TenantID, u.ID, m, map[string]any{"ceremony": "register", "reason": webauthnReason(err)}))
		return store.Passkey{}, newError(CodeInvalidRequest, "the new passkey could not be verified: "+webauthnReason(err))
	}
	transports := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		transports[i] = string(t)
	}
	pk := store.Passkey{
		TenantID: u.TenantID, UserID: u.ID, ID: newRandomID(),
		CredentialID: cred.ID, PublicKey: cred.PublicKey, AttestationFormat: cred.AttestationFormat,
		SignCount: cred.Authenticator.SignCount, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		Transports: transports, AAGUID: cred.Authenticator.AAGUID, Name: name, CreatedAt: s.clock.Now(),
	}
	switch err := s.store.CreatePasskey(ctx, pk); {
	case errors.Is(err, store.ErrConflict):
		return store.Passkey{}, newError(CodeConflict, "this passkey is already registered")
	case errors.Is(err, store.ErrNotFound):
		return store.Passkey{}, errUnauthorized // the user was deleted meanwhile
	case err != nil:
		return store.Passkey{}, fmt.Errorf("store passkey: %w", err)
	}
	e := event(EventPasskeyRegistered, u.TenantID, u.ID, m, map[string]any{"passkey_id": pk.ID, "name": pk.Name,
		"backup_eligible": pk.BackupEligible, "attestation_format": pk.AttestationFormat})
	e.SessionID = a.SessionID
	s.audit(ctx, e)
	return pk, nil
}

// passkeyName checks a passkey's name given by its owner.
func passkeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return DefaultPasskeyName, nil
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxPasskeyNameLen ||
		strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return "", newError(CodeInvalidRequest, fmt.Sprintf("name must be at most %d printable characters", MaxPasskeyNameLen))
	}
	return name, nil
}
