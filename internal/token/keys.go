package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Signing algorithms Gatehouse can sign and verify with.
const (
	AlgEdDSA = "EdDSA" // Ed25519, the default
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256
	AlgRS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
)

// rsaBits is the modulus size of generated RSA keys.
const rsaBits = 2048

// Header types of the tokens the key set signs.
const (
	typAccessToken = "at+jwt"
	typJWT         = "JWT"
)

// supportedAlg reports whether alg is one Gatehouse signs with.
func supportedAlg(alg string) bool {
	switch alg {
	case AlgEdDSA, AlgES256, AlgRS256:
		return true
	}
	return false
}

// key is one parsed signing key. It is immutable once built: the private
// key is parsed once, and the go-jose signers are built once and shared by
// concurrent Sign calls.
type key struct {
	kid          string
	alg          jose.SignatureAlgorithm
	public       jose.JSONWebKey // public part, with kid, alg and use "sig"
	publicJSON   []byte          // public as stored
	createdAt    time.Time       // when it was generated and first published
	signsFrom    time.Time       // when it starts signing (createdAt, or later after an activation delay)
	retiredAt    time.Time       // zero for the newest key; when its successor starts signing otherwise
	publishUntil time.Time       // zero for the newest key

	// Only keys that sign now or will sign later carry their private part
	// and signers.
	private   crypto.Signer
	atSigner  jose.Signer // typ "at+jwt"
	jwtSigner jose.Signer // typ "JWT"
}

// generateKey creates a new private key of alg.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case AlgEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate Ed25519 key: %w", err)
		}
		return priv, nil
	case AlgES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate P-256 key: %w", err)
		}
		return priv, nil
	case AlgRS256:
		priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, fmt.Errorf("generate RSA key: %w", err)
		}
		return priv, nil
	}
	return nil, fmt.Errorf("generate key: unsupported alg %q (want EdDSA, ES256 or RS256)", alg)
}

// checkKeyType reports an error unless pub is the kind of key alg needs.
func checkKeyType(alg string, pub crypto.PublicKey) error {
	ok := false
	switch p := pub.(type) {
	case ed25519.PublicKey:
		ok = alg == AlgEdDSA
	case *ecdsa.PublicKey:
		ok = alg == AlgES256 && p.Curve == elliptic.P256()
	case *rsa.PublicKey:
		ok = alg == AlgRS256 && p.N.BitLen() >= 2048
	}
	if !ok {
		return fmt.Errorf("key of type %T does not match alg %q", pub, alg)
	}
	return nil
}

// publicJWK returns the public JWK of priv for alg, with its kid: the
// RFC 7638 SHA-256 thumbprint, base64url.
func publicJWK(priv crypto.Signer, alg string) (jose.JSONWebKey, error) {
	jwk := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return jwk, nil
}

