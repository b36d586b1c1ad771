package core

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// Rules of app-backend sessions.
const (
	// AppSessionMinLifetime is the default and the minimum lifetime of an
	// app session (the `valid` of login/verify is clamped to it).
	AppSessionMinLifetime = 7 * 24 * time.Hour
	// AppSessionMaxLifetime is the maximum lifetime of an app session.
	AppSessionMaxLifetime = 30 * 24 * time.Hour
	// AppPayloadMaxLen is the longest payload, in characters.
	AppPayloadMaxLen = 31
	// AppGrantType is the only grant type login/verify accepts.
	AppGrantType = "refresh_token"
	// ReasonAppDestroyed is recorded on app sessions their client destroyed.
	ReasonAppDestroyed = "app_destroyed"
)

// AppLogin is an application backend's request to open an app session for
// the user of a Gatehouse access token.
type AppLogin struct {
	Client    store.Client // the authenticated calling client
	Token     string       // the user's access token
	GrantType string
	ClientIP  string        // the user's address as the backend saw it; optional
	Valid     time.Duration // requested lifetime; 0 means the default
	Payload   string
	Meta
}

// AppLogin verifies a user's first-party access token (signature,
// lifetime, tenant of the client, audience, session alive in the store,
// user active) and opens an app session owned by the calling client, as a
// child of the token's session: revoking that session revokes the app
// session too. Its refresh token never rotates and lives as long as the
// session; its access tokens have the client alone as their audience and
// carry the payload. Errors: CodeInvalidRequest for a bad parameter,
// CodeUnauthorized (or CodePasswordChangeRequired) for a bad token.
func (s *Service) AppLogin(ctx context.Context, in AppLogin) (LoginResult, error) {
	if err := requireAppClient(in.Client); err != nil {
		return LoginResult{}, err
	}
	if in.Token == "" {
		return LoginResult{}, invalid("token is required")
	}
	if in.GrantType != AppGrantType {
		return LoginResult{}, invalid("grantType must be " + AppGrantType)
	}
	if err := checkAppPayload(in.Payload); err != nil {
		return LoginResult{}, err
	}
	ip := in.IP
	if in.ClientIP != "" {
		a, err := netip.ParseAddr(in.ClientIP)
		if err != nil {
			return LoginResult{}, invalid("clientIp must be an IP address")
		}
		ip = a.Unmap().String()
	}
	p, err := s.Authenticate(ctx, in.Client.TenantID, in.Token, false)
	if err != nil {
		return LoginResult{}, err
	}
	now := s.clock.Now()
	from, err := s.store.GetSession(ctx, p.TenantID, p.SessionID)
	if err != nil {
		return LoginResult{}, unauthorizedIfMissing(err, "read session")
	}
	if !from.Live(now) || from.Kind != store.SessionUser || !from.FirstParty {
		return LoginResult{}, errUnauthorized
	}
	u, err := s.activeUser(ctx, p.TenantID, p.Subject, errUnauthorized)
	if err != nil {
		return LoginResult{}, err
	}
	res, err := s.startSession(ctx, u, SessionParams{
		ClientID: in.Client.ID, AMR: p.AMR, Actor: p.Actor, IP: ip, UserAgent: in.UserAgent,
		Kind: store.SessionApp, Payload: in.Payload, Lifetime: clampAppLifetime(in.Valid),
		ClientBound: true, ParentID: from.ID,
	})
	if err != nil {
		return LoginResult{}, err
	}
	s.rememberAppSession(res.Session, now)
	e := event(EventAppSessionCreated, u.TenantID, u.ID, in.Meta, map[string]any{"client_id": in.Client.ID, "from_session": from.ID})
	e.SessionID, e.IP = res.Session.ID, ip
	s.audit(ctx, e)
	return res, nil
}

// AppRefresh answers a fresh access token for an app session, found by its
// (non-rotating) refresh token; the refresh token stays the same.
// CodeInvalidGrant when the token is not a live app session of the client.
func (s *Service) AppRefresh(ctx context.Context, c store.Client, refresh string, m Meta) (LoginResult, error) {
	sess, err := s.useAppSession(ctx, c, refresh, nil)
	if err != nil {
		return LoginResult{}, err
	}
	u, err := s.activeUser(ctx, sess.TenantID, sess.UserID, errInvalidGrant)
	if err != nil {
		return LoginResult{}, err
	}
	now := s.clock.Now()
	s.rememberAppSession(sess, now)
	return s.issue(u, sess, refresh, newRandomID(), now)
}

// AppSetPayload changes the payload of an app session. With newAccess, the
// result carries a new access token with the new payload; otherwise only
// the session and its unchanged refresh token.
func (s *Service) AppSetPayload(ctx context.Context, c store.Client, refresh, payload string, newAccess bool, m Meta) (LoginResult, error) {
	if err := checkAppPayload(payload); err != nil {
		return LoginResult{}, err
	}
	sess, err := s.useAppSession(ctx, c, refresh, &payload)
	if err != nil {
		return LoginResult{}, err
	}
	if !newAccess {
		return LoginResult{Session: sess, RefreshToken: refresh}, nil
	}
	u, err := s.activeUser(ctx, sess.TenantID, sess.UserID, errInvalidGrant)
	if err != nil {
		return LoginResult{}, err
	}
	return s.issue(u, sess, refresh, newRandomID(), s.clock.Now())
}

