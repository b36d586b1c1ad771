package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims are the verified claims of a Gatehouse access token.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub: the user id ("client:<client_id>" for client-credentials tokens)
	Audience  []string  // aud
	ExpiresAt time.Time // exp
	IssuedAt  time.Time // iat
	NotBefore time.Time // nbf; zero when absent
	ID        string    // jti
	SessionID string    // sid: the session (token family); revoking it revokes the token
	TenantID  string    // tid
	ClientID  string    // client_id; empty for first-party sign-ins
	Roles     []string  // roles; never nil
	AMR       []string  // amr: how the user signed in, e.g. ["pwd"], ["pwd","otp"], ["fed"]
	// Actor is the acting subject (RFC 8693 "act": {"sub": ...}) when the
	// token was issued by impersonation; empty otherwise.
	Actor   string
	Scope   string // scope: space-separated OAuth 2.0 scopes; empty for non-OAuth sign-ins
	Payload string // payload set by an app-backend session
	// PasswordChangeRequired marks a token that only allows a password
	// change (pwd_change_required). Verify refuses such tokens unless
	// Config.AllowPasswordChange is set.
	PasswordChangeRequired bool
}

// HasRole reports whether the token carries role.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// HasScope reports whether the token's scope contains scope.
func (c *Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes(), scope) }

// Scopes returns the token's scopes.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// Impersonated reports whether an administrator acts as the subject.
func (c *Claims) Impersonated() bool { return c.Actor != "" }

// actClaim is the RFC 8693 "act" claim.
type actClaim struct {
	Sub string `json:"sub"`
}

// wireClaims is the JSON form of an access token's claims.
type wireClaims struct {
	Issuer     string           `json:"iss"`
	Subject    string           `json:"sub"`
	Audience   jwt.Audience     `json:"aud"`
	ExpiresAt  *jwt.NumericDate `json:"exp"`
	IssuedAt   *jwt.NumericDate `json:"iat"`
	NotBefore  *jwt.NumericDate `json:"nbf"`
	ID         string           `json:"jti"`
	SessionID  string           `json:"sid"`
	TenantID   string           `json:"tid"`
	ClientID   string           `json:"client_id"`
	Roles      []string         `json:"roles"`
	AMR        []string         `json:"amr"`
	Actor      *actClaim        `json:"act"`
	Scope      string           `json:"scope"`
	Payload    string           `json:"payload"`
	Restricted bool             `json:"pwd_change_required"`
}

// decodeClaims parses the payload of a verified token.
func decodeClaims(payload []byte) (*wireClaims, error) {
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("claims are not a valid JSON object: %w", err)
	}
	return &w, nil
}

// missing returns the name of the first required claim that is absent.
func (w *wireClaims) missing() string {
	switch {
	case w.Subject == "":
		return "sub"
	case w.SessionID == "":
		return "sid"
	case w.TenantID == "":
		return "tid"
	case w.ID == "":
		return "jti"
	case w.ExpiresAt == nil:
		return "exp"
	case w.IssuedAt == nil:
		return "iat"
	}
	return ""
}

func (w *wireClaims) claims() *Claims {
	c := &Claims{
		Issuer:                 w.Issuer,
		Subject:                w.Subject,
		Audience:               []string(w.Audience),
		ExpiresAt:              timeOf(w.ExpiresAt),
		IssuedAt:               timeOf(w.IssuedAt),
		NotBefore:              timeOf(w.NotBefore),
		ID:                     w.ID,
		SessionID:              w.SessionID,
		TenantID:               w.TenantID,
		ClientID:               w.ClientID,
		Roles:                  w.Roles,
		AMR:                    w.AMR,
		Scope:                  w.Scope,
		Payload:                w.Payload,
		PasswordChangeRequired: w.Restricted,
	}
	if c.Roles == nil {
		c.Roles = []string{}
	}
	if w.Actor != nil {
		c.Actor = w.Actor.Sub
	}
	return c
}

func timeOf(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time().UTC()
}

type claimsKey struct{}

// ContextWithClaims returns a copy of ctx that carries c; Middleware does
// this for every request it lets through (and tests of handlers may too).
func ContextWithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFromContext returns the claims Middleware put in the request
// context, and false when there are none.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}
