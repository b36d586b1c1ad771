package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// LoginResult is what every successful sign-in and refresh produces; each
// family encodes it in its own shape.
type LoginResult struct {
	User         store.User
	Session      store.Session
	AccessToken  string
	RefreshToken string
	ExpiresIn    int // access token lifetime in seconds
	Password     PasswordState
	Claims       token.Claims

	// Risk is the assessment of a password sign-in; nil for other sign-ins.
	Risk *RiskAssessment
	// Challenge is set, instead of tokens and a session, when the sign-in
	// needs a second factor (complete it with VerifyMFA).
	Challenge *Challenge
	// Browser is set, instead of tokens and a session, by a sign-in of the
	// hosted pages (PasswordLogin.Browser).
	Browser *BrowserSignIn

	nonce string // the ID token's nonce (authorization code flow)
}

// DefaultClientID is the client of sign-ins that name none.
const DefaultClientID = "gatehouse"

// SessionParams describe the session a sign-in creates.
type SessionParams struct {
	ClientID  string
	AMR       []string
	Actor     string // acting admin for impersonation
	IP        string
	UserAgent string
	Kind      string // store.SessionUser (default) or store.SessionApp
	Payload   string
	// Scope is the OAuth 2.0 scope granted to the session (space-separated).
	Scope string
	// Lifetime overrides the session's absolute lifetime (app sessions).
	Lifetime time.Duration
	// FirstParty and ClientBound follow from the client (forClient); a
	// session of the built-in client is always first-party and unbound, and
	// only user sessions can be first-party.
	FirstParty  bool
	ClientBound bool
	// ParentID is the session an app session was opened from.
	ParentID string
	// ID presets the session id (authorization codes record it first).
	ID string
	// BrowserSessionID links the session to the browser session that started it.
	BrowserSessionID string
	// AuthTime is when the user signed in, when earlier than now.
	AuthTime time.Time
	// ReplacesBrowser is the browser session a browser sign-in supersedes.
	ReplacesBrowser string
	// RedeemCode is the hash of the authorization code the session is
	// issued from: it is used in the same write that creates the session
	// (store.RedeemAuthCode), whose ErrConflict and ErrNotFound come back
	// unwrapped.
	RedeemCode string
	// RedeemAudit is written with the redemption.
	RedeemAudit store.AuditEvent
}

// startSession creates a session with its first refresh token and signs the
// first access token.
func (s *Service) startSession(ctx context.Context, u store.User, p SessionParams) (LoginResult, error) {
	now := s.clock.Now()
	lifetime := s.policy.SessionMaxLifetime
	if p.Lifetime > 0 {
		lifetime = p.Lifetime
	}
	if p.ClientID == "" || p.ClientID == DefaultClientID {
		p = p.forClient(BuiltinClient(u.TenantID))
	}
	kind := p.Kind
	if kind == "" {
		kind = store.SessionUser
	}
	if kind != store.SessionUser {
		p.FirstParty = false // app and client-credentials tokens are never first-party
	}
	sess := store.Session{
		TenantID:    u.TenantID,
		ID:          newRandomID(),
		UserID:      u.ID,
		ClientID:    p.ClientID,
		Kind:        kind,
		AMR:         p.AMR,
		Actor:       p.Actor,
		IP:          p.IP,
		UserAgent:   p.UserAgent,
		Payload:     p.Payload,
		Scope:       p.Scope,
		FirstParty:  p.FirstParty,
		ClientBound: p.ClientBound,
		ParentID:    p.ParentID,
		CreatedAt:   now,
		LastUsedAt:  now,
		AuthTime:    now,
		ExpiresAt:   now.Add(lifetime),

		BrowserSessionID: p.BrowserSessionID,
	}
	if p.ID != "" {
		sess.ID = p.ID
	}
	if !p.AuthTime.IsZero() {
		sess.AuthTime = p.AuthTime
	}
	refresh := token.NewOpaque()
	rt := store.RefreshToken{
		Hash:       token.HashOpaque(refresh),
		TenantID:   u.TenantID,
		SessionID:  sess.ID,
		Generation: 1,
		CreatedAt:  now,
		ExpiresAt:  minTime(now.Add(s.policy.RefreshTTL), sess.ExpiresAt),
	}
	if kind == store.SessionApp {
		rt.ExpiresAt = sess.ExpiresAt // app refresh tokens do not rotate: they live as long as the session
	}
	if p.RedeemCode != "" {
		if err := s.store.RedeemAuthCode(ctx, p.RedeemCode, now, sess, rt, p.RedeemAudit); err != nil {
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				return LoginResult{}, err
			}
			return LoginResult{}, fmt.Errorf("redeem authorization code: %w", err)
		}
	} else if err := s.store.CreateSession(ctx, sess, rt); err != nil {
		return LoginResult{}, fmt.Errorf("create session: %w", err)
	}
	return s.issue(u, sess, refresh, newRandomID(), now)
}

// issue signs the access token of a session for user u and assembles the
// result. jti and iat are parameters so that a leeway retry can re-create
// the very same token.
func (s *Service) issue(u store.User, sess store.Session, refresh, jti string, iat time.Time) (LoginResult, error) {
	pw := s.passwordState(u, iat)
	claims := s.accessClaims(u, sess, jti, iat)
	claims.Restricted = pw.Restricted
	at, err := s.keys.Sign(claims)
	if err != nil {
		return LoginResult{}, fmt.Errorf("sign access token: %w", err)
	}
	return LoginResult{
		User:         u,
		Session:      sess,
		AccessToken:  at,
		RefreshToken: refresh,
		ExpiresIn:    int(claims.ExpiresAt.Sub(iat) / time.Second),
		Password:     pw,
		Claims:       claims,
	}, nil
}

// accessClaims builds the claims of an access token. The audience is the
// issuer (Gatehouse's own endpoints) and the client for a first-party
// session, else the client alone (see audience).
func (s *Service) accessClaims(u store.User, sess store.Session, jti string, iat time.Time) token.Claims {
	aud := s.audience(sess)
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return token.Claims{
		Issuer:    s.policy.Issuer,
		Subject:   u.ID,
		Audience:  aud,
		IssuedAt:  iat,
		NotBefore: iat,
		ExpiresAt: minTime(iat.Add(s.policy.AccessTTL), sess.ExpiresAt),
		ID:        jti,
		SessionID: sess.ID,
		TenantID:  sess.TenantID,
		ClientID:  sess.ClientID,
		Roles:     roles,
		AMR:       sess.AMR,
		Actor:     sess.Actor,
		Payload:   sess.Payload,
		Scope:     sess.Scope,
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
