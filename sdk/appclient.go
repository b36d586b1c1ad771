package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// App-backend result codes (CONTRACT §8).
const (
	// AppCodeOK is a success.
	AppCodeOK = 0
	// AppCodeFailure is any failure but an invalid token (bad client, bad parameter).
	AppCodeFailure = 5
	// AppCodeTokenInvalid is an invalid or expired token.
	AppCodeTokenInvalid = 31
)

// ErrAppTokenInvalid matches (errors.Is) an *AppError of code 31: the
// token is invalid, expired or destroyed, or belongs to another client.
var ErrAppTokenInvalid = errors.New("gatehouse: app token invalid or expired")

// AppError is a failure answered by the app-backend API.
type AppError struct {
	Code int    // AppCodeFailure or AppCodeTokenInvalid (or another non-zero code)
	Msg  string // the server's message
}

// Error describes the failure with its code.
func (e *AppError) Error() string {
	return fmt.Sprintf("gatehouse: app API code %d: %s", e.Code, e.Msg)
}

// Is makes errors.Is(err, ErrAppTokenInvalid) true for code 31.
func (e *AppError) Is(target error) bool {
	return target == ErrAppTokenInvalid && e.Code == AppCodeTokenInvalid
}

// AppClient calls Gatehouse's app-backend API as one registered client
// (HTTP Basic client_id:client_secret on every call). It is safe for
// concurrent use.
type AppClient struct {
	baseURL string
	id      string
	secret  string
	hc      *http.Client
}

// NewAppClient returns a client for the Gatehouse at baseURL (e.g.
// "https://auth.example.com") with the credentials of POST /admin/clients.
// hc may be nil (a client with a 10-second timeout).
func NewAppClient(baseURL, clientID, clientSecret string, hc *http.Client) *AppClient {
	if hc == nil {
		hc = defaultHTTPClient
	}
	return &AppClient{baseURL: strings.TrimSuffix(baseURL, "/"), id: clientID, secret: clientSecret, hc: hc}
}

// LoginVerifyParams are the inputs of VerifyLogin.
type LoginVerifyParams struct {
	// Token is a Gatehouse access token of the user signing in to the app.
	Token string
	// ClientIP is the user's address, recorded with the app session.
	ClientIP string
	// Valid is the app session's lifetime: default and minimum 7 days,
	// maximum 30 days (the server clamps it); whole seconds are sent.
	Valid time.Duration
	// Payload is stored with the session and carried by its access tokens
	// (fewer than 32 characters).
	Payload string
}

// AppLogin is the answer of VerifyLogin: the user and the app session's tokens.
type AppLogin struct {
	UserID       string   // id
	Name         string   // name: the display name, else the username
	AvatarURL    string   // avatarUrl
	Groups       []string // groups
	RefreshToken string   // refreshToken: does not rotate; keep it for the session
	AccessToken  string   // accessToken
}

// AppAccessToken is the answer of Refresh.
type AppAccessToken struct {
	UserID      string        // uid
	Payload     string        // payload
	AccessToken string        // accessToken
	ExpiresIn   time.Duration // expiresIn
}

// AppTokenInfo is the answer of VerifyAccess.
type AppTokenInfo struct {
	UserID  string // uid
	Payload string // payload
}

// AppUser is the answer of UserInfo.
type AppUser struct {
	UserID    string   // userID
	Name      string   // name
	AvatarURL string   // avatarUrl
	Groups    []string // groups
}

// VerifyLogin exchanges a user's Gatehouse access token for an app session
// owned by this client (POST /api/v1/public/login/verify).
func (c *AppClient) VerifyLogin(ctx context.Context, p LoginVerifyParams) (*AppLogin, error) {
	form := url.Values{"token": {p.Token}, "grantType": {"refresh_token"}}
	if p.ClientIP != "" {
		form.Set("clientIp", p.ClientIP)
	}
	if p.Valid > 0 {
		form.Set("valid", strconv.FormatInt(int64(p.Valid/time.Second), 10))
	}
	if p.Payload != "" {
		form.Set("payload", p.Payload)
	}
	var d struct {
		ID           flexID   `json:"id"`
		Name         string   `json:"name"`
		AvatarURL    string   `json:"avatarUrl"`
		Groups       []string `json:"groups"`
		RefreshToken string   `json:"refreshToken"`
		AccessToken  string   `json:"accessToken"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/public/login/verify", form, &d); err != nil {
		return nil, err
	}
	return &AppLogin{UserID: string(d.ID), Name: d.Name, AvatarURL: d.AvatarURL, Groups: d.Groups,
		RefreshToken: d.RefreshToken, AccessToken: d.AccessToken}, nil
}

// Refresh returns a fresh access token for an app session
// (POST /api/v1/app/token/refresh). The refresh token does not change.
func (c *AppClient) Refresh(ctx context.Context, refreshToken string) (*AppAccessToken, error) {
	var d struct {
		UID         flexID `json:"uid"`
		Payload     string `json:"payload"`
		AccessToken string `json:"accessToken"`
		ExpiresIn   int64  `json:"expiresIn"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/app/token/refresh", url.Values{"token": {refreshToken}}, &d); err != nil {
		return nil, err
	}
	return &AppAccessToken{UserID: string(d.UID), Payload: d.Payload, AccessToken: d.AccessToken,
		ExpiresIn: time.Duration(d.ExpiresIn) * time.Second}, nil
}