// AppDestroy revokes an app session: its refresh token and every access
// token it issued stop working at once.
func (s *Service) AppDestroy(ctx context.Context, c store.Client, refresh string, m Meta) error {
	q, err := s.appQuery(c, refresh)
	if err != nil {
		return err
	}
	sess, err := s.store.GetAppSession(ctx, q)
	if errors.Is(err, store.ErrNotFound) {
		return errInvalidGrant
	}
	if err != nil {
		return fmt.Errorf("find app session: %w", err)
	}
	if err := s.revokeSession(ctx, sess.TenantID, sess.ID, ReasonAppDestroyed, m); err != nil {
		return err
	}
	s.apps.live.forget(liveKey(sess.TenantID, sess.ID))
	return nil
}

// AppVerifyAccess verifies an app access token for the calling client:
// signature and lifetime, the client's tenant, issued to this very client,
// session not revoked, and the session an app session of this client. The
// last check reads the store once per session; afterwards the session is
// known to be alive and only the in-memory revocation set is consulted, so
// the usual call costs no database round trip and a revocation is honoured
// at once in this process and within the revocation poll interval in
// others. CodeUnauthorized (or CodePasswordChangeRequired) otherwise.
func (s *Service) AppVerifyAccess(ctx context.Context, c store.Client, raw string) (Principal, error) {
	if err := requireAppClient(c); err != nil {
		return Principal{}, err
	}
	if raw == "" {
		return Principal{}, invalid("token is required")
	}
	p, err := s.authenticateAny(ctx, c.TenantID, raw, false)
	if err != nil {
		return Principal{}, err
	}
	if p.ClientID != c.ID {
		return Principal{}, errUnauthorized
	}
	now := s.clock.Now()
	if owner, ok := s.apps.live.get(liveKey(p.TenantID, p.SessionID), now); ok && owner == c.ID {
		return p, nil
	}
	sess, err := s.store.GetSession(ctx, p.TenantID, p.SessionID)
	if err != nil {
		return Principal{}, unauthorizedIfMissing(err, "read session")
	}
	if !sess.Live(now) || sess.Kind != store.SessionApp || sess.ClientID != c.ID {
		return Principal{}, errUnauthorized
	}
	s.rememberAppSession(sess, now)
	return p, nil
}

// AppUserInfo returns the user of an app access token (see AppVerifyAccess).
func (s *Service) AppUserInfo(ctx context.Context, c store.Client, raw string) (store.User, error) {
	p, err := s.AppVerifyAccess(ctx, c, raw)
	if err != nil {
		return store.User{}, err
	}
	return s.activeUser(ctx, p.TenantID, p.Subject, errUnauthorized)
}

// useAppSession finds the client's live app session of a refresh token,
// touching it and setting its payload when payload is not nil.
func (s *Service) useAppSession(ctx context.Context, c store.Client, refresh string, payload *string) (store.Session, error) {
	q, err := s.appQuery(c, refresh)
	if err != nil {
		return store.Session{}, err
	}
	sess, err := s.store.UseAppSession(ctx, q, payload)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, errInvalidGrant
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("use app session: %w", err)
	}
	return sess, nil
}

// appQuery checks the client and the presented refresh token and names the
// app session they select.
func (s *Service) appQuery(c store.Client, refresh string) (store.AppSessionQuery, error) {
	if err := requireAppClient(c); err != nil {
		return store.AppSessionQuery{}, err
	}
	if refresh == "" {
		return store.AppSessionQuery{}, invalid("token is required")
	}
	if len(refresh) > maxOpaqueLen {
		return store.AppSessionQuery{}, errInvalidGrant
	}
	return store.AppSessionQuery{TenantID: c.TenantID, ClientID: c.ID, RefreshHash: token.HashOpaque(refresh), Now: s.clock.Now()}, nil
}

// activeUser reads a user who must exist and be active; otherwise it
// answers denied.
func (s *Service) activeUser(ctx context.Context, tenantID, id string, denied error) (store.User, error) {
	u, err := s.store.GetUser(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, denied
	}
	if err != nil {
		return store.User{}, fmt.Errorf("read user: %w", err)
	}
	if u.Status != store.StatusActive {
		return store.User{}, denied
	}
	return u, nil
}

// rememberAppSession records a live app session so that verifying its
// access tokens needs no store read until it expires.
func (s *Service) rememberAppSession(sess store.Session, now time.Time) {
	s.apps.live.put(liveKey(sess.TenantID, sess.ID), sess.ClientID, sess.ExpiresAt, now)
}

func liveKey(tenantID, sessionID string) string { return tenantID + "\x00" + sessionID }

// requireAppClient refuses public clients: the app family authenticates
// every call with a secret.
func requireAppClient(c store.Client) error {
	if c.ID == "" || c.Public {
		return errInvalidClient
	}
	return nil
}

func checkAppPayload(p string) error {
	if utf8.RuneCountInString(p) > AppPayloadMaxLen {
		return invalid(fmt.Sprintf("payload must be shorter than %d characters", AppPayloadMaxLen+1))
	}
	if !utf8.ValidString(p) || hasNUL(p) {
		return invalid("payload must be UTF-8 text without NUL characters")
	}
	return nil
}

// clampAppLifetime applies the default and the bounds of an app session's lifetime.
func clampAppLifetime(d time.Duration) time.Duration {
	switch {
	case d < AppSessionMinLifetime:
		return AppSessionMinLifetime
	case d > AppSessionMaxLifetime:
		return AppSessionMaxLifetime
	}
	return d
}

// unauthorizedIfMissing maps a store's not-found to CodeUnauthorized.
func unauthorizedIfMissing(err error, op string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errUnauthorized
	}
	return fmt.Errorf("%s: %w", op, err)
}
