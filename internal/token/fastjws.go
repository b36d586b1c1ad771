package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Access tokens signed with Ed25519 take a direct path, without the
// general JWS machinery: the protected header of a key never changes, so
// it is encoded once per key, and a token whose header segment is exactly
// that encoding is verified with ed25519 alone. The header is the one
// go-jose writes ({"alg":...,"kid":...,"typ":"at+jwt"}, keys in order), so
// both paths yield the same token; any other header goes the general way.

// atHeaderSegment returns the base64url protected header of an access
// token signed by the key kid of alg.
func atHeaderSegment(alg, kid string) string {
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, kid, typAccessToken})
	if err != nil { // three strings: cannot happen
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(h)
}

// signEd25519 returns the compact JWS of payload under header.
func signEd25519(header string, priv ed25519.PrivateKey, payload []byte) string {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(header)+2+enc.EncodedLen(len(payload))+enc.EncodedLen(ed25519.SignatureSize))
	buf = append(buf, header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	sig := ed25519.Sign(priv, buf)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf)
}

// fastVerify verifies raw when its header is exactly the access-token
// header of a published Ed25519 key. known is false when the header is
// not one of them (the caller takes the general path); otherwise payload
// is the verified payload, or err says why raw is invalid.
func (s *snapshot) fastVerify(raw string) (k *key, payload []byte, known bool, err error) {
	// Anything but three segments is left to the general path and its messages.
	dot, last := strings.IndexByte(raw, '.'), strings.LastIndexByte(raw, '.')
	if dot < 0 || last == dot || strings.IndexByte(raw[dot+1:last], '.') >= 0 {
		return nil, nil, false, nil
	}
	k, ok := s.byATHeader[raw[:dot]]
	if !ok {
		return nil, nil, false, nil
	}
	pub, ok := k.public.Key.(ed25519.PublicKey)
	if !ok {
		return nil, nil, false, nil
	}
	// Strict: one token, one encoding (no variants in the unused bits).
	enc := base64.RawURLEncoding.Strict()
	sig, err := enc.DecodeString(raw[last+1:])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return k, nil, true, invalid("signature does not verify with key %s", k.kid)
	}
	if !ed25519.Verify(pub, []byte(raw[:last]), sig) {
		return k, nil, true, invalid("signature does not verify with key %s", k.kid)
	}
	payload, err = enc.DecodeString(raw[dot+1 : last])
	if err != nil {
		return k, nil, true, invalid("not a compact JWS: payload is not base64url")
	}
	return k, payload, true, nil
}
