package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// Audit events of the browser flows.
const (
	EventBrowserSignIn       = "browser_signin"
	EventConsentGranted      = "consent_granted"
	EventConsentDenied       = "consent_denied"
	EventConsentRevoked      = "consent_revoked"
	EventAuthCodeIssued      = "authorization_code_issued"
	EventAuthCodeReused      = "authorization_code_reused"
	EventBrowserSessionEnded = "browser_session_ended"
)

// ReasonBrowserLogout is recorded on sessions ended with their browser session.
const ReasonBrowserLogout = "browser_logout"

// Defaults of the browser session lifetimes.
const (
	defaultBrowserSessionTTL      = 8 * time.Hour
	defaultBrowserSessionLifetime = 7 * 24 * time.Hour
	// browserReauthMaxAge is how long after a sign-in a browser may change
	// the password without typing the old one again.
	browserReauthMaxAge = 5 * time.Minute
)

// BrowserSignIn is the browser session a hosted sign-in created, with the
// secret for its cookie (shown this once; only its hash is stored).
type BrowserSignIn struct {
	Session store.BrowserSession
	Cookie  string
}

func (p Policy) browserTTL() time.Duration {
	if p.BrowserSessionTTL > 0 {
		return p.BrowserSessionTTL
	}
	return defaultBrowserSessionTTL
}

func (p Policy) browserLifetime() time.Duration {
	if p.BrowserSessionMaxLifetime > 0 {
		return p.BrowserSessionMaxLifetime
	}
	return defaultBrowserSessionLifetime
}

// startBrowserSession creates a browser session for u: a new id and a new
// secret at every sign-in, so that a cookie set before the sign-in (by
// anyone) is never promoted to a signed-in one.
func (s *Service) startBrowserSession(ctx context.Context, u store.User, amr []string, replaces string, m Meta) (LoginResult, error) {
	now := s.clock.Now()
	secret := token.NewOpaque()
	b := store.BrowserSession{
		TenantID: u.TenantID, ID: newRandomID(), Hash: token.HashOpaque(secret), UserID: u.ID, AMR: amr,
		IP: m.IP, UserAgent: m.UserAgent, AuthTime: now, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.policy.browserLifetime()),
	}
	b.IdleExpiresAt = minTime(now.Add(s.policy.browserTTL()), b.ExpiresAt)
	if err := s.store.CreateBrowserSession(ctx, b, replaces); err != nil {
		return LoginResult{}, fmt.Errorf("create browser session: %w", err)
	}
	e := event(EventBrowserSignIn, u.TenantID, u.ID, m, map[string]any{"browser_session": b.ID, "amr": amr, "replaces": replaces})
	s.audit(ctx, e)
	return LoginResult{User: u, Password: s.passwordState(u, now), Browser: &BrowserSignIn{Session: b, Cookie: secret}}, nil
}

// signInSession creates what a successful sign-in produces: a browser
// session for the hosted pages, a token session otherwise.
func (s *Service) signInSession(ctx context.Context, u store.User, browser bool, p SessionParams) (LoginResult, error) {
	if browser {
		return s.startBrowserSession(ctx, u, p.AMR, p.ReplacesBrowser, Meta{IP: p.IP, UserAgent: p.UserAgent})
	}
	return s.startSession(ctx, u, p)
}

// browserSession returns the live browser session of a cookie in tenantID
// and moves its idle expiry forward; ok is false for a missing, unknown,
// expired, ended or other-tenant cookie.
func (s *Service) browserSession(ctx context.Context, tenantID, cookie string) (store.BrowserSession, bool, error) {
	if cookie == "" || len(cookie) > maxOpaqueLen {
		return store.BrowserSession{}, false, nil
	}
	b, err := s.store.GetBrowserSession(ctx, token.HashOpaque(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return store.BrowserSession{}, false, nil
	}
	if err != nil {
		return store.BrowserSession{}, false, fmt.Errorf("read browser session: %w", err)
	}
	now := s.clock.Now()
	if b.TenantID != tenantID || !b.Live(now) {
		return store.BrowserSession{}, false, nil
	}
	idle := minTime(now.Add(s.policy.browserTTL()), b.ExpiresAt)
	if idle.Sub(b.IdleExpiresAt) > time.Minute { // one write per minute of use at most
		if err := s.store.TouchBrowserSession(ctx, b.TenantID, b.ID, now, idle); err != nil {
			return store.BrowserSession{}, false, fmt.Errorf("touch browser session: %w", err)
		}
		b.IdleExpiresAt, b.LastSeenAt = idle, now
	}
	return b, true, nil
}

// endBrowserSession ends a browser session and every session it started;
// found is false when there is no such browser session.
func (s *Service) endBrowserSession(ctx context.Context, b store.BrowserSession, m Meta) (found bool, err error) {
	ended, err := s.store.EndBrowserSession(ctx, b.TenantID, b.ID, s.clock.Now(), ReasonBrowserLogout)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("end browser session: %w", err)
	}
	s.noteRevoked(ended...)
	ids := make([]string, len(ended))
	for i, sess := range ended {
		ids[i] = sess.ID
		e := event(EventSessionRevoked, b.TenantID, sess.UserID, m, map[string]any{"reason": ReasonBrowserLogout, "client_id": sess.ClientID})
		e.SessionID = sess.ID
		s.audit(ctx, e)
	}
	userID := b.UserID
	if userID == "" && len(ended) > 0 {
		userID = ended[0].UserID
	}
	s.audit(ctx, event(EventBrowserSessionEnded, b.TenantID, userID, m, map[string]any{"browser_session": b.ID, "sessions": ids}))
	return true, nil
}

func hashCookie(cookie string) string { return token.HashOpaque(cookie) }

// CSRFToken is the anti-forgery token of the hosted pages for binding (a
// browser's own random cookie and the pending request): a keyed hash, so
// that only this server can make one, and only for that browser.
func (s *Service) CSRFToken(binding string) string { return s.keyed.Sum("csrf", binding) }

// CheckCSRF reports, in constant time, whether tok is the CSRF token of binding.
func (s *Service) CheckCSRF(binding, tok string) bool {
	return tok != "" && binding != "" && token.Equal(s.CSRFToken(binding), tok)
}
