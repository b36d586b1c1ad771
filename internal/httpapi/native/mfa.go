package native

import (
	"encoding/json"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// registerMFA adds the second-factor routes.
func (h *Handler) registerMFA(mux *http.ServeMux) {
	mux.HandleFunc("POST /auth/mfa/verify", signIn(h, h.mfaVerify))
	mux.HandleFunc("POST /auth/mfa/totp/enroll", h.authed(false, h.totpEnroll))
	mux.HandleFunc("POST /auth/mfa/totp/confirm", h.authed(false, h.totpConfirm))
}

type mfaVerifyRequest struct {
	ChallengeToken string          `json:"challenge_token"`
	Method         string          `json:"method"`
	Code           string          `json:"code"`
	Credential     json.RawMessage `json:"credential"` // for method webauthn
}

// mfaVerify serves POST /auth/mfa/verify: it completes a challenged sign-in.
func (h *Handler) mfaVerify(r *http.Request, tid string, req mfaVerifyRequest) (core.LoginResult, error) {
	return h.svc.VerifyMFA(r.Context(), core.MFAVerify{
		TenantID: tid, ChallengeToken: req.ChallengeToken, Method: req.Method, Code: req.Code, Credential: req.Credential, Meta: h.meta(r),
	})
}

type totpEnrollRequest struct {
	// Code is a current code of the active factor, required to replace it.
	Code string `json:"code"`
	// Password is the current password, required unless the session
	// signed in recently (GATEHOUSE_REAUTH_MAX_AGE).
	Password string `json:"password"`
}

// TOTPEnrollResponse is the answer of POST /auth/mfa/totp/enroll.
type TOTPEnrollResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
}

// totpEnroll serves POST /auth/mfa/totp/enroll.
func (h *Handler) totpEnroll(w http.ResponseWriter, r *http.Request, p core.Principal) {
	httpapi.NoStore(w)
	var req totpEnrollRequest
	if err := httpapi.DecodeOptionalJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	e, err := h.svc.EnrollTOTP(r.Context(), p, req.Code, req.Password, h.meta(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, TOTPEnrollResponse{Secret: e.Secret, OTPAuthURL: e.URL})
}

type totpConfirmRequest struct {
	Code string `json:"code"`
	// Password: as for enrolment.
	Password string `json:"password"`
}

// TOTPConfirmResponse is the answer of POST /auth/mfa/totp/confirm.
type TOTPConfirmResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// totpConfirm serves POST /auth/mfa/totp/confirm.
func (h *Handler) totpConfirm(w http.ResponseWriter, r *http.Request, p core.Principal) {
	httpapi.NoStore(w)
	var req totpConfirmRequest
	if err := httpapi.DecodeJSON(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	codes, err := h.svc.ConfirmTOTP(r.Context(), p, req.Code, req.Password, h.meta(r))
	if err != nil {
		h.fail(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, TOTPConfirmResponse{RecoveryCodes: codes})
}

// withRisk adds a password sign-in's risk assessment to resp.
func withRisk(resp *LoginResponse, risk *core.RiskAssessment) {
	if risk == nil {
		return
	}
	methods := risk.RecommendedMethods
	if methods == nil {
		methods = []string{}
	}
	resp.RiskLevel = risk.Level
	resp.RiskAssessment = &RiskAssessment{Level: risk.Level, Score: risk.Score, RequireMFA: risk.RequireMFA, RecommendedMFAMethods: methods}
	resp.MFACheckReason = risk.Reason()
}

// challengeResponse is the LoginResponse of a sign-in that needs a second
// factor: the challenge, no tokens and no user details yet.
func challengeResponse(r core.LoginResult) LoginResponse {
	var resp LoginResponse
	withRisk(&resp, r.Risk)
	resp.RequiresMFA = true
	resp.ChallengeToken = r.Challenge.Token
	resp.RequiredMFAMethods = r.Challenge.Methods
	resp.MFACheckReason = r.Challenge.Reason
	return resp
}
