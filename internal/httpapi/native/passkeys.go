package native

import (
	"encoding/json"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// registerPasskeys adds the passkey routes. While passkeys are off (an IP
// issuer without GATEHOUSE_WEBAUTHN_RP_ID) every one of them answers 404.
func (h *Handler) registerPasskeys(mux *http.ServeMux) {
	mux.HandleFunc("POST /auth/passkey/options", h.passkeysOn(h.passkeySigninOptions))
	mux.HandleFunc("POST /auth/passkey/signin", h.passkeysOn(signIn(h, h.passkeySignin)))
	mux.HandleFunc("POST /auth/passkeys/options", h.passkeysOn(h.authed(false, h.passkeyRegisterOptions)))
	mux.HandleFunc("POST /auth/passkeys", h.passkeysOn(h.authed(false, h.passkeyRegister)))
	mux.HandleFunc("GET /auth/passkeys", h.passkeysOn(h.authed(false, h.passkeyList)))
	mux.HandleFunc("PATCH /auth/passkeys/{id}", h.passkeysOn(h.authed(false, h.passkeyRename)))
	mux.HandleFunc("DELETE /auth/passkeys/{id}", h.passkeysOn(h.authed(false, h.passkeyDelete)))
	mux.HandleFunc("POST /auth/mfa/webauthn/options", h.passkeysOn(h.mfaWebAuthnOptions))
}

// passkeysOn answers 404 while passkeys are off, before anything else.
func (h *Handler) passkeysOn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if on, _ := h.svc.PasskeysEnabled(); !on {
			h.fail(w, core.ErrPasskeysOff)
			return
		}
		next(w, r)
	}
}

// PasskeyOptionsResponse is the answer of the options endpoints: the
// challenge token to send back with the credential, and the options for
// navigator.credentials.create() or .get() (WebAuthn's JSON form, as
// PublicKeyCredential.parseCreationOptionsFromJSON/parseRequestOptionsFromJSON read it).
type PasskeyOptionsResponse struct {
	ChallengeToken string `json:"challenge_token,omitempty"`
	PublicKey      any    `json:"publicKey"`
}

// PasskeyInfo is a passkey as its owner (and the admin API) sees it.
type PasskeyInfo struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
}

// NewPasskeyInfo converts a stored passkey; last_used_at is null until first used.
func NewPasskeyInfo(p store.Passkey) PasskeyInfo {
	info := PasskeyInfo{ID: p.ID, Name: p.Name, CreatedAt: FormatTime(p.CreatedAt)}
	if !p.LastUsedAt.IsZero() {
		t := FormatTime(p.LastUsedAt)
		info.LastUsedAt = &t
	}
	return info
}

// NewPasskeyList is the {passkeys: [...]} body of a list of passkeys.
func NewPasskeyList(list []store.Passkey) map[string]any {
	out := make([]PasskeyInfo, 0, len(list))
	for _, p := range list {
		out = append(out, NewPasskeyInfo(p))
	}
	return map[string]any{"passkeys": out}
}

func (h *Handler) writeOptions(w http.ResponseWriter, o core.PasskeyOptions) {
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusOK, PasskeyOptionsResponse{ChallengeToken: o.ChallengeToken, PublicKey: o.PublicKey})
}

