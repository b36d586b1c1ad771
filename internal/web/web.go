// Package web serves the hosted pages of Gatehouse: the authorization
// endpoint of the code flow, the sign-in, second-factor, password-change
// and consent pages, RP-initiated logout, and their one stylesheet. Pages
// are server-rendered html/template with every asset embedded; no page
// needs script except the auto-submitting form_post answer, whose script
// carries a CSP nonce. The rules (who may sign in, what a code is, when
// consent is asked) are the core's; this package decodes forms, checks
// CSRF tokens, sets cookies and renders.
package web

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi/oauth2"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/gatehouse.css
var stylesheet []byte

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// Paths of the hosted pages.
const (
	PathLogin         = "/login"
	PathLoginMFA      = "/login/mfa"
	PathLoginPassword = "/login/password"
	PathLoginConsent  = "/login/consent"
	PathStylesheet    = "/assets/gatehouse.css"
)

// maxFormBytes bounds the body of a page's form.
const maxFormBytes = 64 << 10

// Handler serves the hosted pages.
type Handler struct {
	svc    *core.Service
	ip     httpapi.ClientIP
	log    *slog.Logger
	secure bool // the issuer is https: Secure cookies with the __Host- prefix
}

// New returns the hosted pages for a service whose issuer is issuer.
func New(svc *core.Service, ip httpapi.ClientIP, log *slog.Logger, issuer string) *Handler {
	return &Handler{svc: svc, ip: ip, log: log, secure: strings.HasPrefix(issuer, "https://")}
}

// Register adds the pages' routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+oauth2.PathAuthorize, h.authorize)
	mux.HandleFunc("POST "+oauth2.PathAuthorize, h.authorize)
	mux.HandleFunc("GET "+PathLogin, h.loginPage)
	mux.HandleFunc("POST "+PathLogin, h.posted(h.signIn))
	mux.HandleFunc("POST "+PathLoginMFA, h.posted(h.mfa))
	mux.HandleFunc("POST "+PathLoginPassword, h.posted(h.password))
	mux.HandleFunc("POST "+PathLoginConsent, h.posted(h.consent))
	mux.HandleFunc("GET "+oauth2.PathLogout, h.logout)
	mux.HandleFunc("POST "+oauth2.PathLogout, h.logout)
	mux.HandleFunc("GET "+PathStylesheet, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(stylesheet)
	})
}

func (h *Handler) meta(r *http.Request) core.Meta {
	return core.Meta{IP: h.ip.Of(r), UserAgent: r.UserAgent()}
}

// cookie names: with https, the __Host- prefix pins them to this host,
// path / and Secure.
func (h *Handler) cookieName(base string) string {
	if h.secure {
		return "__Host-" + base
	}
	return base
}

const (
	sessionCookie = "gh_session"
	csrfCookie    = "gh_csrf"
)

func (h *Handler) readCookie(r *http.Request, base string) string {
	c, err := r.Cookie(h.cookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}

func (h *Handler) setCookie(w http.ResponseWriter, base, value string, expires time.Time) {
	c := &http.Cookie{Name: h.cookieName(base), Value: value, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.secure}
	if expires.IsZero() {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	http.SetCookie(w, c)
}

// csrfBinding returns the browser's own random CSRF cookie, setting one
// when it has none; tokens are bound to it and to the pending request.
func (h *Handler) csrfBinding(w http.ResponseWriter, r *http.Request) string {
	if v := h.readCookie(r, csrfCookie); len(v) >= 32 && len(v) <= 64 {
		return v
	}
	v := randomString(32)
	c := &http.Cookie{Name: h.cookieName(csrfCookie), Value: v, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.secure}
	http.SetCookie(w, c)
	return v
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize serves GET and POST /oauth2/authorize.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	var params url.Values
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if !httpapi.HasContentType(r, "application/x-www-form-urlencoded") || r.ParseForm() != nil {
			h.showError(w, r, http.StatusBadRequest, "The request could not be read.")
			return
		}
		params = r.PostForm
	} else {
		params = r.URL.Query()
	}
	if bad := badParams(params); bad != "" {
		h.showError(w, r, http.StatusBadRequest, bad)
		return
	}
	step, err := h.svc.Authorize(r.Context(), oauth2.AuthorizeParams(params), h.readCookie(r, sessionCookie), h.csrfBinding(w, r), h.meta(r))
	h.answer(w, r, step, err)
}

// badParams refuses repeated parameters (RFC 6749 §3.1) and NUL bytes.
func badParams(v url.Values) string {
	for k, vals := range v {
		if len(vals) > 1 {
			return "The parameter " + template.HTMLEscapeString(k) + " appears more than once."
		}
		if strings.ContainsRune(vals[0], 0) || strings.ContainsRune(k, 0) {
			return "The request contains an invalid character."
		}
	}
	return ""
}

// loginPage serves GET /login?req=…: the page the pending request waits on.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	req := r.URL.Query().Get("req")
	step, err := h.svc.BrowserRequest(r.Context(), req, h.readCookie(r, csrfCookie), h.readCookie(r, sessionCookie), h.meta(r))
	h.answer(w, r, step, err)
}

