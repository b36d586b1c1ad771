package federation

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Claims are the verified claims of an ID token that Gatehouse uses.
type Claims struct {
	Issuer            string
	Subject           string
	Audience          []string
	AuthorizedParty   string // azp
	ExpiresAt         time.Time
	IssuedAt          time.Time
	NotBefore         time.Time // zero when absent
	ID                string    // jti, empty when absent
	Email             string
	EmailVerified     bool
	Name              string
	GivenName         string
	FamilyName        string
	PreferredUsername string
	Picture           string
	// Raw is the whole verified payload, for callers that need more claims.
	Raw json.RawMessage
}

// wireClaims is the JSON form of the claims Verify reads itself; go-oidc
// has already checked iss and exp by then.
type wireClaims struct {
	Issuer            string       `json:"iss"`
	Subject           string       `json:"sub"`
	Audience          audience     `json:"aud"`
	AuthorizedParty   string       `json:"azp"`
	ExpiresAt         *numericDate `json:"exp"`
	IssuedAt          *numericDate `json:"iat"`
	NotBefore         *numericDate `json:"nbf"`
	ID                string       `json:"jti"`
	Email             string       `json:"email"`
	EmailVerified     flexBool     `json:"email_verified"`
	Name              string       `json:"name"`
	GivenName         string       `json:"given_name"`
	FamilyName        string       `json:"family_name"`
	PreferredUsername string       `json:"preferred_username"`
	Picture           string       `json:"picture"`
}

func (w wireClaims) claims(raw []byte) Claims {
	return Claims{
		Issuer:            w.Issuer,
		Subject:           w.Subject,
		Audience:          []string(w.Audience),
		AuthorizedParty:   w.AuthorizedParty,
		ExpiresAt:         w.ExpiresAt.time(),
		IssuedAt:          w.IssuedAt.time(),
		NotBefore:         w.NotBefore.time(),
		ID:                w.ID,
		Email:             strings.TrimSpace(w.Email),
		EmailVerified:     bool(w.EmailVerified),
		Name:              w.Name,
		GivenName:         w.GivenName,
		FamilyName:        w.FamilyName,
		PreferredUsername: strings.TrimSpace(w.PreferredUsername),
		Picture:           w.Picture,
		Raw:               json.RawMessage(raw),
	}
}

// audience is "aud": a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud: want a string or an array of strings")
	}
	*a = many
	return nil
}

// numericDate is a JWT NumericDate: seconds since the epoch, possibly
// fractional.
type numericDate float64

func (d *numericDate) time() time.Time {
	if d == nil {
		return time.Time{}
	}
	sec := float64(*d)
	whole := int64(sec)
	return time.Unix(whole, int64((sec-float64(whole))*1e9)).UTC()
}

// flexBool accepts true/false and, as some providers send them, the strings
// "true"/"false".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var v bool
	if err := json.Unmarshal(b, &v); err == nil {
		*f = flexBool(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("email_verified: want a boolean")
	}
	*f = flexBool(strings.EqualFold(s, "true"))
	return nil
}
