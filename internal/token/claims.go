package token

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims are the claims of an access token: those of RFC 9068 and the
// Gatehouse claims.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub: the user id
	Audience  []string  // aud: one audience is serialised as a string, several as an array
	ExpiresAt time.Time // exp
	IssuedAt  time.Time // iat
	NotBefore time.Time // nbf, omitted when zero
	ID        string    // jti
	SessionID string    // sid
	TenantID  string    // tid
	ClientID  string    // client_id, omitted when empty
	Roles     []string  // roles: always present, [] when none
	AMR       []string  // amr, omitted when empty
	Actor     string    // act.sub (RFC 8693): "act": {"sub": ...} only when non-empty
	Scope     string    // scope, omitted when empty
	Payload   string    // payload, omitted when empty
	// Restricted marks a token that only allows a password change; it is
	// serialised as "pwd_change_required": true and omitted when false.
	Restricted bool
}

// actor is the RFC 8693 "act" claim.
type actor struct {
	Sub string `json:"sub"`
}

// wireClaims is the JSON form of Claims. Dates are pointers so that a
// decoded token can tell an absent claim from a zero one.
type wireClaims struct {
	Issuer     string           `json:"iss"`
	Subject    string           `json:"sub"`
	Audience   jwt.Audience     `json:"aud,omitempty"`
	ExpiresAt  *jwt.NumericDate `json:"exp,omitempty"`
	IssuedAt   *jwt.NumericDate `json:"iat,omitempty"`
	NotBefore  *jwt.NumericDate `json:"nbf,omitempty"`
	ID         string           `json:"jti"`
	SessionID  string           `json:"sid"`
	TenantID   string           `json:"tid"`
	ClientID   string           `json:"client_id,omitempty"`
	Roles      []string         `json:"roles"`
	AMR        []string         `json:"amr,omitempty"`
	Actor      *actor           `json:"act,omitempty"`
	Scope      string           `json:"scope,omitempty"`
	Payload    string           `json:"payload,omitempty"`
	Restricted bool             `json:"pwd_change_required,omitempty"`
}

// MarshalJSON encodes the claims as they appear in an access token.
func (c Claims) MarshalJSON() ([]byte, error) {
	w := wireClaims{
		Issuer:     c.Issuer,
		Subject:    c.Subject,
		Audience:   jwt.Audience(c.Audience),
		ExpiresAt:  numericDate(c.ExpiresAt),
		IssuedAt:   numericDate(c.IssuedAt),
		NotBefore:  numericDate(c.NotBefore),
		ID:         c.ID,
		SessionID:  c.SessionID,
		TenantID:   c.TenantID,
		ClientID:   c.ClientID,
		Roles:      c.Roles,
		AMR:        c.AMR,
		Scope:      c.Scope,
		Payload:    c.Payload,
		Restricted: c.Restricted,
	}
	if w.Roles == nil {
		w.Roles = []string{}
	}
	if c.Actor != "" {
		w.Actor = &actor{Sub: c.Actor}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("marshal claims: %w", err)
	}
	return b, nil
}

// UnmarshalJSON decodes the claims of an access token; "aud" may be a
// string or an array.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var w wireClaims
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("unmarshal claims: %w", err)
	}
	*c = w.claims()
	return nil
}

// claims converts the wire form to Claims, with times in UTC.
func (w *wireClaims) claims() Claims {
	c := Claims{
		Issuer:     w.Issuer,
		Subject:    w.Subject,
		Audience:   []string(w.Audience),
		ExpiresAt:  timeOf(w.ExpiresAt),
		IssuedAt:   timeOf(w.IssuedAt),
		NotBefore:  timeOf(w.NotBefore),
		ID:         w.ID,
		SessionID:  w.SessionID,
		TenantID:   w.TenantID,
		ClientID:   w.ClientID,
		Roles:      w.Roles,
		AMR:        w.AMR,
		Scope:      w.Scope,
		Payload:    w.Payload,
		Restricted: w.Restricted,
	}
	if c.Roles == nil {
		c.Roles = []string{}
	}
	if w.Actor != nil {
		c.Actor = w.Actor.Sub
	}
	return c
}

// numericDate converts t to a JWT NumericDate; the zero time yields nil so
// that the claim is omitted.
func numericDate(t time.Time) *jwt.NumericDate {
	if t.IsZero() {
		return nil
	}
	return jwt.NewNumericDate(t)
}

// timeOf converts a NumericDate to a UTC time; nil yields the zero time.
func timeOf(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time().UTC()
}