// posted wraps the POST of a page: a form of bounded size whose CSRF token
// matches this browser and the pending request, else 403.
func (h *Handler) posted(next func(w http.ResponseWriter, r *http.Request, req, binding string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if !httpapi.HasContentType(r, "application/x-www-form-urlencoded") || r.ParseForm() != nil {
			h.showError(w, r, http.StatusBadRequest, "The form could not be read.")
			return
		}
		if bad := badParams(r.PostForm); bad != "" {
			h.showError(w, r, http.StatusBadRequest, bad)
			return
		}
		req := r.PostForm.Get("req")
		binding := h.readCookie(r, csrfCookie)
		if binding == "" || !h.svc.CheckCSRF(binding+"|"+req, r.PostForm.Get("csrf")) {
			h.showError(w, r, http.StatusForbidden, "This form has expired or did not come from this site. Go back to the application and start again.")
			return
		}
		next(w, r, req, binding)
	}
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, req, binding string) {
	step, err := h.svc.BrowserSignIn(r.Context(), req, binding, h.readCookie(r, sessionCookie), r.PostForm.Get("username"), r.PostForm.Get("password"), h.meta(r))
	h.answer(w, r, step, err)
}

func (h *Handler) mfa(w http.ResponseWriter, r *http.Request, req, binding string) {
	step, err := h.svc.BrowserMFA(r.Context(), req, binding, r.PostForm.Get("code"), h.meta(r))
	h.answer(w, r, step, err)
}

func (h *Handler) password(w http.ResponseWriter, r *http.Request, req, binding string) {
	step, err := h.svc.BrowserChangePassword(r.Context(), req, binding, h.readCookie(r, sessionCookie), r.PostForm.Get("new_password"), h.meta(r))
	h.answer(w, r, step, err)
}

func (h *Handler) consent(w http.ResponseWriter, r *http.Request, req, binding string) {
	decision := r.PostForm.Get("decision")
	if decision != "allow" && decision != "deny" {
		h.showError(w, r, http.StatusBadRequest, "Choose Allow or Deny.")
		return
	}
	step, err := h.svc.BrowserConsent(r.Context(), req, binding, h.readCookie(r, sessionCookie), decision == "allow", h.meta(r))
	h.answer(w, r, step, err)
}

// logout serves GET and POST /oauth2/logout.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	var params url.Values
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if !httpapi.HasContentType(r, "application/x-www-form-urlencoded") || r.ParseForm() != nil {
			h.showError(w, r, http.StatusBadRequest, "The request could not be read.")
			return
		}
		params = r.PostForm
	} else {
		params = r.URL.Query()
	}
	if bad := badParams(params); bad != "" {
		h.showError(w, r, http.StatusBadRequest, bad)
		return
	}
	res, err := h.svc.BrowserLogout(r.Context(), core.LogoutParams{
		IDTokenHint: params.Get("id_token_hint"), ClientID: params.Get("client_id"),
		PostLogoutRedirectURI: params.Get("post_logout_redirect_uri"), State: params.Get("state"),
	}, h.readCookie(r, sessionCookie), h.meta(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.setCookie(w, sessionCookie, "", time.Time{})
	if res.RedirectURL != "" {
		h.pageHeaders(w, "", "")
		http.Redirect(w, r, res.RedirectURL, http.StatusSeeOther)
		return
	}
	text := "You have been signed out."
	if res.ClientName != "" {
		text = "You have been signed out of " + res.ClientName + " and every application you signed in to here."
	}
	h.render(w, http.StatusOK, "message", view{Title: "Signed out", Text: text}, "")
}

// answer renders the outcome of a core call: a redirect or auto-posted
// form to the client, or the next page.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, step core.BrowserStep, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if step.Cookie != nil {
		h.setCookie(w, sessionCookie, step.Cookie.Cookie, step.Cookie.Session.ExpiresAt)
	}
	if step.Step == core.StepRedirect {
		h.respond(w, r, step.Response)
		return
	}
	if r.URL.Path == oauth2.PathAuthorize {
		// From the authorization endpoint to the page, so that a reload
		// of the page does not repeat the request.
		h.pageHeaders(w, "", "")
		http.Redirect(w, r, PathLogin+"?req="+url.QueryEscape(step.RequestID), http.StatusSeeOther)
		return
	}
	h.renderStep(w, r, step)
}

