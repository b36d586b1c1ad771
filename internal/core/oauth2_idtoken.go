package core

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// idToken signs the OpenID Connect ID token of a token response: iss, sub,
// aud (the client), azp, exp and iat (those of the access token),
// auth_time, sid, amr, at_hash, and the user claims the scope grants.
// Typ is JWT, so that it can never pass for an access token.
func (s *Service) idToken(c store.Client, res LoginResult, scope string) (string, error) {
	claims := userClaims(res.User, scope)
	claims["iss"] = s.policy.Issuer
	claims["sub"] = res.User.ID
	claims["aud"] = c.ID
	claims["azp"] = c.ID
	claims["exp"] = res.Claims.ExpiresAt.Unix()
	claims["iat"] = res.Claims.IssuedAt.Unix()
	claims["auth_time"] = res.Session.AuthTime.Unix()
	claims["sid"] = res.Session.ID
	if res.Session.BrowserSessionID != "" {
		// Browser sign-in: sid names the browser session, which logout
		// (and its logout tokens) speak of (OpenID Connect Front- and
		// Back-Channel Logout); the access token keeps the session's id.
		claims["sid"] = res.Session.BrowserSessionID
	}
	if res.nonce != "" {
		claims["nonce"] = res.nonce
	}
	claims["tid"] = res.Session.TenantID
	if len(res.Session.AMR) > 0 {
		claims["amr"] = res.Session.AMR
	}
	if res.Session.Actor != "" {
		claims["act"] = map[string]string{"sub": res.Session.Actor}
	}
	// at_hash depends on the alg of the key that signs, which a concurrent
	// rotation may change between choosing and signing: check and retry.
	for range 3 {
		algs := s.keys.Algs()
		if len(algs) == 0 {
			return "", errors.New("sign ID token: no signing key")
		}
		atHash, err := accessTokenHash(algs[0], res.AccessToken)
		if err != nil {
			return "", err
		}
		claims["at_hash"] = atHash
		tok, err := s.keys.SignJWT(claims)
		if err != nil {
			return "", fmt.Errorf("sign ID token: %w", err)
		}
		if headerAlg(tok) == algs[0] {
			return tok, nil
		}
	}
	return "", errors.New("sign ID token: the signing key kept changing")
}

// accessTokenHash is the at_hash of OpenID Connect Core §3.1.3.6: the
// left half of the hash of the access token, with the hash of the ID
// token's alg (SHA-512 for EdDSA, as for Ed25519 signatures).
func accessTokenHash(alg, accessToken string) (string, error) {
	var h hash.Hash
	switch alg {
	case "ES256", "RS256", "PS256":
		h = sha256.New()
	case "EdDSA":
		h = sha512.New()
	default:
		return "", fmt.Errorf("at_hash: unsupported alg %q", alg)
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}

// headerAlg returns the alg of a compact JWS, or "".
func headerAlg(tok string) string {
	head, _, ok := strings.Cut(tok, ".")
	if !ok {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Alg
}

// userClaims are the OpenID Connect standard claims of u that scope grants
// (OpenID Connect Core §5.4): profile → name, preferred_username, picture,
// updated_at, and Gatehouse's groups and roles; email → email; phone →
// phone_number. Empty values are left out. Gatehouse does not verify
// addresses, so email_verified and phone_number_verified are never sent.
func userClaims(u store.User, scope string) map[string]any {
	out := map[string]any{}
	if hasScope(scope, ScopeProfile) {
		name := u.DisplayName
		if name == "" {
			name = u.Username
		}
		out["name"] = name
		out["preferred_username"] = u.Username
		if u.AvatarURL != "" {
			out["picture"] = u.AvatarURL
		}
		if !u.UpdatedAt.IsZero() {
			out["updated_at"] = u.UpdatedAt.Unix()
		}
		out["groups"] = nonNil(u.Groups)
		out["roles"] = nonNil(u.Roles)
	}
	if hasScope(scope, ScopeEmail) && u.Email != "" {
		out["email"] = u.Email
	}
	if hasScope(scope, ScopePhone) && u.Phone != "" {
		out["phone_number"] = u.Phone
	}
	return out
}
