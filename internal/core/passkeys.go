package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// MethodWebAuthn is the second-factor method of a passkey, as
// required_mfa_methods and POST /auth/mfa/verify name it.
const MethodWebAuthn = "webauthn"

// Passkey limits.
const (
	// PasskeyCeremonyTTL is the lifetime of a passkey ceremony's challenge.
	PasskeyCeremonyTTL = 5 * time.Minute
	// MaxPasskeysPerUser bounds the passkeys one user may register.
	MaxPasskeysPerUser = 20
	// MaxPasskeyNameLen bounds a passkey's name, in characters.
	MaxPasskeyNameLen = 64
	// DefaultPasskeyName names a passkey registered without a name.
	DefaultPasskeyName = "Passkey"
	// maxCredentialJSON bounds a presented PublicKeyCredential before parsing.
	maxCredentialJSON = 32 << 10
)

var (
	// ErrPasskeysOff answers every passkey operation while passkeys are off.
	ErrPasskeysOff      = newError(CodeNotFound, "passkeys are not enabled on this server")
	errInvalidCeremony  = newError(CodeInvalidGrant, "the challenge_token is invalid, expired or already used: ask for new options")
	errPasskeyNotFound  = newError(CodeNotFound, "passkey not found")
	errPasskeyRejected  = newError(CodeInvalidCredentials, "the passkey could not be verified")
	errBadCredentialDoc = newError(CodeInvalidRequest, "credential must be a PublicKeyCredential in its JSON form")
)

// newRelyingParty builds the WebAuthn relying party of the policy, or
// explains why passkeys are off. The relying party id is the issuer's host
// unless WebAuthnRPID overrides it; WebAuthn forbids IP addresses there.
func newRelyingParty(p Policy) (*webauthn.WebAuthn, string, error) {
	iss, err := url.Parse(p.Issuer)
	if err != nil || iss.Host == "" {
		return nil, "passkeys are off: the issuer is not an absolute URL", nil
	}
	rpID := p.WebAuthnRPID
	if rpID == "" {
		if net.ParseIP(iss.Hostname()) != nil {
			return nil, fmt.Sprintf("passkeys are off: the issuer's host %s is an IP address, which WebAuthn does not allow "+
				"as a relying party id; set GATEHOUSE_ISSUER to a URL with a host name or set GATEHOUSE_WEBAUTHN_RP_ID", iss.Hostname()), nil
		}
		rpID = iss.Hostname()
	}
	origins, opaque := []string{iss.Scheme + "://" + iss.Host}, []string(nil)
	for _, o := range p.WebAuthnOrigins {
		if protocol.IsKnownOpaqueOrigin(o) { // an app's origin, android:apk-key-hash:…
			opaque = append(opaque, o)
		} else {
			origins = append(origins, o)
		}
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  rpID,
		RPDisplayName:         "Gatehouse",
		RPOrigins:             origins,
		RPOpaqueOrigins:       opaque,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: PasskeyCeremonyTTL, TimeoutUVD: PasskeyCeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: PasskeyCeremonyTTL, TimeoutUVD: PasskeyCeremonyTTL},
		},
	})
	if err != nil {
		return nil, "", fmt.Errorf("core: webauthn relying party: %w", err)
	}
	return wa, "", nil
}

// PasskeysEnabled reports whether passkeys are on, and why not when off.
func (s *Service) PasskeysEnabled() (bool, string) { return s.rp != nil, s.passkeyOff }

// PasskeyRPID returns the relying party id of passkeys (empty when off).
func (s *Service) PasskeyRPID() string {
	if s.rp == nil {
		return ""
	}
	return s.rp.Config.RPID
}

// PasskeyOptions is the start of a passkey ceremony: the opaque, single-use
// challenge token (only its hash is stored) and the options for the
// browser's navigator.credentials call. PublicKey is a
// PublicKeyCredentialCreationOptions or PublicKeyCredentialRequestOptions
// in the form of WebAuthn's JSON serialisation.
type PasskeyOptions struct {
	ChallengeToken string
	PublicKey      any
	ExpiresAt      time.Time
}

// passkeyUser is a user as the WebAuthn library sees it. The user handle is
// the user's id: random for generated ids, and never a name or an email.
type passkeyUser struct {
	u     store.User
	creds []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte { return []byte(p.u.ID) }
func (p passkeyUser) WebAuthnName() string {
	if p.u.Email != "" {
		return p.u.Email
	}
	return p.u.Username
}
func (p passkeyUser) WebAuthnDisplayName() string {
	if p.u.DisplayName != "" {
		return p.u.DisplayName
	}
	return p.u.Username
}
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// credentialOf is the library's credential record of a stored passkey.
func credentialOf(p store.Passkey) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:                p.CredentialID,
		PublicKey:         p.PublicKey,
		AttestationFormat: p.AttestationFormat,
		Transport:         transports,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: true,
			BackupEligible: p.BackupEligible, BackupState: p.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
}

func credentialsOf(pks []store.Passkey) []webauthn.Credential {
	out := make([]webauthn.Credential, len(pks))
	for i := range pks {
		out[i] = credentialOf(pks[i])
	}
	return out
}

