package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// Messages of the hosted pages. A wrong password and an unknown user read
// the same.
const (
	MsgBadCredentials = "The username or password is incorrect."
	MsgLocked         = "Too many failed attempts. Try again later."
	MsgDisabled       = "This account cannot sign in."
	MsgBadCode        = "The code is incorrect or was already used."
	MsgBusy           = "Too many sign-ins at once. Try again in a moment."
)

// challengeAAD binds a sealed MFA challenge to its purpose.
var challengeAAD = []byte("browser-mfa-challenge")

// pendingAt loads a pending request and checks that it waits on stage.
func (s *Service) pendingAt(ctx context.Context, handle, binding, stage string) (*pendingAuthz, store.Client, error) {
	pa, c, err := s.pending(ctx, handle, binding)
	if err != nil {
		return nil, store.Client{}, err
	}
	if pa.Stage != stage {
		return nil, store.Client{}, errRequestExpired
	}
	return pa, c, nil
}

// BrowserSignIn checks the username and password of the sign-in page of a
// pending request, through the very same LoginPassword as POST /auth/login
// (throttling, lockout, risk, second factor, disabled accounts). A refusal
// shows the page again with a message; success sets a new browser session
// and moves the request on.
func (s *Service) BrowserSignIn(ctx context.Context, handle, binding, cookie, username, password string, m Meta) (BrowserStep, error) {
	pa, c, err := s.pendingAt(ctx, handle, binding, StepSignIn)
	if err != nil {
		return BrowserStep{}, err
	}
	prev, _, err := s.browserSession(ctx, c.TenantID, cookie)
	if err != nil {
		return BrowserStep{}, err
	}
	// The client was validated with the authorization request; the page
	// signs the user in for it without the client's own credentials.
	res, err := s.LoginPassword(ctx, PasswordLogin{TenantID: c.TenantID, Username: username, Password: password,
		Client: &c, Meta: m, CanChallenge: true, Browser: true, PreviousBrowser: prev})
	if err != nil {
		if msg, locked, ok := pageMessage(err); ok {
			return s.page(ctx, c, pa, handle, BrowserStep{Message: msg, Locked: locked})
		}
		return BrowserStep{}, err
	}
	if res.Challenge != nil {
		sealed, err := s.sealer.Seal([]byte(res.Challenge.Token), challengeAAD)
		if err != nil {
			return BrowserStep{}, fmt.Errorf("seal challenge: %w", err)
		}
		pa.Stage, pa.Challenge, pa.Methods = StepMFA, sealed, res.Challenge.Methods
		return s.page(ctx, c, pa, handle, BrowserStep{})
	}
	return s.signedIn(ctx, c, pa, handle, res.Browser, m)
}

// signedIn continues a request after its browser session was created.
func (s *Service) signedIn(ctx context.Context, c store.Client, pa *pendingAuthz, handle string, b *BrowserSignIn, m Meta) (BrowserStep, error) {
	if b == nil {
		return BrowserStep{}, errors.New("browser sign-in: no browser session")
	}
	pa.BrowserSessionID, pa.Challenge, pa.Methods = b.Session.ID, nil, nil
	step, err := s.proceed(ctx, c, pa, handle, b.Cookie, m)
	if err != nil {
		return BrowserStep{}, err
	}
	step.Cookie = b
	return step, nil
}

// pageMessage turns the refusal of a sign-in into the message of its page;
// ok is false for errors that are not the user's (store down, ...).
func pageMessage(err error) (msg string, locked, ok bool) {
	e := AsError(err)
	switch e.Code {
	case CodeInvalidCredentials, CodeInvalidRequest:
		return MsgBadCredentials, false, true
	case CodeTooManyAttempts:
		return MsgLocked, true, true
	case CodeAccountDisabled:
		return MsgDisabled, false, true
	case CodeInvalidMFACode:
		return MsgBadCode, false, true
	case CodeUnavailable:
		return MsgBusy, false, true
	}
	return "", false, false
}

