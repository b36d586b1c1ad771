// Package app serves the app-backend family, /api/v1/public/* and
// /api/v1/app/*: application backends open app sessions for users who signed
// in to Gatehouse, refresh them, change their payload, destroy them and
// verify their access tokens. Every call authenticates the backend with
// HTTP Basic client credentials; every answer is HTTP 200 with a code: 0
// success, 31 invalid or expired token, 5 anything else.
package app

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Handler serves the family.
type Handler struct {
	svc *core.Service
	ip  httpapi.ClientIP
	log *slog.Logger
}

// New returns the app family's handler.
func New(svc *core.Service, ip httpapi.ClientIP, log *slog.Logger) *Handler {
	return &Handler{svc: svc, ip: ip, log: log}
}

// Register adds the family's routes to mux, each with and without a
// trailing slash.
func (h *Handler) Register(mux *http.ServeMux) {
	routes := []struct {
		method, path string
		fn           func(*call) (any, error)
	}{
		{"POST", "/api/v1/public/login/verify", h.loginVerify},
		{"PATCH", "/api/v1/app/token/refresh", h.setPayload},
		{"DELETE", "/api/v1/app/token/refresh", h.destroy},
		{"POST", "/api/v1/app/token/refresh", h.refresh},
		{"POST", "/api/v1/app/token/access/verify", h.verify},
		{"POST", "/api/v1/app/token/access/user/info", h.userInfo},
	}
	for _, rt := range routes {
		hf := h.serve(rt.fn)
		mux.HandleFunc(rt.method+" "+rt.path, hf)
		mux.HandleFunc(rt.method+" "+rt.path+"/{$}", hf)
	}
}

// call is one authenticated request of the family.
type call struct {
	r      *http.Request
	client store.Client
	form   url.Values
	meta   core.Meta
}

// serve decodes the parameters, authenticates the client, runs fn and
// answers its result (nil data for a bare success) or its error.
func (h *Handler) serve(fn func(*call) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		form, err := params(w, r)
		if err != nil {
			write(w, envelope{Code: CodeFailure, Msg: err.Error()})
			return
		}
		meta := core.Meta{IP: h.ip.Of(r), UserAgent: r.UserAgent()}
		id, secret, ok := basicCredentials(r)
		if !ok {
			write(w, envelope{Code: CodeFailure, Msg: "client authentication (HTTP Basic) is required"})
			return
		}
		c, err := h.svc.AuthenticateClient(r.Context(), id, secret, meta)
		if err != nil {
			h.fail(w, err)
			return
		}
		meta.Actor = "client:" + c.ID
		data, err := fn(&call{r: r, client: c, form: form, meta: meta})
		if err != nil {
			h.fail(w, err)
			return
		}
		write(w, envelope{Code: CodeOK, Data: data})
	}
}

// basicCredentials returns the client id and secret of the Basic
// Authorization header. RFC 6749 §2.3.1 form-encodes both before joining
// them; ids and secrets are URL-safe, so decoding leaves them unchanged
// whichever form the client used.
func basicCredentials(r *http.Request) (id, secret string, ok bool) {
	id, secret, ok = r.BasicAuth()
	if !ok || id == "" {
		return "", "", false
	}
	if u, err := url.QueryUnescape(id); err == nil {
		id = u
	}
	if u, err := url.QueryUnescape(secret); err == nil {
		secret = u
	}
	return id, secret, true
}

// fail answers an error: code 31 when the presented token is at fault,
// code 5 otherwise. Internal causes are logged, never shown.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	ce := core.AsError(err)
	code := CodeFailure
	switch ce.Code {
	case core.CodeUnauthorized, core.CodeInvalidGrant, core.CodePasswordChangeRequired:
		code = CodeTokenInvalid
	case core.CodeInternal:
		h.log.ErrorContext(httpapi.RequestContext(w), "app request failed", "err", err)
	case core.CodeUnavailable:
		h.log.WarnContext(httpapi.RequestContext(w), "app request failed", "err", err)
	}
	write(w, envelope{Code: code, Msg: ce.Message})
}

func (h *Handler) loginVerify(c *call) (any, error) {
	valid, err := seconds(c.form, "valid")
	if err != nil {
		return nil, err
	}
	res, err := h.svc.AppLogin(c.r.Context(), core.AppLogin{
		Client: c.client, Token: c.form.Get("token"), GrantType: c.form.Get("grantType"),
		ClientIP: c.form.Get("clientIp"), Valid: valid, Payload: c.form.Get("payload"), Meta: c.meta,
	})
	if err != nil {
		return nil, err
	}
	return loginData{
		ID: UserID(res.User.ID), Name: displayName(res.User), AvatarURL: res.User.AvatarURL,
		Groups: groupsOf(res.User), RefreshToken: res.RefreshToken, AccessToken: res.AccessToken,
	}, nil
}

func (h *Handler) setPayload(c *call) (any, error) {
	if _, ok := c.form["payload"]; !ok {
		return nil, &core.Error{Code: core.CodeInvalidRequest, Message: "payload is required"}
	}
	withAccess := false
	if v := c.form.Get("accessToken"); v != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, &core.Error{Code: core.CodeInvalidRequest, Message: "accessToken must be true or false"}
		}
		withAccess = b
	}
	res, err := h.svc.AppSetPayload(c.r.Context(), c.client, c.form.Get("token"), c.form.Get("payload"), withAccess, c.meta)
	if err != nil {
		return nil, err
	}
	return patchData{RefreshToken: res.RefreshToken, AccessToken: res.AccessToken}, nil
}

func (h *Handler) destroy(c *call) (any, error) {
	return nil, h.svc.AppDestroy(c.r.Context(), c.client, c.form.Get("token"), c.meta)
}

func (h *Handler) refresh(c *call) (any, error) {
	res, err := h.svc.AppRefresh(c.r.Context(), c.client, c.form.Get("token"), c.meta)
	if err != nil {
		return nil, err
	}
	return refreshData{UID: UserID(res.User.ID), Payload: res.Session.Payload, AccessToken: res.AccessToken, ExpiresIn: res.ExpiresIn}, nil
}

func (h *Handler) verify(c *call) (any, error) {
	p, err := h.svc.AppVerifyAccess(c.r.Context(), c.client, c.form.Get("token"))
	if err != nil {
		return nil, err
	}
	return verifyData{UID: UserID(p.Subject), Payload: p.Payload}, nil
}

func (h *Handler) userInfo(c *call) (any, error) {
	u, err := h.svc.AppUserInfo(c.r.Context(), c.client, c.form.Get("token"))
	if err != nil {
		return nil, err
	}
	return userInfoData{UserID: UserID(u.ID), Name: displayName(u), AvatarURL: u.AvatarURL, Groups: groupsOf(u)}, nil
}

// seconds reads an optional whole number of seconds; values beyond any
// sensible lifetime saturate instead of overflowing.
func seconds(form url.Values, name string) (time.Duration, error) {
	v := strings.TrimSpace(form.Get(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	var numErr *strconv.NumError
	switch {
	case err == nil:
	case errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange):
		n = maxSeconds
		if strings.HasPrefix(v, "-") {
			n = 0
		}
	default:
		return 0, &core.Error{Code: core.CodeInvalidRequest, Message: name + " must be a whole number of seconds"}
	}
	// The core clamps to its bounds; a negative lifetime is below them all.
	return time.Duration(max(0, min(n, maxSeconds))) * time.Second, nil
}

// maxSeconds caps a number of seconds far above any lifetime the core
// accepts, and far below the overflow of a time.Duration.
const maxSeconds = 10 * 365 * 24 * 3600
