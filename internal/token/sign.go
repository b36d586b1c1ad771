package token

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
)

// Sign returns c as an access token signed with the active key, with the
// header alg, kid and typ "at+jwt". An empty Issuer is set to the key set's
// issuer; ExpiresAt and IssuedAt are required. With EdDSA, signing the same
// claims twice yields the same token.
func (k *KeySet) Sign(c Claims) (string, error) {
	if c.Issuer == "" {
		c.Issuer = k.issuer
	}
	if c.ExpiresAt.IsZero() {
		return "", errors.New("sign access token: exp is required")
	}
	if c.IssuedAt.IsZero() {
		return "", errors.New("sign access token: iat is required")
	}
	payload, err := c.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	tok, err := k.sign(payload, true)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return tok, nil
}

// SignJWT signs arbitrary claims with the active key, with the header alg,
// kid and typ "JWT" (for OpenID Connect ID tokens). The claims are not
// checked; the caller sets iss, aud, exp and the rest.
func (k *KeySet) SignJWT(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign JWT: marshal claims: %w", err)
	}
	tok, err := k.sign(payload, false)
	if err != nil {
		return "", fmt.Errorf("sign JWT: %w", err)
	}
	return tok, nil
}

// sign signs payload with the active key's cached signer.
func (k *KeySet) sign(payload []byte, accessToken bool) (string, error) {
	snap := k.current()
	active := snap.active
	if priv, ok := active.private.(ed25519.PrivateKey); ok && accessToken && snap.activeATHeader != "" {
		return signEd25519(snap.activeATHeader, priv, payload), nil
	}
	signer := active.jwtSigner
	if accessToken {
		signer = active.atSigner
	}
	if signer == nil {
		return "", fmt.Errorf("key %s has no private part", active.kid)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", active.kid, err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serialize JWS: %w", err)
	}
	return tok, nil
}
