package sdk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults of Config.
const (
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway is the largest skew Config.Leeway may ask for.
	MaxLeeway = 5 * time.Minute
	// DefaultKeyRefetchInterval is the least time between two fetches of the
	// key set caused by tokens naming unknown kids.
	DefaultKeyRefetchInterval = time.Second
	// DefaultKeyMaxAge is the age after which the cached key set is fetched
	// again, so that keys the issuer stopped publishing stop verifying.
	DefaultKeyMaxAge = 10 * time.Minute
)

// maxTokenBytes bounds the tokens Verify parses.
const maxTokenBytes = 16 << 10

// supportedAlgs are the algs Gatehouse signs with. Nothing else (never
// "none", never HMAC) is ever accepted.
var supportedAlgs = []string{string(jose.EdDSA), string(jose.ES256), string(jose.RS256)}

// parseAlgs lets every alg through the parser so that Verify refuses the
// unaccepted ones itself, with a precise message.
var parseAlgs = []jose.SignatureAlgorithm{
	"none", jose.EdDSA, jose.ES256, jose.ES384, jose.ES512,
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.HS256, jose.HS384, jose.HS512,
}

// Config configures a Verifier. Only Issuer is required.
type Config struct {
	// Issuer is Gatehouse's issuer (GATEHOUSE_ISSUER), e.g.
	// "https://auth.example.com". Tokens must carry exactly this iss, and
	// discovery is read from Issuer + "/.well-known/openid-configuration".
	Issuer string
	// Audience must be one of the token's aud values. The default is the
	// issuer, which only first-party tokens carry (those of Gatehouse's
	// built-in client and of clients created with first_party); a resource
	// server of a client sets it to that client's id, the only aud of the
	// client's tokens (OAuth 2.0 grants, app-family tokens).
	Audience string
	// Tenant, when set, is the only tenant (tid) accepted. Set it when the
	// service belongs to one tenant.
	Tenant string
	// Algorithms are the accepted signature algorithms, a subset of EdDSA,
	// ES256 and RS256 (the default: all three).
	Algorithms []string
	// Leeway is the clock skew allowed on exp, nbf and iat (default
	// DefaultLeeway, at most MaxLeeway; a negative value means none).
	Leeway time.Duration
	// JWKSURL, when set, is where the keys are fetched, and discovery is
	// skipped.
	JWKSURL string
	// KeyRefetchInterval is the least time between two fetches of the key
	// set caused by unknown kids (default DefaultKeyRefetchInterval).
	KeyRefetchInterval time.Duration
	// KeyMaxAge is the age after which the key set is fetched again
	// (default DefaultKeyMaxAge).
	KeyMaxAge time.Duration
	// AllowPasswordChange accepts tokens that only allow a password change
	// (Claims.PasswordChangeRequired). Leave it false unless the service
	// changes passwords.
	AllowPasswordChange bool
	// HTTPClient makes the requests to Gatehouse (default: a client with a
	// 10-second timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Verifier verifies Gatehouse access tokens offline. It is safe for
// concurrent use.
type Verifier struct {
	cfg            Config
	keys           *keyCache
	revocationsURL string
	revoked        *revocationSet
}

// NewVerifier checks cfg, reads the issuer's discovery document (unless
// cfg.JWKSURL is set) and returns a Verifier. Keys are fetched when the
// first token is verified.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	revocations := cfg.Issuer + "/oauth2/revocations"
	jwksURL := cfg.JWKSURL
	if jwksURL == "" {
		d, err := discover(ctx, cfg.HTTPClient, cfg.Issuer)
		if err != nil {
			return nil, fmt.Errorf("gatehouse: new verifier: %w", err)
		}
		jwksURL = d.JWKSURI
		if d.RevocationsEndpoint != "" {
			revocations = d.RevocationsEndpoint
		}
	}
	return &Verifier{
		cfg: cfg,
		keys: &keyCache{url: jwksURL, hc: cfg.HTTPClient, now: cfg.Now,
			minRefetch: cfg.KeyRefetchInterval, maxAge: cfg.KeyMaxAge},
		revocationsURL: revocations,
		revoked:        newRevocationSet(),
	}, nil
}