// BrowserMFA checks the code of the second-factor page through VerifyMFA:
// a TOTP code (digits) or a recovery code. A challenge that ended (too
// many wrong codes, expired) sends the browser back to the sign-in page.
func (s *Service) BrowserMFA(ctx context.Context, handle, binding, code string, m Meta) (BrowserStep, error) {
	pa, c, err := s.pendingAt(ctx, handle, binding, StepMFA)
	if err != nil {
		return BrowserStep{}, err
	}
	tok, err := s.sealer.Open(pa.Challenge, challengeAAD)
	if err != nil {
		return BrowserStep{}, fmt.Errorf("open challenge: %w", err)
	}
	code = strings.TrimSpace(code)
	method := MethodRecoveryCode
	if isDigits(strings.ReplaceAll(code, " ", "")) && slices.Contains(pa.Methods, MethodTOTP) {
		method, code = MethodTOTP, strings.ReplaceAll(code, " ", "")
	}
	if code == "" {
		return s.page(ctx, c, pa, handle, BrowserStep{Message: MsgBadCode})
	}
	res, err := s.VerifyMFA(ctx, MFAVerify{TenantID: c.TenantID, ChallengeToken: string(tok), Method: method, Code: code, Meta: m})
	if err != nil {
		e := AsError(err)
		if e.Code == CodeInvalidGrant || (e.Code == CodeInvalidMFACode && strings.Contains(e.Message, "ended")) {
			pa.Stage, pa.Challenge, pa.Methods = StepSignIn, nil, nil
			return s.page(ctx, c, pa, handle, BrowserStep{Message: "The sign-in expired. Sign in again."})
		}
		if msg, locked, ok := pageMessage(err); ok {
			return s.page(ctx, c, pa, handle, BrowserStep{Message: msg, Locked: locked})
		}
		return BrowserStep{}, err
	}
	return s.signedIn(ctx, c, pa, handle, res.Browser, m)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// BrowserChangePassword serves the forced password change page: the
// browser signed in moments ago (within browserReauthMaxAge), which stands
// for the old password. The change itself is ChangePassword's.
func (s *Service) BrowserChangePassword(ctx context.Context, handle, binding, cookie, newPassword string, m Meta) (BrowserStep, error) {
	pa, c, err := s.pendingAt(ctx, handle, binding, StepPassword)
	if err != nil {
		return BrowserStep{}, err
	}
	b, ok, err := s.browserSession(ctx, c.TenantID, cookie)
	if err != nil {
		return BrowserStep{}, err
	}
	if !ok || b.ID != pa.BrowserSessionID || s.clock.Now().Sub(b.AuthTime) > browserReauthMaxAge {
		pa.Stage, pa.BrowserSessionID = StepSignIn, ""
		return s.page(ctx, c, pa, handle, BrowserStep{Message: "Sign in again to change your password."})
	}
	err = s.changePassword(ctx, b.TenantID, b.UserID, newPassword, "", m)
	if err != nil {
		if e := AsError(err); e.Code == CodeInvalidRequest {
			return s.page(ctx, c, pa, handle, BrowserStep{Message: e.Message})
		}
		return BrowserStep{}, err
	}
	return s.proceed(ctx, c, pa, handle, cookie, m)
}

// consentNeeded reports whether the user must allow the client the
// request's scopes: never for first-party clients; always for prompt=consent;
// else unless a remembered consent covers every scope.
func (s *Service) consentNeeded(ctx context.Context, c store.Client, u store.User, r authzRequest) (bool, error) {
	if clientIsFirstParty(c) {
		return false, nil
	}
	if slices.Contains(r.Prompt, "consent") {
		return true, nil
	}
	k, err := s.store.GetConsent(ctx, u.TenantID, u.ID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read consent: %w", err)
	}
	for _, sc := range strings.Fields(r.Scope) {
		if !slices.Contains(k.Scopes, sc) {
			return true, nil
		}
	}
	return false, nil
}

// BrowserConsent records the decision of the consent page: allow
// remembers the scopes (added to what was allowed before) and issues the
// code; deny answers access_denied.
func (s *Service) BrowserConsent(ctx context.Context, handle, binding, cookie string, allow bool, m Meta) (BrowserStep, error) {
	pa, c, err := s.pendingAt(ctx, handle, binding, StepConsent)
	if err != nil {
		return BrowserStep{}, err
	}
	b, ok, err := s.browserSession(ctx, c.TenantID, cookie)
	if err != nil {
		return BrowserStep{}, err
	}
	if !ok || b.ID != pa.BrowserSessionID {
		return s.proceed(ctx, c, pa, handle, cookie, m) // signed out meanwhile: sign in again
	}
	scopes := strings.Fields(pa.Req.Scope)
	details := map[string]any{"client_id": c.ID, "scopes": scopes}
	if !allow {
		s.audit(ctx, event(EventConsentDenied, c.TenantID, b.UserID, m, details))
		return s.finish(ctx, handle, s.redirectError(pa.Req, CodeAccessDenied, "the user denied the request"))
	}
	now := s.clock.Now()
	k := store.Consent{TenantID: c.TenantID, UserID: b.UserID, ClientID: c.ID, CreatedAt: now, UpdatedAt: now}
	if old, err := s.store.GetConsent(ctx, c.TenantID, b.UserID, c.ID); err == nil {
		k.CreatedAt, k.Scopes = old.CreatedAt, old.Scopes
	} else if !errors.Is(err, store.ErrNotFound) {
		return BrowserStep{}, fmt.Errorf("read consent: %w", err)
	}
	for _, sc := range scopes {
		if !slices.Contains(k.Scopes, sc) {
			k.Scopes = append(k.Scopes, sc)
		}
	}
	if err := s.store.SaveConsent(ctx, k); err != nil {
		return BrowserStep{}, fmt.Errorf("save consent: %w", err)
	}
	s.audit(ctx, event(EventConsentGranted, c.TenantID, b.UserID, m, details))
	pa.Consented = true
	return s.proceed(ctx, c, pa, handle, cookie, m)
}

// Consents lists what a user allowed which clients.
func (s *Service) Consents(ctx context.Context, tenantID, userID string) ([]store.Consent, error) {
	if _, err := s.store.GetUser(ctx, tenantID, userID); err != nil {
		return nil, storeErr(err, "user")
	}
	return s.store.ListConsents(ctx, tenantID, userID)
}

// RevokeConsent forgets a user's consent for a client: the next
// authorization asks again. Sessions already issued stay.
func (s *Service) RevokeConsent(ctx context.Context, tenantID, userID, clientID string, m Meta) error {
	if err := s.store.DeleteConsent(ctx, tenantID, userID, clientID); err != nil {
		return storeErr(err, "consent")
	}
	s.audit(ctx, event(EventConsentRevoked, tenantID, userID, m, map[string]any{"client_id": clientID}))
	return nil
}

// PushedRequest is the answer of the PAR endpoint.
type PushedRequest struct {
	RequestURI string
	ExpiresIn  int
}

// PushAuthorization stores the authorization request of the authenticated
// client c (RFC 9126) after validating it as the authorization endpoint
// would; errors are those of the token endpoint's style
// (CodeInvalidRequest, CodeInvalidScope, ...).
func (s *Service) PushAuthorization(ctx context.Context, c store.Client, p AuthorizeParams) (PushedRequest, error) {
	if p.RequestURI != "" {
		return PushedRequest{}, invalid("request_uri cannot be pushed")
	}
	if p.ClientID != "" && p.ClientID != c.ID {
		return PushedRequest{}, invalid("client_id does not match the authenticated client")
	}
	p.ClientID = c.ID
	redirect, err := s.authorizeRedirectURI(c, p.RedirectURI)
	if err != nil {
		return PushedRequest{}, invalid(AsError(err).Message)
	}
	if _, code, desc := s.validateAuthorize(c, p, redirect); code != "" {
		return PushedRequest{}, newError(code, desc)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return PushedRequest{}, fmt.Errorf("encode pushed request: %w", err)
	}
	handle := token.NewOpaque()
	now := s.clock.Now()
	if err := s.store.CreateAuthRequest(ctx, store.AuthRequest{Hash: token.HashOpaque(handle), TenantID: c.TenantID,
		ClientID: c.ID, Kind: store.AuthRequestPushed, Data: data, CreatedAt: now, ExpiresAt: now.Add(PushedRequestTTL)}); err != nil {
		return PushedRequest{}, fmt.Errorf("store pushed request: %w", err)
	}
	return PushedRequest{RequestURI: RequestURIPrefix + handle, ExpiresIn: int(PushedRequestTTL / time.Second)}, nil
}

var errBadRequestURI = showError(CodeInvalidRequestURI, "the request_uri is unknown, expired or was already used")

// pushedParams consumes a pushed request of client c (single use).
func (s *Service) pushedParams(ctx context.Context, c store.Client, requestURI string) (AuthorizeParams, error) {
	handle, ok := strings.CutPrefix(requestURI, RequestURIPrefix)
	if !ok || handle == "" || len(handle) > maxOpaqueLen {
		return AuthorizeParams{}, errBadRequestURI
	}
	ar, err := s.store.UseAuthRequest(ctx, token.HashOpaque(handle), store.AuthRequestPushed, s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return AuthorizeParams{}, errBadRequestURI
	}
	if err != nil {
		return AuthorizeParams{}, fmt.Errorf("use pushed request: %w", err)
	}
	if ar.ClientID != c.ID {
		return AuthorizeParams{}, errBadRequestURI
	}
	var p AuthorizeParams
	if err := json.Unmarshal(ar.Data, &p); err != nil {
		return AuthorizeParams{}, fmt.Errorf("decode pushed request: %w", err)
	}
	return p, nil
}
