package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// GrantAuthorizationCode is the grant type of the code flow.
const GrantAuthorizationCode = "authorization_code"

// Error codes of the authorization endpoint (RFC 6749 §4.1.2.1, OpenID
// Connect Core §3.1.2.6, RFC 9126 §2.2).
const (
	CodeAccessDenied            = "access_denied"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeLoginRequired           = "login_required"
	CodeConsentRequired         = "consent_required"
	CodeInvalidRequestURI       = "invalid_request_uri"
	CodeServerError             = "server_error"
)

// Lifetimes of the browser flow.
const (
	// AuthCodeTTL is the lifetime of an authorization code.
	AuthCodeTTL = 60 * time.Second
	// PushedRequestTTL is the lifetime of a pushed request_uri.
	PushedRequestTTL = 60 * time.Second
	// PendingRequestTTL is how long a browser may take to sign in.
	PendingRequestTTL = 30 * time.Minute
	// RequestURIPrefix starts every request_uri (RFC 9126 §2.2).
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
)

// Response modes.
const (
	ResponseModeQuery    = "query"
	ResponseModeFormPost = "form_post"
)

// PromptValues are the prompt values the authorization endpoint understands.
var PromptValues = []string{"none", "login", "consent"}

// Bounds of authorization request parameters.
const (
	maxStateLen     = 2048
	maxNonceLen     = 512
	maxLoginHintLen = 256
)

// AuthorizeParams are the parameters of an authorization request, as sent.
type AuthorizeParams struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	ResponseMode        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
	MaxAge              string
	LoginHint           string
	RequestURI          string
}

