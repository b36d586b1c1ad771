package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/federation"
	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Audit event types of ID-token sign-in.
const (
	EventIDTokenSignin  = "id_token_signin"
	EventIdentityLinked = "identity_linked"
)

// IDTokenSignin presents an ID token of an external provider.
type IDTokenSignin struct {
	TenantID string
	Provider string // the provider's name in the tenant
	IDToken  string
	Meta
}

// SignInWithIDToken verifies an external ID token, finds (or links, or
// provisions) its local user and starts a session (amr ["fed"]).
func (s *Service) SignInWithIDToken(ctx context.Context, in IDTokenSignin) (LoginResult, error) {
	res, err := s.signInWithIDToken(ctx, in)
	s.metrics.Login(loginOutcome(err))
	return res, err
}

func (s *Service) signInWithIDToken(ctx context.Context, in IDTokenSignin) (LoginResult, error) {
	u, c, err := s.FederatedUser(ctx, in.TenantID, in.Provider, in.IDToken, in.Meta)
	if err != nil {
		return LoginResult{}, err
	}
	res, err := s.startSession(ctx, u, SessionParams{AMR: []string{"fed"}, IP: in.IP, UserAgent: in.UserAgent})
	if err != nil {
		return LoginResult{}, err
	}
	s.audit(ctx, store.AuditEvent{Type: EventIDTokenSignin, TenantID: u.TenantID, UserID: u.ID, SessionID: res.Session.ID,
		IP: in.IP, UserAgent: in.UserAgent, Details: map[string]any{"provider": in.Provider, "issuer": c.Issuer, "subject": c.Subject}})
	return res, nil
}

// FederatedUser verifies rawIDToken as an ID token of the tenant's provider
// providerName and returns the active local user it belongs to. An identity
// seen for the first time is linked to the user with the same email when
// the provider allows linking by email and the email is verified, else a
// user is created when the provider allows provisioning; otherwise the
// token is refused. It is the shared step of every sign-in with an external
// token (the native ID-token sign-in and the OAuth 2.0 token exchange).
func (s *Service) FederatedUser(ctx context.Context, tenantID, providerName, rawIDToken string, m Meta) (store.User, federation.Claims, error) {
	if providerName == "" || rawIDToken == "" {
		return store.User{}, federation.Claims{}, invalid("id_token and provider are required")
	}
	p, err := s.lookupProvider(ctx, tenantID, providerName)
	if err != nil {
		return store.User{}, federation.Claims{}, err
	}
	c, err := s.fed.Verify(ctx, p, rawIDToken)
	if err != nil {
		var fe *federation.Error
		if errors.As(err, &fe) {
			s.log.InfoContext(ctx, "id token refused", "tenant", tenantID, "provider", p.Name, "reason", fe.Reason, "err", fe.Err)
			return store.User{}, federation.Claims{}, &Error{Code: CodeInvalidIDToken, Message: "the ID token is invalid: " + fe.Detail, Err: err}
		}
		return store.User{}, federation.Claims{}, fmt.Errorf("verify id token: %w", err)
	}
	u, err := s.identityUser(ctx, p, c, m)
	if err != nil {
		return store.User{}, federation.Claims{}, err
	}
	if u.Status != store.StatusActive {
		s.audit(ctx, event(EventLoginFailed, tenantID, u.ID, m, map[string]any{"reason": "account_" + u.Status, "method": "fed", "provider": p.Name}))
		return store.User{}, federation.Claims{}, newError(CodeAccountDisabled, "the account is "+u.Status)
	}
	return u, c, nil
}

var errNotLinked = newError(CodeInvalidIDToken, "the ID token is valid but no account is linked to this identity")

// identityUser returns the user linked to the identity (c.Issuer,
// c.Subject), linking or provisioning one as the provider allows.
func (s *Service) identityUser(ctx context.Context, p store.Provider, c federation.Claims, m Meta) (store.User, error) {
	if u, ok, err := s.linkedUser(ctx, p.TenantID, c); ok || err != nil {
		return u, err
	}
	// Only an ASCII email links: emails compare by ASCII case only, and a
	// look-alike (the Kelvin sign for "k") must never reach someone else's
	// account.
	if p.LinkByEmail && c.EmailVerified && c.Email != "" && names.IsASCII(c.Email) {
		u, err := s.store.GetUserByEmail(ctx, p.TenantID, c.Email)
		switch {
		case err == nil:
			return s.linkByEmail(ctx, p, c, u, m)
		case !errors.Is(err, store.ErrNotFound):
			return store.User{}, fmt.Errorf("find user by email: %w", err)
		}
	}
	if !p.AutoProvision {
		return store.User{}, errNotLinked
	}
	return s.provision(ctx, p, c, m)
}

// linkedUser returns the user the identity is linked to, if any.
func (s *Service) linkedUser(ctx context.Context, tenantID string, c federation.Claims) (store.User, bool, error) {
	id, err := s.store.GetIdentity(ctx, tenantID, c.Issuer, c.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, fmt.Errorf("get identity: %w", err)
	}
	u, err := s.store.GetUser(ctx, tenantID, id.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, nil // deleted meanwhile; its identities go with it
	}
	if err != nil {
		return store.User{}, false, fmt.Errorf("get linked user: %w", err)
	}
	return u, true, nil
}