// putCeremony stores a ceremony's session data behind a new challenge token.
func (s *Service) putCeremony(ctx context.Context, tenantID, kind, userID string, sd *webauthn.SessionData, publicKey any) (PasskeyOptions, error) {
	data, err := json.Marshal(sd)
	if err != nil {
		return PasskeyOptions{}, fmt.Errorf("encode ceremony: %w", err)
	}
	now := s.clock.Now()
	tok := token.NewOpaque()
	c := store.PasskeyCeremony{TenantID: tenantID, Hash: token.HashOpaque(tok), Kind: kind, UserID: userID,
		Data: data, CreatedAt: now, ExpiresAt: now.Add(PasskeyCeremonyTTL)}
	if err := s.store.PutPasskeyCeremony(ctx, c); err != nil {
		return PasskeyOptions{}, fmt.Errorf("store ceremony: %w", err)
	}
	return PasskeyOptions{ChallengeToken: tok, PublicKey: publicKey, ExpiresAt: c.ExpiresAt}, nil
}

// consumeCeremony ends the ceremony of a challenge token and returns its
// session data; it answers errInvalidCeremony when the token is unknown,
// of another kind or tenant, expired or already used.
func (s *Service) consumeCeremony(ctx context.Context, tenantID, hash, kind string) (store.PasskeyCeremony, webauthn.SessionData, error) {
	c, err := s.store.ConsumePasskeyCeremony(ctx, tenantID, hash, kind, s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.PasskeyCeremony{}, webauthn.SessionData{}, errInvalidCeremony
	}
	if err != nil {
		return store.PasskeyCeremony{}, webauthn.SessionData{}, fmt.Errorf("consume ceremony: %w", err)
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return store.PasskeyCeremony{}, webauthn.SessionData{}, fmt.Errorf("decode ceremony: %w", err)
	}
	return c, sd, nil
}

// checkCeremonyInput bounds the challenge token and credential of a request.
func checkCeremonyInput(challengeToken string, credential []byte) error {
	switch {
	case challengeToken == "" || len(credential) == 0:
		return newError(CodeInvalidRequest, "challenge_token and credential are required")
	case len(challengeToken) > maxOpaqueLen:
		return errInvalidCeremony
	case len(credential) > maxCredentialJSON:
		return errBadCredentialDoc
	}
	return nil
}

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

// ListPasskeys returns the account's passkeys, oldest first.
func (s *Service) ListPasskeys(ctx context.Context, a Account) ([]store.Passkey, error) {
	if s.rp == nil {
		return nil, ErrPasskeysOff
	}
	return s.UserPasskeys(ctx, a.TenantID, a.UserID)
}

// RenamePasskey renames one of the account's passkeys.
func (s *Service) RenamePasskey(ctx context.Context, a Account, id, name string, m Meta) (store.Passkey, error) {
	if s.rp == nil {
		return store.Passkey{}, ErrPasskeysOff
	}
	if strings.TrimSpace(name) == "" {
		return store.Passkey{}, newError(CodeInvalidRequest, "name is required")
	}
	name, err := passkeyName(name)
	if err != nil {
		return store.Passkey{}, err
	}
	if !storableID(id) {
		return store.Passkey{}, errPasskeyNotFound
	}
	pk, err := s.store.RenamePasskey(ctx, a.TenantID, a.UserID, id, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Passkey{}, errPasskeyNotFound
	}
	if err != nil {
		return store.Passkey{}, fmt.Errorf("rename passkey: %w", err)
	}
	e := event(EventPasskeyRenamed, a.TenantID, a.UserID, m, map[string]any{"passkey_id": id, "name": name})
	e.SessionID = a.SessionID
	s.audit(ctx, e)
	return pk, nil
}

// DeletePasskey removes one of the account's passkeys.
func (s *Service) DeletePasskey(ctx context.Context, a Account, id string, m Meta) error {
	if s.rp == nil {
		return ErrPasskeysOff
	}
	return s.removePasskey(ctx, a.TenantID, a.UserID, id, a.SessionID, m)
}

// storableID reports whether id can name a record in every store: ids
// with a NUL byte or invalid UTF-8 (which PostgreSQL's text refuses) name nothing.
func storableID(id string) bool {
	return id != "" && len(id) <= 256 && utf8.ValidString(id) && !strings.ContainsRune(id, 0)
}

// UserPasskeys returns a user's passkeys, oldest first (for the admin API).
func (s *Service) UserPasskeys(ctx context.Context, tenantID, userID string) ([]store.Passkey, error) {
	if !storableID(userID) {
		return nil, newError(CodeNotFound, "user not found")
	}
	if _, err := s.store.GetUser(ctx, tenantID, userID); err != nil {
		return nil, storeErr(err, "user")
	}
	pks, err := s.store.ListPasskeys(ctx, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return pks, nil
}

// RemoveUserPasskey removes a user's passkey (for the admin API; m.Actor
// names the administrator).
func (s *Service) RemoveUserPasskey(ctx context.Context, tenantID, userID, id string, m Meta) error {
	return s.removePasskey(ctx, tenantID, userID, id, "", m)
}

func (s *Service) removePasskey(ctx context.Context, tenantID, userID, id, sessionID string, m Meta) error {
	if !storableID(userID) || !storableID(id) {
		return errPasskeyNotFound
	}
	err := s.store.DeletePasskey(ctx, tenantID, userID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errPasskeyNotFound
	}
	if err != nil {
		return fmt.Errorf("delete passkey: %w", err)
	}
	e := event(EventPasskeyRemoved, tenantID, userID, m, map[string]any{"passkey_id": id})
	e.SessionID = sessionID
	s.audit(ctx, e)
	return nil
}

// webauthnReason is a caller-safe reason of a failed ceremony check: the
// library's error details (which name the failed check, never a secret).
func webauthnReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.Details != "" {
			return pe.Details
		}
		return pe.Type
	}
	return "verification failed"
}

// jsonBytes encodes a ceremony's session data.
func jsonBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode ceremony: %w", err)
	}
	return b, nil
}