// newSigningKey generates a key of alg, published from now and signing
// from activates (not before now), and returns it parsed together with its
// stored form (private part as PKCS#8 DER sealed with aad = kid).
func newSigningKey(alg string, sealer *Sealer, now, activates time.Time) (*key, store.SigningKey, error) {
	priv, err := generateKey(alg)
	if err != nil {
		return nil, store.SigningKey{}, err
	}
	jwk, err := publicJWK(priv, alg)
	if err != nil {
		return nil, store.SigningKey{}, err
	}
	pubJSON, err := jwk.MarshalJSON()
	if err != nil {
		return nil, store.SigningKey{}, fmt.Errorf("marshal public JWK: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, store.SigningKey{}, fmt.Errorf("marshal private key: %w", err)
	}
	enc, err := sealer.Seal(der, []byte(jwk.KeyID))
	clear(der)
	if err != nil {
		return nil, store.SigningKey{}, fmt.Errorf("seal private key: %w", err)
	}
	sk := store.SigningKey{
		KID:        jwk.KeyID,
		Alg:        alg,
		PrivateEnc: enc,
		PublicJWK:  pubJSON,
		CreatedAt:  now.UTC().Truncate(time.Microsecond),
	}
	if activates = activates.UTC().Truncate(time.Microsecond); activates.After(sk.CreatedAt) {
		sk.ActivatesAt = activates
	}
	k := &key{
		kid:        jwk.KeyID,
		alg:        jose.SignatureAlgorithm(alg),
		public:     jwk,
		publicJSON: pubJSON,
		createdAt:  sk.CreatedAt,
		signsFrom:  sk.SignsFrom(),
	}
	if err := k.setPrivate(priv); err != nil {
		return nil, store.SigningKey{}, err
	}
	return k, sk, nil
}

// parsePublic parses the public part of a stored key and checks that it is
// consistent with the record's kid and alg.
func parsePublic(sk store.SigningKey) (*key, error) {
	if !supportedAlg(sk.Alg) {
		return nil, fmt.Errorf("signing key %s: unsupported alg %q", sk.KID, sk.Alg)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(sk.PublicJWK); err != nil {
		return nil, fmt.Errorf("signing key %s: parse public JWK: %w", sk.KID, err)
	}
	if !jwk.IsPublic() || !jwk.Valid() {
		return nil, fmt.Errorf("signing key %s: stored JWK is not a valid public key", sk.KID)
	}
	if jwk.KeyID != sk.KID {
		return nil, fmt.Errorf("signing key %s: JWK kid %q differs from the record", sk.KID, jwk.KeyID)
	}
	if jwk.Algorithm != sk.Alg {
		return nil, fmt.Errorf("signing key %s: JWK alg %q differs from the record's %q", sk.KID, jwk.Algorithm, sk.Alg)
	}
	if err := checkKeyType(sk.Alg, jwk.Key); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", sk.KID, err)
	}
	jwk.Use = "sig"
	return &key{
		kid:          sk.KID,
		alg:          jose.SignatureAlgorithm(sk.Alg),
		public:       jwk,
		publicJSON:   sk.PublicJWK,
		createdAt:    sk.CreatedAt,
		signsFrom:    sk.SignsFrom(),
		retiredAt:    sk.RetiredAt,
		publishUntil: sk.PublishUntil,
	}, nil
}

// openPrivate decrypts and parses the private part of a stored key and
// attaches it to k, whose public part must match.
func (k *key) openPrivate(sk store.SigningKey, sealer *Sealer) error {
	der, err := sealer.Open(sk.PrivateEnc, []byte(sk.KID))
	if err != nil {
		return fmt.Errorf("signing key %s: decrypt private key (wrong master key?): %w", sk.KID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return fmt.Errorf("signing key %s: parse private key: %w", sk.KID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return fmt.Errorf("signing key %s: private key of type %T cannot sign", sk.KID, parsed)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := priv.Public().(equaler); !ok || !pub.Equal(k.public.Key) {
		return fmt.Errorf("signing key %s: private key does not match the published public key", sk.KID)
	}
	return k.setPrivate(priv)
}

// setPrivate attaches priv to k and builds the go-jose signers once.
func (k *key) setPrivate(priv crypto.Signer) error {
	if err := checkKeyType(string(k.alg), priv.Public()); err != nil {
		return fmt.Errorf("signing key %s: %w", k.kid, err)
	}
	sigKey := jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: priv, KeyID: k.kid}}
	at, err := jose.NewSigner(sigKey, (&jose.SignerOptions{}).WithType(typAccessToken))
	if err != nil {
		return fmt.Errorf("signing key %s: new signer: %w", k.kid, err)
	}
	plain, err := jose.NewSigner(sigKey, (&jose.SignerOptions{}).WithType(typJWT))
	if err != nil {
		return fmt.Errorf("signing key %s: new signer: %w", k.kid, err)
	}
	k.private, k.atSigner, k.jwtSigner = priv, at, plain
	return nil
}

// retired returns a copy of k retired at t and published until until. It
// keeps its private part, since it signs until t; a snapshot built at or
// after t drops it (withoutPrivate).
func (k *key) retired(t, until time.Time) *key {
	r := *k
	r.retiredAt, r.publishUntil = t, until
	return &r
}

// signsAt reports whether k is the kind of key that signs at t: its
// activation has come and its successor's has not.
func (k *key) signsAt(t time.Time) bool {
	return !t.Before(k.signsFrom) && (k.retiredAt.IsZero() || t.Before(k.retiredAt))
}

// signsLater reports whether k will sign after t: it is not retired, or
// retired only after t.
func (k *key) signsLater(t time.Time) bool {
	return k.retiredAt.IsZero() || t.Before(k.retiredAt)
}

// withoutPrivate returns a copy of k without its private part and signers.
func (k *key) withoutPrivate() *key {
	r := *k
	r.private, r.atSigner, r.jwtSigner = nil, nil, nil
	return &r
}
