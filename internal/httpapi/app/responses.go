package app

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Codes of the family's answers.
const (
	CodeOK           = 0
	CodeFailure      = 5  // bad client, bad parameter, anything but the token
	CodeTokenInvalid = 31 // the token is invalid, expired, revoked or another client's
)

// envelope is every answer of the family, always with HTTP status 200.
type envelope struct {
	Code int    `json:"code"`
	Msg  string `json:"msg,omitempty"`
	Data any    `json:"data,omitempty"`
}

// UserID is a user id as this family writes it: a JSON number when it is a
// decimal integer below 2^53 (exact in JavaScript), else a string.
type UserID string

// maxExactInt is 2^53: integers below it are exact in a float64.
const maxExactInt = 1 << 53

// MarshalJSON implements json.Marshaler.
func (id UserID) MarshalJSON() ([]byte, error) {
	s := string(id)
	if isCanonicalUint(s) {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil && n < maxExactInt {
			return []byte(s), nil
		}
	}
	return strconv.AppendQuote(nil, s), nil
}

// isCanonicalUint reports whether s is a decimal integer without sign or
// leading zeros (which a number would lose).
func isCanonicalUint(s string) bool {
	if s == "" || len(s) > 16 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// loginData answers login/verify.
type loginData struct {
	ID           UserID   `json:"id"`
	Name         string   `json:"name"`
	AvatarURL    string   `json:"avatarUrl"`
	Groups       []string `json:"groups"`
	RefreshToken string   `json:"refreshToken"`
	AccessToken  string   `json:"accessToken"`
}

// patchData answers PATCH token/refresh.
type patchData struct {
	RefreshToken string `json:"refreshToken"`
	AccessToken  string `json:"accessToken,omitempty"`
}

// refreshData answers POST token/refresh.
type refreshData struct {
	UID         UserID `json:"uid"`
	Payload     string `json:"payload"`
	AccessToken string `json:"accessToken"`
	ExpiresIn   int    `json:"expiresIn"`
}

// verifyData answers access/verify.
type verifyData struct {
	UID     UserID `json:"uid"`
	Payload string `json:"payload"`
}

// userInfoData answers access/user/info.
type userInfoData struct {
	UserID    UserID   `json:"userID"`
	Name      string   `json:"name"`
	AvatarURL string   `json:"avatarUrl"`
	Groups    []string `json:"groups"`
}

// displayName is the name the family shows: the display name, else the username.
func displayName(u store.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

func groupsOf(u store.User) []string {
	if u.Groups == nil {
		return []string{}
	}
	return u.Groups
}

// write answers env with HTTP 200; every answer may carry a token or
// personal data, so none is cached.
func write(w http.ResponseWriter, env envelope) {
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusOK, env)
}

// WriteStatus answers an unmatched path (404) or method (405) under
// /api/v1/ in the family's style: HTTP 200, code 5.
func WriteStatus(w http.ResponseWriter, status int) {
	msg := "no such endpoint"
	switch status {
	case http.StatusMethodNotAllowed:
		msg = "method not allowed on this endpoint"
	case http.StatusBadRequest:
		msg = httpapi.MalformedURL
	}
	write(w, envelope{Code: CodeFailure, Msg: msg})
}
