// Package fedtest runs a real OpenID provider for tests: an HTTP server
// that serves a discovery document and a JWKS, and signs ID tokens with RSA
// and ECDSA keys that it can rotate. It also forges the tokens an attacker
// would try: unsigned, HMAC-signed with the public key, tampered, or signed
// by a key the provider never published.
package fedtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is one signing key of the provider.
type Key struct {
	KID  string
	Alg  string // RS256 or ES256
	priv crypto.Signer
}

// Provider is a running test OpenID provider. Its issuer is the server's
// base URL; discovery is at /.well-known/openid-configuration and the keys
// at /jwks.
type Provider struct {
	t      testing.TB
	server *httptest.Server
	// Issuer is the provider's issuer identifier (its base URL).
	Issuer string
	// JWKSURI is where the provider publishes its keys.
	JWKSURI string

	mu         sync.Mutex
	published  []*Key
	active     *Key
	serial     int
	jwksHits   int
	discovHits int
}

// New starts a provider with two published keys, an RSA key (RS256, the
// active one) and an ECDSA P-256 key (ES256), and stops it when the test ends.
func New(t testing.TB) *Provider {
	t.Helper()
	p := &Provider{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("GET /jwks", p.serveJWKS)
	p.server = httptest.NewServer(mux)
	t.Cleanup(p.server.Close)
	p.Issuer = p.server.URL
	p.JWKSURI = p.server.URL + "/jwks"
	rsaKey := p.AddKey("RS256")
	p.AddKey("ES256")
	p.SetActive(rsaKey.KID)
	return p
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	p.discovHits++
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                p.Issuer,
		"jwks_uri":                              p.JWKSURI,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
	})
}

func (p *Provider) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	p.jwksHits++
	set := jose.JSONWebKeySet{}
	for _, k := range p.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.KID, Algorithm: k.Alg, Use: "sig"})
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(set)
}

// newKey generates a key for alg (RS256 or ES256) with a fresh kid.
func (p *Provider) newKey(alg string) *Key {
	p.t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		p.t.Fatalf("fedtest: unsupported algorithm %q", alg)
	}
	if err != nil {
		p.t.Fatalf("fedtest: generate %s key: %v", alg, err)
	}
	p.mu.Lock()
	p.serial++
	kid := fmt.Sprintf("%s-%d", strings.ToLower(alg[:2]), p.serial)
	p.mu.Unlock()
	return &Key{KID: kid, Alg: alg, priv: priv}
}

// AddKey generates and publishes a key; the active key does not change.
func (p *Provider) AddKey(alg string) *Key {
	p.t.Helper()
	k := p.newKey(alg)
	p.mu.Lock()
	p.published = append(p.published, k)
	p.mu.Unlock()
	return k
}

// SetActive makes the published key kid the one Sign uses.
func (p *Provider) SetActive(kid string) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range p.published {
		if k.KID == kid {
			p.active = k
			return
		}
	}
	p.t.Fatalf("fedtest: no published key %q", kid)
}

// Rotate publishes a new key for alg, makes it active and retires
// (unpublishes) the previously active key. It returns the new key.
func (p *Provider) Rotate(alg string) *Key {
	p.t.Helper()
	k := p.newKey(alg)
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.published[:0]
	for _, old := range p.published {
		if old != p.active {
			kept = append(kept, old)
		}
	}
	p.published = append(kept, k)
	p.active = k
	return k
}

// Active returns the key Sign uses.
func (p *Provider) Active() *Key {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active
}

// Key returns the published key with the given algorithm (the first one).
func (p *Provider) Key(alg string) *Key {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range p.published {
		if k.Alg == alg {
			return k
		}
	}
	p.t.Fatalf("fedtest: no published %s key", alg)
	return nil
}

// JWKSFetches counts the requests for the key set so far.
func (p *Provider) JWKSFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksHits
}

// DiscoveryFetches counts the requests for the discovery document so far.
func (p *Provider) DiscoveryFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.discovHits
}

// Claims returns the claims of a valid ID token for sub and aud issued at
// now: iss, sub, aud, iat, exp (ten minutes later) and a random jti. Tests
// change or delete entries to break one rule at a time.
func (p *Provider) Claims(sub, aud string, now time.Time) map[string]any {
	return map[string]any{
		"iss": p.Issuer,
		"sub": sub,
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
		"jti": randomID(),
	}
}

// Sign signs claims with the active key.
func (p *Provider) Sign(claims map[string]any) string {
	p.t.Helper()
	return p.SignWith(p.Active(), claims)
}

// SignWith signs claims with k (published or not), naming k.KID in the header.
func (p *Provider) SignWith(k *Key, claims map[string]any) string {
	p.t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.KID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: k.priv}, opts)
	if err != nil {
		p.t.Fatalf("fedtest: signer: %v", err)
	}
	return p.sign(signer, claims)
}

// SignUnpublished signs claims with a new key of alg that the provider
// never publishes, under the kid of the active key: a forged signature.
func (p *Provider) SignUnpublished(alg string, claims map[string]any) string {
	p.t.Helper()
	k := p.newKey(alg)
	k.KID = p.Active().KID
	return p.SignWith(k, claims)
}

// SignHS256WithPublicKey signs claims with HMAC-SHA256 keyed with the PEM
// of the active key's public key, under its kid: the algorithm-confusion
// attack.
func (p *Provider) SignHS256WithPublicKey(claims map[string]any) string {
	p.t.Helper()
	k := p.Active()
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		p.t.Fatalf("fedtest: marshal public key: %v", err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.KID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, opts)
	if err != nil {
		p.t.Fatalf("fedtest: hmac signer: %v", err)
	}
	return p.sign(signer, claims)
}

// SignNone returns claims as an unsigned JWT with "alg": "none".
func (p *Provider) SignNone(claims map[string]any) string {
	p.t.Helper()
	header := map[string]any{"alg": "none", "typ": "JWT", "kid": p.Active().KID}
	return segment(p.t, header) + "." + segment(p.t, claims) + "."
}

// Tamper replaces the payload of a signed token with claims, keeping the
// original header and signature.
func (p *Provider) Tamper(token string, claims map[string]any) string {
	p.t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		p.t.Fatalf("fedtest: not a compact JWS: %q", token)
	}
	return parts[0] + "." + segment(p.t, claims) + "." + parts[2]
}

func (p *Provider) sign(signer jose.Signer, claims map[string]any) string {
	p.t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		p.t.Fatalf("fedtest: marshal claims: %v", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		p.t.Fatalf("fedtest: sign: %v", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		p.t.Fatalf("fedtest: serialize: %v", err)
	}
	return out
}

func segment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("fedtest: marshal: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}