func (s *Service) newIdentity(p store.Provider, c federation.Claims, userID string) store.Identity {
	return store.Identity{TenantID: p.TenantID, Issuer: c.Issuer, Subject: c.Subject, Provider: p.Name,
		UserID: userID, Email: c.Email, CreatedAt: s.clock.Now()}
}

// linkByEmail links the identity to u, the user with its verified email.
func (s *Service) linkByEmail(ctx context.Context, p store.Provider, c federation.Claims, u store.User, m Meta) (store.User, error) {
	err := s.store.LinkIdentity(ctx, s.newIdentity(p, c, u.ID))
	if errors.Is(err, store.ErrConflict) {
		// A concurrent sign-in linked it first: use its link.
		if lu, ok, err := s.linkedUser(ctx, p.TenantID, c); ok || err != nil {
			return lu, err
		}
	}
	if err != nil {
		return store.User{}, storeErr(err, "identity")
	}
	s.auditLink(ctx, p, c, u.ID, "email", m)
	return u, nil
}

// provision creates a user for the identity from its claims. The email is
// taken only when verified and ASCII: an unverified address could squat the
// account its real owner later links by email. A verified email already
// held by another account refuses the sign-in, as linking it is not
// allowed; the answer is the same as for any identity without an account,
// so that it never tells the caller that a local account has this email.
func (s *Service) provision(ctx context.Context, p store.Provider, c federation.Claims, m Meta) (store.User, error) {
	email := ""
	if c.EmailVerified && validEmail(c.Email) && len(c.Email) <= 254 && names.IsASCII(c.Email) {
		email = c.Email
		if _, err := s.store.GetUserByEmail(ctx, p.TenantID, email); err == nil {
			s.log.Info("id token refused: its email belongs to a local account and the provider does not link by email",
				"tenant", p.TenantID, "provider", p.Name)
			return store.User{}, errNotLinked
		} else if !errors.Is(err, store.ErrNotFound) {
			return store.User{}, fmt.Errorf("find user by email: %w", err)
		}
	}
	now := s.clock.Now()
	for _, candidate := range usernameCandidates(p, c, email) {
		name, err := PrepareUsername(candidate)
		if err != nil {
			continue
		}
		u := store.User{
			TenantID:    p.TenantID,
			ID:          newUserID(),
			Username:    name,
			Email:       email,
			DisplayName: displayName(c),
			AvatarURL:   avatarURL(c.Picture),
			Groups:      []string{},
			Roles:       []string{},
			Attributes:  map[string]any{},
			Status:      store.StatusActive,
			CreatedAt:   now,
			UpdatedAt:   now,
		}
		if validateUser(u) != nil {
			continue
		}
		err = s.store.ProvisionUser(ctx, u, s.newIdentity(p, c, u.ID))
		if err == nil {
			s.audit(ctx, event(EventUserCreated, p.TenantID, u.ID, Meta{IP: m.IP, UserAgent: m.UserAgent, Actor: "provider:" + p.Name},
				map[string]any{"provider": p.Name}))
			s.auditLink(ctx, p, c, u.ID, "provisioned", m)
			return u, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return store.User{}, fmt.Errorf("provision user: %w", err)
		}
		// Either a concurrent sign-in provisioned this identity first, or
		// the username is taken: use the link, or try the next name.
		if lu, ok, err := s.linkedUser(ctx, p.TenantID, c); ok || err != nil {
			return lu, err
		}
	}
	return store.User{}, newError(CodeInvalidIDToken, "no account could be created for this identity")
}

func (s *Service) auditLink(ctx context.Context, p store.Provider, c federation.Claims, userID, method string, m Meta) {
	s.audit(ctx, event(EventIdentityLinked, p.TenantID, userID, m, map[string]any{
		"provider": p.Name, "issuer": c.Issuer, "subject": c.Subject, "method": method,
	}))
}

// phoneLike matches usernames that the password sign-in could mistake for
// a phone number.
var phoneLike = regexp.MustCompile(`^\+?[0-9 ().-]+$`)

// usernameCandidates are the usernames tried for a provisioned user, in
// order: the preferred_username (unless it looks like an email or a phone
// number, which the password sign-in also matches), the verified email,
// then names derived from the provider and subject, the last one random.
func usernameCandidates(p store.Provider, c federation.Claims, verifiedEmail string) []string {
	var out []string
	if pu := c.PreferredUsername; pu != "" && !strings.Contains(pu, "@") && !phoneLike.MatchString(pu) {
		out = append(out, pu)
	}
	if verifiedEmail != "" {
		out = append(out, verifiedEmail)
	}
	sub := truncateRunes(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, c.Subject), 96)
	out = append(out, p.Name+"_"+sub)
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	suffix := hex.EncodeToString(b[:])
	// The last candidate is valid whatever the subject holds (spaces or
	// characters the username profile refuses).
	return append(out, p.Name+"_"+sub+"_"+suffix, p.Name+"_"+suffix)
}

func displayName(c federation.Claims) string {
	name := strings.TrimSpace(c.Name)
	if name == "" {
		name = strings.TrimSpace(c.GivenName + " " + c.FamilyName)
	}
	return truncateRunes(name, 256)
}

// avatarURL keeps a picture claim that is an http(s) URL of sane length.
func avatarURL(pic string) string {
	if len(pic) > 2048 || federation.CheckURL(pic) != nil {
		return ""
	}
	return pic
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