// respond sends an authorization response to the client's redirect_uri.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, res *core.AuthResponse) {
	if !res.FormPost {
		h.pageHeaders(w, "", "")
		http.Redirect(w, r, res.URL(), http.StatusSeeOther)
		return
	}
	v := view{Title: "Signing in", Action: res.RedirectURI, Nonce: randomString(16)}
	for k, vals := range res.Params {
		for _, x := range vals {
			v.Fields = append(v.Fields, field{Name: k, Value: x})
		}
	}
	h.render(w, http.StatusOK, "formpost", v, origin(res.RedirectURI))
}

// renderStep renders the page of a step.
func (h *Handler) renderStep(w http.ResponseWriter, r *http.Request, step core.BrowserStep) {
	v := view{RequestID: step.RequestID, Message: step.Message, ClientName: step.Client.Name, LoginHint: step.LoginHint}
	v.CSRF = h.svc.CSRFToken(h.csrfBinding(w, r) + "|" + step.RequestID)
	status, name := http.StatusOK, ""
	switch step.Step {
	case core.StepSignIn:
		v.Title, name = "Sign in", "signin"
		if step.Message != "" && r.Method == http.MethodPost {
			status = http.StatusUnauthorized
		}
	case core.StepMFA:
		v.Title, name = "Two-step verification", "mfa"
		if step.Message != "" {
			status = http.StatusUnauthorized
		}
	case core.StepPassword:
		v.Title, name = "Change your password", "password"
		v.MinLength = h.svc.Policy().PasswordMinLength
		if step.Message != "" {
			status = http.StatusBadRequest
		}
	case core.StepConsent:
		v.Title, name = "Allow access?", "consent"
		for _, sc := range step.Scopes {
			v.Scopes = append(v.Scopes, scopeView{Name: sc, Text: scopeText(sc)})
		}
	default:
		h.showError(w, r, http.StatusInternalServerError, "Something went wrong.")
		return
	}
	if step.Locked {
		status = http.StatusTooManyRequests
	}
	h.render(w, status, name, v, clientOrigin(step))
}

// clientOrigin is the origin the page's forms may end at: a sign-in that
// completes redirects to the client, and form-action covers redirects.
func clientOrigin(step core.BrowserStep) string {
	if len(step.Client.RedirectURIs) == 0 {
		return ""
	}
	var out []string
	for _, u := range step.Client.RedirectURIs {
		if o := origin(u); o != "" {
			out = append(out, o)
		}
	}
	return strings.Join(out, " ")
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return ""
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	if u.Scheme == "http" && u.Port() == "" {
		// A loopback URI registered without a port matches any port.
		return u.Scheme + "://" + u.Host + ":*"
	}
	return u.Scheme + "://" + u.Host
}

func scopeText(sc string) string {
	switch sc {
	case core.ScopeOpenID:
		return "Know who you are (your account id)"
	case core.ScopeProfile:
		return "See your name, username, picture, groups and roles"
	case core.ScopeEmail:
		return "See your email address"
	case core.ScopePhone:
		return "See your phone number"
	case core.ScopeOfflineAccess:
		return "Stay signed in to your account while you are away (offline access)"
	}
	return "Use the permission “" + sc + "”"
}

// fail renders a core error as the error page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := core.AsError(err)
	switch e.Code {
	case core.CodeInternal:
		h.log.Error("hosted page failed", "path", r.URL.Path, "err", err)
		h.showError(w, r, http.StatusInternalServerError, "Something went wrong. Try again later.")
	case core.CodeUnavailable:
		h.showError(w, r, http.StatusServiceUnavailable, "The service is busy. Try again in a moment.")
	default:
		var ce *core.Error
		if !errors.As(err, &ce) {
			h.log.Error("hosted page failed", "path", r.URL.Path, "err", err)
			h.showError(w, r, http.StatusInternalServerError, "Something went wrong. Try again later.")
			return
		}
		h.showError(w, r, http.StatusBadRequest, e.Message+" ("+e.Code+")")
	}
}

func (h *Handler) showError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	h.render(w, status, "message", view{Title: "Sign-in failed", Message: msg}, "")
}

// view is what every template sees.
type view struct {
	Title      string
	Message    string
	Text       string
	RequestID  string
	CSRF       string
	ClientName string
	LoginHint  string
	MinLength  int
	Scopes     []scopeView
	Action     string
	Fields     []field
	Nonce      string
}

type scopeView struct{ Name, Text string }
type field struct{ Name, Value string }

// pageHeaders sets the headers of every answer of the hosted pages.
func (h *Handler) pageHeaders(w http.ResponseWriter, nonce, formAction string) {
	hd := w.Header()
	script := "'none'"
	if nonce != "" {
		script = "'nonce-" + nonce + "'"
	}
	actions := "'self'"
	if formAction != "" {
		actions += " " + formAction
	}
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; script-src "+script+
		"; form-action "+actions+"; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	if h.secure {
		hd.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, v view, formAction string) {
	h.pageHeaders(w, v.Nonce, formAction)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, v); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}