// SetPayload changes an app session's payload (PATCH
// /api/v1/app/token/refresh). With newAccessToken it also returns an
// access token carrying the new payload; otherwise the returned access
// token is "".
func (c *AppClient) SetPayload(ctx context.Context, refreshToken, payload string, newAccessToken bool) (accessToken string, err error) {
	form := url.Values{"token": {refreshToken}, "payload": {payload}, "accessToken": {strconv.FormatBool(newAccessToken)}}
	var d struct {
		AccessToken string `json:"accessToken"`
	}
	if err := c.call(ctx, http.MethodPatch, "/api/v1/app/token/refresh", form, &d); err != nil {
		return "", err
	}
	return d.AccessToken, nil
}

// Destroy ends an app session: its refresh token and its access tokens
// stop working (DELETE /api/v1/app/token/refresh).
func (c *AppClient) Destroy(ctx context.Context, refreshToken string) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/app/token/refresh", url.Values{"token": {refreshToken}}, nil)
}

// VerifyAccess checks an app access token of this client online
// (POST /api/v1/app/token/access/verify).
func (c *AppClient) VerifyAccess(ctx context.Context, accessToken string) (*AppTokenInfo, error) {
	var d struct {
		UID     flexID `json:"uid"`
		Payload string `json:"payload"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/app/token/access/verify", url.Values{"token": {accessToken}}, &d); err != nil {
		return nil, err
	}
	return &AppTokenInfo{UserID: string(d.UID), Payload: d.Payload}, nil
}

// UserInfo returns the user of an app access token of this client
// (POST /api/v1/app/token/access/user/info).
func (c *AppClient) UserInfo(ctx context.Context, accessToken string) (*AppUser, error) {
	var d struct {
		UserID    flexID   `json:"userID"`
		Name      string   `json:"name"`
		AvatarURL string   `json:"avatarUrl"`
		Groups    []string `json:"groups"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/app/token/access/user/info", url.Values{"token": {accessToken}}, &d); err != nil {
		return nil, err
	}
	return &AppUser{UserID: string(d.UserID), Name: d.Name, AvatarURL: d.AvatarURL, Groups: d.Groups}, nil
}

// appAnswer is the envelope of every app-backend answer.
type appAnswer struct {
	Code *int            `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// call sends a form-encoded request and decodes the answer's data into
// dst (which may be nil).
func (c *AppClient) call(ctx context.Context, method, path string, form url.Values, dst any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, bytes.NewBufferString(form.Encode()))
	if err != nil {
		return fmt.Errorf("gatehouse: %s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("gatehouse: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("gatehouse: %s %s: read body: %w", method, path, err)
	}
	if len(body) > maxDocumentBytes {
		return fmt.Errorf("gatehouse: %s %s: answer exceeds %d bytes", method, path, maxDocumentBytes)
	}
	var a appAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Code == nil {
		return fmt.Errorf("gatehouse: %s %s: status %d: not an app API answer: %s", method, path, resp.StatusCode, snippet(body))
	}
	if *a.Code != AppCodeOK {
		return &AppError{Code: *a.Code, Msg: a.Msg}
	}
	if dst == nil || len(a.Data) == 0 || string(a.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(a.Data, dst); err != nil {
		return fmt.Errorf("gatehouse: %s %s: decode data: %w", method, path, err)
	}
	return nil
}

// flexID decodes a user id written as a JSON number (decimal ids below
// 2^53) or as a string.
type flexID string

// UnmarshalJSON accepts a number or a string.
func (f *flexID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("user id: %w", err)
	}
	*f = flexID(n.String())
	return nil
}
