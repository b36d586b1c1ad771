package legacy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// expiresLayout is the format of data.expires: UTC without a zone.
const expiresLayout = "2006-01-02T15:04:05"

// success is the answer to a successful refresh.
type success struct {
	Success   bool   `json:"success"`
	Code      int    `json:"code"`
	CacheType string `json:"cacheType"`
	CacheDate string `json:"cacheDate"`
	Data      any    `json:"data"`
}

// data is the refresh result in lower camelCase.
type data struct {
	TokenType    string    `json:"tokenType"`
	TokenUser    tokenUser `json:"tokenUser"`
	TimeStamp    int64     `json:"timeStamp"`
	RefreshToken string    `json:"refreshToken"`
	AccessToken  string    `json:"accessToken"`
	ClientID     string    `json:"clientId"`
	Expires      string    `json:"expires"`
	ExpiresIn    int       `json:"expiresIn"`
}

// tokenUser is the signed-in user as the platform knows it.
type tokenUser struct {
	ClientID    string   `json:"clientId"`
	UserID      string   `json:"userId"`
	UserName    string   `json:"userName"`
	PushName    string   `json:"pushName"`
	RoleID      []string `json:"roleId"`
	DepID       []any    `json:"depId"`
	AreaCode    []any    `json:"areaCode"`
	JobID       []any    `json:"jobId"`
	SysID       []any    `json:"sysId"`
	MergeUserID []any    `json:"mergeUserId"`
	Developer   int      `json:"developer"`
}

// failure is the answer to every failed request.
type failure struct {
	Success bool        `json:"success"`
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Error   failureInfo `json:"error"`
}

type failureInfo struct {
	ErrorCode string `json:"errorCode"`
	ErrorText string `json:"errorText"`
}

// newData converts the core's refresh result.
func newData(res core.LoginResult, now time.Time) data {
	u := res.User
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	pushName := u.DisplayName
	if pushName == "" {
		pushName = u.Username
	}
	return data{
		TokenType: "Bearer",
		TokenUser: tokenUser{
			ClientID: res.Session.ClientID, UserID: u.ID, UserName: u.Username, PushName: pushName,
			RoleID: roles, DepID: listAttr(u, "depId"), AreaCode: listAttr(u, "areaCode"),
			JobID: listAttr(u, "jobId"), SysID: listAttr(u, "sysId"), MergeUserID: listAttr(u, "mergeUserId"),
			Developer: flagAttr(u, "developer"),
		},
		TimeStamp:    now.UnixMilli(),
		RefreshToken: res.RefreshToken,
		AccessToken:  res.AccessToken,
		ClientID:     res.Session.ClientID,
		Expires:      res.Claims.ExpiresAt.UTC().Format(expiresLayout),
		ExpiresIn:    res.ExpiresIn,
	}
}

// listAttr reads a list attribute: absent or null → [], a list as it is,
// a single value → a list of it.
func listAttr(u store.User, name string) []any {
	switch v := u.Attributes[name].(type) {
	case nil:
		return []any{}
	case []any:
		return v
	default:
		return []any{v}
	}
}

// flagAttr reads a 0/1 attribute: true, a non-zero number, "1" or "true" is 1.
func flagAttr(u store.User, name string) int {
	switch v := u.Attributes[name].(type) {
	case bool:
		if v {
			return 1
		}
	case float64:
		if v != 0 {
			return 1
		}
	case json.Number:
		if f, err := v.Float64(); err == nil && f != 0 {
			return 1
		}
	case string:
		if v == "1" || v == "true" {
			return 1
		}
	}
	return 0
}

// snakeData re-encodes d with snake_case keys at every depth.
func snakeData(d data) (any, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep numbers exactly as they were
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode data: %w", err)
	}
	return snakeKeys(v), nil
}

// write answers v with HTTP 200; answers carry tokens, so none is cached.
func write(w http.ResponseWriter, v any) {
	httpapi.NoStore(w)
	httpapi.WriteJSON(w, http.StatusOK, v)
}

// writeFailure answers a failure with the status the native family would
// have used as its code.
func writeFailure(w http.ResponseWriter, status int, errorCode, text string) {
	write(w, failure{Code: status, Message: text, Error: failureInfo{ErrorCode: errorCode, ErrorText: text}})
}

// WriteStatus answers an unmatched path (404) or method (405) under /bo/
// in the family's style.
func WriteStatus(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusMethodNotAllowed:
		writeFailure(w, status, "method_not_allowed", "method not allowed on this endpoint")
		return
	case http.StatusBadRequest:
		writeFailure(w, status, "invalid_request", httpapi.MalformedURL)
		return
	}
	writeFailure(w, http.StatusNotFound, "not_found", "no such endpoint")
}
