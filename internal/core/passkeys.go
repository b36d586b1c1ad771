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
	data, err := jsonBytes(sd)
	if err != nil {
		return PasskeyOptions{}, err
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

// webauthnReason is a caller-safe reason of a failed ceremony check: the
// library's error details (which name the failed check, never a secret).
func webauthnReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.Details != "" {
			return strings.TrimSuffix(pe.Details, ": <nil>") // the library formats an absent cause so
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