// passkeySigninOptions serves POST /auth/passkey/options (body optional).
func (h *Handler) passkeySigninOptions(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if err := httpapi.DecodeOptionalJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	tid, err := tenant(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	o, err := h.svc.BeginPasskeySignIn(r.Context(), tid, h.meta(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeOptions(w, o)
}

type passkeySigninRequest struct {
	ChallengeToken string          `json:"challenge_token"`
	Credential     json.RawMessage `json:"credential"`
}

// passkeySignin serves POST /auth/passkey/signin.
func (h *Handler) passkeySignin(r *http.Request, tid string, req passkeySigninRequest) (core.LoginResult, error) {
	return h.svc.PasskeySignIn(r.Context(), core.PasskeyAssertion{
		TenantID: tid, ChallengeToken: req.ChallengeToken, Credential: req.Credential, Meta: h.meta(r),
	})
}

// account returns the Account of the bearer, or answers the failure.
func (h *Handler) account(w http.ResponseWriter, r *http.Request, p core.Principal) (core.Account, bool) {
	a, err := h.svc.AccountOf(r.Context(), p)
	if err != nil {
		h.fail(w, err)
		return core.Account{}, false
	}
	return a, true
}

type passkeyRegisterOptionsRequest struct {
	// Password, the current one, stands in for a recent sign-in.
	Password string `json:"password"`
}

// passkeyRegisterOptions serves POST /auth/passkeys/options (body optional).
func (h *Handler) passkeyRegisterOptions(w http.ResponseWriter, r *http.Request, p core.Principal) {
	var req passkeyRegisterOptionsRequest
	if err := httpapi.DecodeOptionalJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	a, ok := h.account(w, r, p)
	if !ok {
		return
	}
	o, err := h.svc.BeginPasskeyRegistration(r.Context(), a, req.Password, h.meta(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeOptions(w, o)
}

type passkeyRegisterRequest struct {
	ChallengeToken string          `json:"challenge_token"`
	Credential     json.RawMessage `json:"credential"`
	Name           string          `json:"name"`
}

// passkeyRegister serves POST /auth/passkeys: 201 with the new passkey.
func (h *Handler) passkeyRegister(w http.ResponseWriter, r *http.Request, p core.Principal) {
	var req passkeyRegisterRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	a, ok := h.account(w, r, p)
	if !ok {
		return
	}
	pk, err := h.svc.RegisterPasskey(r.Context(), a, core.PasskeyRegistration{
		ChallengeToken: req.ChallengeToken, Credential: req.Credential, Name: req.Name,
	}, h.meta(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	info := NewPasskeyInfo(pk)
	httpapi.WriteJSON(w, http.StatusCreated, map[string]string{"id": info.ID, "name": info.Name, "created_at": info.CreatedAt})
}

// passkeyList serves GET /auth/passkeys.
func (h *Handler) passkeyList(w http.ResponseWriter, r *http.Request, p core.Principal) {
	a, ok := h.account(w, r, p)
	if !ok {
		return
	}
	list, err := h.svc.ListPasskeys(r.Context(), a)
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, NewPasskeyList(list))
}

type passkeyRenameRequest struct {
	Name string `json:"name"`
}

// passkeyRename serves PATCH /auth/passkeys/{id}.
func (h *Handler) passkeyRename(w http.ResponseWriter, r *http.Request, p core.Principal) {
	var req passkeyRenameRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	a, ok := h.account(w, r, p)
	if !ok {
		return
	}
	pk, err := h.svc.RenamePasskey(r.Context(), a, r.PathValue("id"), req.Name, h.meta(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, NewPasskeyInfo(pk))
}

// passkeyDelete serves DELETE /auth/passkeys/{id}.
func (h *Handler) passkeyDelete(w http.ResponseWriter, r *http.Request, p core.Principal) {
	a, ok := h.account(w, r, p)
	if !ok {
		return
	}
	if err := h.svc.DeletePasskey(r.Context(), a, r.PathValue("id"), h.meta(r)); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type mfaWebAuthnOptionsRequest struct {
	ChallengeToken string `json:"challenge_token"`
}

// mfaWebAuthnOptions serves POST /auth/mfa/webauthn/options: the options
// for a passkey as the second factor of a challenge. The answer carries no
// new token: the MFA challenge_token stays the one to send to /auth/mfa/verify.
func (h *Handler) mfaWebAuthnOptions(w http.ResponseWriter, r *http.Request) {
	var req mfaWebAuthnOptionsRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	tid, err := tenant(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	o, err := h.svc.BeginPasskeyMFA(r.Context(), tid, req.ChallengeToken)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeOptions(w, o)
}