// authzRequest is a validated authorization request.
type authzRequest struct {
	TenantID      string   `json:"tenant_id"`
	ClientID      string   `json:"client_id"`
	RedirectURI   string   `json:"redirect_uri"`
	ResponseMode  string   `json:"response_mode"`
	Scope         string   `json:"scope"`
	State         string   `json:"state,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	CodeChallenge string   `json:"code_challenge,omitempty"`
	Prompt        []string `json:"prompt,omitempty"`
	MaxAge        int      `json:"max_age"` // -1 when absent
	LoginHint     string   `json:"login_hint,omitempty"`
}

// AuthResponse is an answer for the client, sent to its validated
// redirect_uri: in the query (a 303 redirect) or, for form_post, by an
// auto-submitting form.
type AuthResponse struct {
	RedirectURI string
	FormPost    bool
	Params      url.Values
}

// URL is the redirect of a query-mode response.
func (r AuthResponse) URL() string {
	sep := "?"
	if strings.Contains(r.RedirectURI, "?") {
		sep = "&"
	}
	return r.RedirectURI + sep + r.Params.Encode()
}

// Steps of a browser authorization: what the hosted pages show next.
const (
	StepRedirect = "redirect" // send Response to the client
	StepSignIn   = "sign_in"
	StepMFA      = "mfa"
	StepPassword = "password"
	StepConsent  = "consent"
)

// BrowserStep tells the hosted pages what to do next.
type BrowserStep struct {
	Step      string
	Response  *AuthResponse // StepRedirect
	RequestID string        // the pending request, for every page step
	Client    store.Client
	Scopes    []string // consent
	LoginHint string
	// Message is shown on the page (a refused password, a wrong code...).
	Message string
	// Locked: the message reports a lockout.
	Locked bool
	// Cookie is a browser session that was just created: the pages set it.
	Cookie *BrowserSignIn
}

// pendingAuthz is the server-side state of a request while the browser
// signs in; the page carries only its handle.
type pendingAuthz struct {
	Req authzRequest `json:"req"`
	// Stage is the page the request waits on.
	Stage string `json:"stage"`
	// Challenge is the sealed MFA challenge token of the sign-in.
	Challenge []byte   `json:"challenge,omitempty"`
	Methods   []string `json:"methods,omitempty"`
	// BrowserSessionID is the browser session signed in by this request.
	BrowserSessionID string `json:"browser_session_id,omitempty"`
	// Consented: the user allowed this request on the consent page.
	Consented bool `json:"consented,omitempty"`
	// Binding is the hash of the random cookie of the browser that sent
	// the request: only that browser may continue it.
	Binding string `json:"binding"`
}

// showError is an authorization error that must not be redirected: the
// client or its redirect_uri could not be validated (shown as a 400 page).
func showError(code, msg string) error { return &Error{Code: code, Message: msg} }

// redirectError builds the error response of a validated request.
func (s *Service) redirectError(r authzRequest, code, desc string) BrowserStep {
	v := url.Values{"error": {code}, "error_description": {desc}, "iss": {s.policy.Issuer}}
	if r.State != "" {
		v.Set("state", r.State)
	}
	return BrowserStep{Step: StepRedirect, Response: &AuthResponse{RedirectURI: r.RedirectURI, FormPost: r.ResponseMode == ResponseModeFormPost, Params: v}}
}

// Authorize serves an authorization request from a browser whose session
// cookie (possibly empty) is cookie. The request is validated first: an
// unknown client or a redirect_uri that does not match is an error to show
// (never redirected); every later error is a StepRedirect to the validated
// redirect_uri. A signed-in browser that needs no page gets its code at once.
func (s *Service) Authorize(ctx context.Context, p AuthorizeParams, cookie, binding string, m Meta) (BrowserStep, error) {
	c, err := s.authorizeClient(ctx, p.ClientID)
	if err != nil {
		return BrowserStep{}, err
	}
	pushed := false
	if p.RequestURI != "" {
		if p, err = s.pushedParams(ctx, c, p.RequestURI); err != nil {
			return BrowserStep{}, err
		}
		pushed = true
	}
	redirect, err := s.authorizeRedirectURI(c, p.RedirectURI)
	if err != nil {
		return BrowserStep{}, err
	}
	r, code, desc := s.validateAuthorize(c, p, redirect)
	if code != "" {
		return s.redirectError(r, code, desc), nil
	}
	if c.RequirePAR && !pushed {
		return s.redirectError(r, CodeInvalidRequest, "this client must push its authorization requests (PAR) first"), nil
	}
	return s.proceed(ctx, c, &pendingAuthz{Req: r, Binding: token.HashOpaque(binding)}, "", cookie, m)
}

// authorizeClient finds the client of an authorization request; a missing
// or unknown client is shown, never redirected.
func (s *Service) authorizeClient(ctx context.Context, id string) (store.Client, error) {
	if id == "" {
		return store.Client{}, showError(CodeInvalidRequest, "client_id is required")
	}
	if !validClientID(id) {
		return store.Client{}, showError(CodeInvalidClient, "unknown client")
	}
	c, err := s.lookupClient(ctx, id, s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, showError(CodeInvalidClient, "unknown client")
	}
	if err != nil {
		return store.Client{}, fmt.Errorf("find client: %w", err)
	}
	return c, nil
}

// authorizeRedirectURI validates redirect_uri against the client's
// registration. It is required even when one URI is registered (OpenID
// Connect Core §3.1.2.1), so that the token request can repeat it.
func (s *Service) authorizeRedirectURI(c store.Client, given string) (string, error) {
	if given == "" {
		return "", showError(CodeInvalidRequest, "redirect_uri is required")
	}
	if !MatchRedirectURI(c.RedirectURIs, given) {
		return "", showError(CodeInvalidRequest, "redirect_uri does not match any URI registered for this client")
	}
	return given, nil
}

// validateAuthorize checks every parameter but client and redirect_uri.
// It returns the request (usable for an error redirect as soon as its
// redirect_uri is set) and, when something is wrong, an error code and
// description.
func (s *Service) validateAuthorize(c store.Client, p AuthorizeParams, redirect string) (authzRequest, string, string) {
	r := authzRequest{TenantID: c.TenantID, ClientID: c.ID, RedirectURI: redirect, ResponseMode: ResponseModeQuery, MaxAge: -1}
	if len(p.State) <= maxStateLen {
		r.State = p.State
	}
	for _, v := range []string{p.ResponseType, p.ResponseMode, p.Scope, p.State, p.Nonce, p.CodeChallenge,
		p.CodeChallengeMethod, p.Prompt, p.MaxAge, p.LoginHint} {
		if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
			r.State = ""
			return r, CodeInvalidRequest, "the request contains an invalid character"
		}
	}
	switch p.ResponseMode {
	case "", ResponseModeQuery:
	case ResponseModeFormPost:
		r.ResponseMode = ResponseModeFormPost
	default:
		return r, CodeInvalidRequest, "response_mode must be query or form_post"
	}
	switch {
	case len(p.State) > maxStateLen:
		return r, CodeInvalidRequest, "state is too long"
	case p.ResponseType == "":
		return r, CodeInvalidRequest, "response_type is required"
	case p.ResponseType != "code":
		return r, CodeUnsupportedResponseType, "only response_type=code is supported"
	case !ClientMayUseGrant(c, GrantAuthorizationCode):
		return r, CodeUnauthorizedClient, "the client may not use the authorization code flow"
	case p.CodeChallenge == "":
		return r, CodeInvalidRequest, "code_challenge is required (PKCE with S256)"
	case p.CodeChallengeMethod != "S256":
		return r, CodeInvalidRequest, "code_challenge_method must be S256"
	case !validPKCEValue(p.CodeChallenge) || len(p.CodeChallenge) != 43:
		return r, CodeInvalidRequest, "code_challenge must be the base64url SHA-256 of the verifier (43 characters)"
	case len(p.Nonce) > maxNonceLen:
		return r, CodeInvalidRequest, "nonce is too long"
	case len(p.LoginHint) > maxLoginHintLen:
		return r, CodeInvalidRequest, "login_hint is too long"
	}
	r.CodeChallenge, r.Nonce, r.LoginHint = p.CodeChallenge, p.Nonce, p.LoginHint
	prompt := strings.Fields(p.Prompt)
	for _, v := range prompt {
		if !slices.Contains(PromptValues, v) {
			return r, CodeInvalidRequest, "prompt may contain only none, login and consent"
		}
	}
	if slices.Contains(prompt, "none") && len(prompt) > 1 {
		return r, CodeInvalidRequest, "prompt=none cannot be combined with other values"
	}
	r.Prompt = prompt
	if p.MaxAge != "" {
		n, err := strconv.Atoi(p.MaxAge)
		if err != nil || n < 0 {
			return r, CodeInvalidRequest, "max_age must be a non-negative integer"
		}
		r.MaxAge = n
	}
	scope, err := grantScope(c, p.Scope, true)
	if err != nil {
		return r, CodeInvalidScope, AsError(err).Message
	}
	r.Scope = scope
	return r, "", ""
}

// validPKCEValue reports whether v uses only the unreserved characters of
// RFC 7636 §4.1.
func validPKCEValue(v string) bool {
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '.' || b == '_' || b == '~') {
			return false
		}
	}
	return true
}

// proceed moves a validated request on: to the page it needs (sign-in,
// password change, consent), or to its code. handle names the pending
// request when there is one already.
func (s *Service) proceed(ctx context.Context, c store.Client, pa *pendingAuthz, handle, cookie string, m Meta) (BrowserStep, error) {
	r := pa.Req
	b, signedIn, err := s.browserSession(ctx, r.TenantID, cookie)
	if err != nil {
		return BrowserStep{}, err
	}
	now := s.clock.Now()
	fresh := signedIn && pa.BrowserSessionID == b.ID // signed in by this very request
	if signedIn && !fresh {
		if slices.Contains(r.Prompt, "login") || (r.MaxAge >= 0 && now.Sub(b.AuthTime) > time.Duration(r.MaxAge)*time.Second) {
			signedIn = false
		}
	}
	var u store.User
	if signedIn {
		if u, err = s.store.GetUser(ctx, r.TenantID, b.UserID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return BrowserStep{}, fmt.Errorf("read user: %w", err)
		}
		signedIn = err == nil && u.Status == store.StatusActive
	}
	if !signedIn {
		if slices.Contains(r.Prompt, "none") {
			return s.finish(ctx, handle, s.redirectError(r, CodeLoginRequired, "the browser is not signed in"))
		}
		pa.Stage, pa.BrowserSessionID, pa.Challenge, pa.Methods = StepSignIn, "", nil, nil
		return s.page(ctx, c, pa, handle, BrowserStep{})
	}
	if s.passwordState(u, now).MustChange {
		if slices.Contains(r.Prompt, "none") {
			return s.finish(ctx, handle, s.redirectError(r, CodeLoginRequired, "the password must be changed first"))
		}
		pa.Stage, pa.BrowserSessionID = StepPassword, b.ID
		return s.page(ctx, c, pa, handle, BrowserStep{})
	}
	if !pa.Consented {
		needed, err := s.consentNeeded(ctx, c, u, r)
		if err != nil {
			return BrowserStep{}, err
		}
		if needed {
			if slices.Contains(r.Prompt, "none") {
				return s.finish(ctx, handle, s.redirectError(r, CodeConsentRequired, "the user has not allowed this client these scopes"))
			}
			pa.Stage, pa.BrowserSessionID = StepConsent, b.ID
			return s.page(ctx, c, pa, handle, BrowserStep{Scopes: strings.Fields(r.Scope)})
		}
	}
	step, err := s.issueCode(ctx, r, b, m)
	if err != nil {
		return BrowserStep{}, err
	}
	return s.finish(ctx, handle, step)
}

// finish ends the pending request (if any) with a redirect to the client.
// A request already used (a double submission) is shown as expired.
func (s *Service) finish(ctx context.Context, handle string, step BrowserStep) (BrowserStep, error) {
	if handle == "" {
		return step, nil
	}
	_, err := s.store.UseAuthRequest(ctx, token.HashOpaque(handle), store.AuthRequestPending, s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return BrowserStep{}, errRequestExpired
	}
	if err != nil {
		return BrowserStep{}, fmt.Errorf("use pending request: %w", err)
	}
	return step, nil
}

// errOtherBrowser refuses a pending request reached from another browser
// than the one that started it: a sign-in link cannot be handed to
// someone else.
var errOtherBrowser = showError(CodeInvalidRequest, "this sign-in was started in another browser; go back to the application and start again")

var errRequestExpired = showError(CodeInvalidRequest, "this sign-in request has expired or was already completed; go back to the application and start again")

// page stores the pending request (creating it when handle is empty) and
// returns the step of its page.
func (s *Service) page(ctx context.Context, c store.Client, pa *pendingAuthz, handle string, step BrowserStep) (BrowserStep, error) {
	data, err := json.Marshal(pa)
	if err != nil {
		return BrowserStep{}, fmt.Errorf("encode pending request: %w", err)
	}
	now := s.clock.Now()
	if handle == "" {
		handle = token.NewOpaque()
		err = s.store.CreateAuthRequest(ctx, store.AuthRequest{Hash: token.HashOpaque(handle), TenantID: pa.Req.TenantID,
			ClientID: c.ID, Kind: store.AuthRequestPending, Data: data, CreatedAt: now, ExpiresAt: now.Add(PendingRequestTTL)})
	} else {
		err = s.store.UpdateAuthRequest(ctx, token.HashOpaque(handle), data, now)
	}
	if errors.Is(err, store.ErrNotFound) {
		return BrowserStep{}, errRequestExpired
	}
	if err != nil {
		return BrowserStep{}, fmt.Errorf("save pending request: %w", err)
	}
	step.Step, step.RequestID, step.Client, step.LoginHint = pa.Stage, handle, c, pa.Req.LoginHint
	if pa.Stage == StepConsent && step.Scopes == nil {
		step.Scopes = strings.Fields(pa.Req.Scope)
	}
	return step, nil
}

// pending loads a pending request and its client.
func (s *Service) pending(ctx context.Context, handle, binding string) (*pendingAuthz, store.Client, error) {
	if handle == "" || len(handle) > maxOpaqueLen {
		return nil, store.Client{}, errRequestExpired
	}
	ar, err := s.store.GetAuthRequest(ctx, token.HashOpaque(handle), store.AuthRequestPending, s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Client{}, errRequestExpired
	}
	if err != nil {
		return nil, store.Client{}, fmt.Errorf("read pending request: %w", err)
	}
	var pa pendingAuthz
	if err := json.Unmarshal(ar.Data, &pa); err != nil {
		return nil, store.Client{}, fmt.Errorf("decode pending request: %w", err)
	}
	if !token.Equal(pa.Binding, token.HashOpaque(binding)) {
		return nil, store.Client{}, errOtherBrowser
	}
	c, err := s.lookupClient(ctx, pa.Req.ClientID, s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Client{}, showError(CodeInvalidClient, "the client no longer exists")
	}
	if err != nil {
		return nil, store.Client{}, fmt.Errorf("find client: %w", err)
	}
	return &pa, c, nil
}

// BrowserRequest returns the page a pending request waits on (a page
// reloaded, or reached again by the back button).
func (s *Service) BrowserRequest(ctx context.Context, handle, binding, cookie string, m Meta) (BrowserStep, error) {
	pa, c, err := s.pending(ctx, handle, binding)
	if err != nil {
		return BrowserStep{}, err
	}
	if pa.Stage == StepMFA {
		return s.page(ctx, c, pa, handle, BrowserStep{})
	}
	return s.proceed(ctx, c, pa, handle, cookie, m)
}

// issueCode creates the authorization code of a request for the browser
// session b and returns the success response (RFC 6749 §4.1.2, RFC 9207).
func (s *Service) issueCode(ctx context.Context, r authzRequest, b store.BrowserSession, m Meta) (BrowserStep, error) {
	now := s.clock.Now()
	code := token.NewOpaque()
	ev := event(EventAuthCodeIssued, r.TenantID, b.UserID, m, map[string]any{"client_id": r.ClientID, "browser_session": b.ID, "scope": r.Scope})
	ev.Time = now
	err := s.store.CreateAuthCode(ctx, store.AuthCode{
		Hash: token.HashOpaque(code), TenantID: r.TenantID, ClientID: r.ClientID, UserID: b.UserID, BrowserSessionID: b.ID,
		RedirectURI: r.RedirectURI, Scope: r.Scope, Nonce: r.Nonce, CodeChallenge: r.CodeChallenge, AMR: b.AMR,
		AuthTime: b.AuthTime, CreatedAt: now, ExpiresAt: now.Add(AuthCodeTTL),
	}, ev)
	if err != nil {
		return BrowserStep{}, fmt.Errorf("create authorization code: %w", err)
	}
	v := url.Values{"code": {code}, "iss": {s.policy.Issuer}}
	if r.State != "" {
		v.Set("state", r.State)
	}
	return BrowserStep{Step: StepRedirect, Response: &AuthResponse{RedirectURI: r.RedirectURI, FormPost: r.ResponseMode == ResponseModeFormPost, Params: v}}, nil
}
