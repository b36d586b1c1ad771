package core

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// authorizationCodeGrant redeems an authorization code (RFC 6749 §4.1.3)
// for the authenticated client c: the code must be the client's, unused,
// unexpired, presented with the redirect_uri it was issued for and the
// PKCE verifier of its challenge (RFC 7636 §4.6). A code presented a
// second time is refused and the session issued from it is revoked
// (RFC 6749 §4.1.2). The new session is linked to the browser session, so
// that logging out ends it.
func (s *Service) authorizationCodeGrant(ctx context.Context, c store.Client, in TokenRequest) (TokenResult, error) {
	switch {
	case in.Code == "":
		return TokenResult{}, invalid("code is required")
	case in.RedirectURI == "":
		return TokenResult{}, invalid("redirect_uri is required")
	case len(in.Code) > maxOpaqueLen:
		return TokenResult{}, errInvalidCode
	}
	hash := token.HashOpaque(in.Code)
	code, err := s.store.GetAuthCode(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return TokenResult{}, errInvalidCode
	}
	if err != nil {
		return TokenResult{}, fmt.Errorf("read authorization code: %w", err)
	}
	if code.TenantID != c.TenantID || code.ClientID != c.ID {
		return TokenResult{}, errInvalidCode
	}
	now := s.clock.Now()
	if !code.UsedAt.IsZero() {
		return TokenResult{}, s.codeReused(ctx, code, in.Meta)
	}
	if !now.Before(code.ExpiresAt) {
		return TokenResult{}, errInvalidCode
	}
	if !token.Equal(in.RedirectURI, code.RedirectURI) {
		return TokenResult{}, newError(CodeInvalidGrant, "redirect_uri differs from the one the code was issued for")
	}
	if err := checkVerifier(code.CodeChallenge, in.CodeVerifier); err != nil {
		return TokenResult{}, err
	}
	// A browser signed out (or signed in again) since: the code dies with it.
	b, err := s.store.GetBrowserSessionByID(ctx, code.TenantID, code.BrowserSessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !b.RevokedAt.IsZero()) {
		return TokenResult{}, errInvalidCode
	}
	if err != nil {
		return TokenResult{}, fmt.Errorf("read browser session: %w", err)
	}
	u, err := s.store.GetUser(ctx, c.TenantID, code.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return TokenResult{}, errInvalidCode
	}
	if err != nil {
		return TokenResult{}, fmt.Errorf("read user: %w", err)
	}
	if u.Status != store.StatusActive {
		return TokenResult{}, newError(CodeInvalidGrant, "the account is disabled")
	}
	if s.passwordState(u, now).Restricted {
		return TokenResult{}, grantError(newError(CodePasswordChangeRequired, "the password must be changed first"))
	}
	offline := s.offline(c, code.Scope)
	// The code is used and the session created in one conditional write:
	// of concurrent redemptions exactly one wins, and a replay finds the
	// session to revoke.
	res, err := s.startSession(ctx, u, SessionParams{AMR: code.AMR, IP: in.IP,
		UserAgent: in.UserAgent, Scope: code.Scope, Lifetime: s.grantLifetime(offline),
		BrowserSessionID: code.BrowserSessionID, AuthTime: code.AuthTime, RedeemCode: hash,
		RedeemAudit: store.AuditEvent{Time: now, Type: EventLoginSucceeded, TenantID: u.TenantID, UserID: u.ID,
			IP: in.IP, UserAgent: in.UserAgent, Details: map[string]any{"method": "authorization_code", "client_id": c.ID,
				"browser_session": code.BrowserSessionID}}}.forClient(c))
	if errors.Is(err, store.ErrConflict) {
		if code, gerr := s.store.GetAuthCode(ctx, hash); gerr == nil && !code.UsedAt.IsZero() {
			return TokenResult{}, s.codeReused(ctx, code, in.Meta)
		}
		return TokenResult{}, errInvalidCode
	}
	if errors.Is(err, store.ErrNotFound) {
		return TokenResult{}, errInvalidCode
	}
	if err != nil {
		return TokenResult{}, err
	}
	res.nonce = code.Nonce
	return s.tokenResult(c, res, code.Scope, offline)
}

// ReasonCodeReused is recorded on a session revoked because the code it
// was issued from came back.
const ReasonCodeReused = "authorization_code_reused"

var errInvalidCode = newError(CodeInvalidGrant, "the authorization code is invalid, expired or was already used")

// codeReused revokes the session issued from a code presented again.
func (s *Service) codeReused(ctx context.Context, code store.AuthCode, m Meta) error {
	if code.SessionID != "" {
		sess, children, err := s.store.RevokeSession(ctx, code.TenantID, code.SessionID, s.clock.Now(), ReasonCodeReused)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("revoke session of a reused code: %w", err)
		}
		if err == nil {
			s.noteRevoked(append(children, sess)...)
		}
	}
	e := event(EventAuthCodeReused, code.TenantID, code.UserID, m, map[string]any{"client_id": code.ClientID})
	e.SessionID = code.SessionID
	s.audit(ctx, e)
	return errInvalidCode
}

// checkVerifier checks a PKCE verifier against the code's S256 challenge
// (RFC 7636 §4.6), in constant time.
func checkVerifier(challenge, verifier string) error {
	if challenge == "" {
		return nil
	}
	if verifier == "" {
		return invalid("code_verifier is required")
	}
	if len(verifier) < 43 || len(verifier) > 128 || !validPKCEValue(verifier) {
		return newError(CodeInvalidGrant, "code_verifier must be 43-128 unreserved characters")
	}
	sum := sha256.Sum256([]byte(verifier))
	if !token.Equal(base64.RawURLEncoding.EncodeToString(sum[:]), challenge) {
		return newError(CodeInvalidGrant, "code_verifier does not match the code_challenge")
	}
	return nil
}