// fill checks the configuration and sets the defaults.
func (c *Config) fill() error {
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	u, err := url.Parse(c.Issuer)
	if c.Issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("gatehouse: new verifier: Issuer must be an absolute http(s) URL")
	}
	if c.Audience == "" {
		c.Audience = c.Issuer
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = supportedAlgs
	}
	for _, a := range c.Algorithms {
		if !slices.Contains(supportedAlgs, a) {
			return fmt.Errorf("gatehouse: new verifier: algorithm %q is not supported (want EdDSA, ES256 or RS256)", a)
		}
	}
	switch {
	case c.Leeway == 0:
		c.Leeway = DefaultLeeway
	case c.Leeway < 0:
		c.Leeway = 0
	case c.Leeway > MaxLeeway:
		return fmt.Errorf("gatehouse: new verifier: Leeway %s exceeds %s", c.Leeway, MaxLeeway)
	}
	if c.KeyRefetchInterval <= 0 {
		c.KeyRefetchInterval = DefaultKeyRefetchInterval
	}
	if c.KeyMaxAge <= 0 {
		c.KeyMaxAge = DefaultKeyMaxAge
	}
	if c.HTTPClient == nil {
		c.HTTPClient = defaultHTTPClient
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Verify checks an access token and returns its claims. The checks, each
// with its own message, in order: size; compact JWS with one signature;
// typ at+jwt; alg accepted; kid known (an unknown kid makes the key set be
// fetched again, at most once per KeyRefetchInterval); the key fits the
// alg; signature; iss; aud; exp, nbf and iat with the leeway; the claims
// sub, sid, tid, jti, exp and iat present; tenant; password-change-only
// tokens; and, when FollowRevocations runs, the session not revoked.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if raw == "" {
		return nil, invalid("empty token")
	}
	if len(raw) > maxTokenBytes {
		return nil, invalid("longer than %d bytes", maxTokenBytes)
	}
	jws, err := jose.ParseSignedCompact(raw, parseAlgs)
	if err != nil {
		return nil, invalid("not a compact JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("%d signatures, want exactly one", len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, invalid("typ %q is not at+jwt", typ)
	}
	if !slices.Contains(v.cfg.Algorithms, h.Algorithm) {
		return nil, invalid("alg %q is not accepted", h.Algorithm)
	}
	if h.KeyID == "" {
		return nil, invalid("header has no kid")
	}
	key, err := v.keys.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if !keyFitsAlg(key, h.Algorithm) {
		return nil, invalid("alg %q does not fit key %s", h.Algorithm, h.KeyID)
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, invalid("signature does not verify with key %s", h.KeyID)
	}
	w, err := decodeClaims(payload)
	if err != nil {
		return nil, invalid("%v", err)
	}
	if err := v.checkClaims(w); err != nil {
		return nil, err
	}
	return w.claims(), nil
}

// checkClaims applies the checks on the verified claims.
func (v *Verifier) checkClaims(w *wireClaims) error {
	now := v.cfg.Now()
	skew := v.cfg.Leeway
	if w.Issuer != v.cfg.Issuer {
		return invalid("iss %q is not %q", w.Issuer, v.cfg.Issuer)
	}
	if !slices.Contains([]string(w.Audience), v.cfg.Audience) {
		return invalid("aud %q does not contain %q", []string(w.Audience), v.cfg.Audience)
	}
	if name := w.missing(); name != "" {
		return invalid("claim %s is missing", name)
	}
	if exp := w.ExpiresAt.Time(); !now.Before(exp.Add(skew)) {
		return fmt.Errorf("%w: %w: at %s", ErrInvalidToken, ErrTokenExpired, exp.UTC().Format(time.RFC3339))
	}
	if w.NotBefore != nil && now.Add(skew).Before(w.NotBefore.Time()) {
		return invalid("not valid before %s", w.NotBefore.Time().UTC().Format(time.RFC3339))
	}
	if now.Add(skew).Before(w.IssuedAt.Time()) {
		return invalid("issued in the future (%s)", w.IssuedAt.Time().UTC().Format(time.RFC3339))
	}
	if v.cfg.Tenant != "" && w.TenantID != v.cfg.Tenant {
		return invalid("tenant %q is not %q", w.TenantID, v.cfg.Tenant)
	}
	if w.Restricted && !v.cfg.AllowPasswordChange {
		return invalid("the token only allows a password change")
	}
	return v.revoked.check(w.SessionID, now)
}
