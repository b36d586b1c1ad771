// Package federation verifies ID tokens of external OpenID Connect
// providers: the checks of OpenID Connect Core §3.1.3.7 on top of go-oidc,
// a per-provider key cache, and a replay guard. It serves the native
// family's ID-token sign-in and the OAuth 2.0 token exchange alike.
package federation

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Defaults of Options.
const (
	// DefaultRefetchInterval is the least time between two fetches of one
	// provider's keys.
	DefaultRefetchInterval = time.Minute
	// DefaultCacheTTL is how long fetched keys are used before they are
	// fetched again on the next token (keys removed at the provider stop
	// being trusted within this time).
	DefaultCacheTTL = time.Hour
	// DefaultSkew is the clock difference tolerated on iat and nbf.
	DefaultSkew = 60 * time.Second
	// MaxTokenLen bounds a presented ID token before any parsing.
	MaxTokenLen = 16 << 10
	// maxCachedProviders bounds the key cache; beyond it the cache starts afresh.
	maxCachedProviders = 1024
)

// ReplayGuard remembers accepted ID tokens. The store implements it.
type ReplayGuard interface {
	// RememberIDToken records key for issuer until exp; store.ErrConflict
	// when it is already remembered (a replay).
	RememberIDToken(ctx context.Context, tenantID, issuer, key string, exp, now time.Time) error
}

// Options configure a Verifier. Only Replay is required.
type Options struct {
	// Replay remembers accepted tokens so that each is accepted once.
	Replay ReplayGuard
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
	// HTTPClient fetches discovery documents and key sets (default
	// NewHTTPClient(AllowInsecure)).
	HTTPClient *http.Client
	// AllowInsecure accepts http URLs and provider hosts on loopback,
	// private and link-local addresses (development and tests).
	AllowInsecure bool
	// RefetchInterval is the least time between two key fetches per provider.
	RefetchInterval time.Duration
	// CacheTTL is how long fetched keys are used without fetching again.
	CacheTTL time.Duration
	// MaxResponseBytes bounds a fetched document (default 1 MiB).
	MaxResponseBytes int64
	// Skew is the clock difference tolerated on iat and nbf (default 60s).
	Skew time.Duration
	// Logger receives fetch failures (default slog.Default()).
	Logger *slog.Logger
}

// Verifier verifies ID tokens of the providers it is given. It is safe for
// concurrent use and keeps one key cache per provider.
type Verifier struct {
	replay ReplayGuard
	now    func() time.Time
	client *http.Client
	// allowInsecure lets discovery name an http or private jwks_uri.
	allowInsecure bool
	refetch       time.Duration
	cacheTTL      time.Duration
	maxBytes      int64
	skew          time.Duration
	log           *slog.Logger

	mu   sync.Mutex
	sets map[string]*keySet
}

// New returns a Verifier.
func New(opts Options) (*Verifier, error) {
	if opts.Replay == nil {
		return nil, errors.New("federation: a replay guard is required")
	}
	v := &Verifier{
		replay: opts.Replay,
		now:    opts.Now,
		client: opts.HTTPClient,

		allowInsecure: opts.AllowInsecure,
		refetch:       opts.RefetchInterval,
		cacheTTL:      opts.CacheTTL,
		maxBytes:      opts.MaxResponseBytes,
		skew:          opts.Skew,
		log:           opts.Logger,
		sets:          map[string]*keySet{},
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.client == nil {
		v.client = NewHTTPClient(opts.AllowInsecure)
	}
	if v.refetch <= 0 {
		v.refetch = DefaultRefetchInterval
	}
	if v.cacheTTL <= 0 {
		v.cacheTTL = DefaultCacheTTL
	}
	if v.maxBytes <= 0 {
		v.maxBytes = DefaultMaxResponseBytes
	}
	if v.skew <= 0 {
		v.skew = DefaultSkew
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	return v, nil
}

// Verify checks rawIDToken as an ID token of provider p and returns its
// claims. Every check of OpenID Connect Core §3.1.3.7 applies: a signature
// by one of the provider's keys with an allowed algorithm, iss equal to the
// provider's issuer, aud containing one of its audiences (and azp one of
// them when there are several audiences, or whenever azp is present), exp
// in the future, iat not in the future and nbf passed (both with the
// tolerated skew). Last, the token is remembered until its exp: the same
// token presented again is refused as a replay. A refusal is an *Error; any
// other error means the replay guard could not be reached.
func (v *Verifier) Verify(ctx context.Context, p store.Provider, rawIDToken string) (Claims, error) {
	if rawIDToken == "" || len(rawIDToken) > MaxTokenLen {
		return Claims{}, refuse(ReasonMalformed, "the ID token is empty or too long")
	}
	if p.Issuer == "" || len(p.Audiences) == 0 {
		return Claims{}, refuse(ReasonProviderSettings, "the provider has no issuer or no audience")
	}
	algs := Algorithms(p)
	if err := checkHeader(rawIDToken, algs); err != nil {
		return Claims{}, err
	}
	now := v.now()

	f := &failure{}
	vctx := context.WithValue(ctx, failureKey{}, f)
	ov := oidc.NewVerifier(p.Issuer, v.keySet(p, algs), &oidc.Config{
		SkipClientIDCheck:    true, // several audiences: checked below
		SupportedSigningAlgs: algs,
		Now:                  func() time.Time { return now },
	})
	tok, err := ov.Verify(vctx, rawIDToken)
	if err != nil {
		return Claims{}, classify(err, f)
	}
	var payload json.RawMessage
	if err := tok.Claims(&payload); err != nil {
		return Claims{}, &Error{Reason: ReasonMalformed, Detail: "the claims cannot be read", Err: err}
	}
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return Claims{}, &Error{Reason: ReasonMalformed, Detail: "the claims cannot be read", Err: err}
	}
	c := w.claims(payload)
	if err := v.checkClaims(p, c, now); err != nil {
		return Claims{}, err
	}
	if err := v.remember(ctx, p, c, rawIDToken, now); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// checkHeader refuses a token whose alg is not allowed before anything
// else, so that the answer names the real reason.
func checkHeader(raw string, algs []string) error {
	seg, _, ok := strings.Cut(raw, ".")
	if !ok {
		return refuse(ReasonMalformed, "the ID token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return refuse(ReasonMalformed, "the ID token's header is not base64url")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return refuse(ReasonMalformed, "the ID token's header is not JSON")
	}
	if !slices.Contains(algs, h.Alg) {
		return refuse(ReasonAlgorithm, fmt.Sprintf("the algorithm %q is not allowed for this provider", h.Alg))
	}
	return nil
}

// classify turns a go-oidc error into a refusal with its reason.
func classify(err error, f *failure) error {
	if f.err != nil {
		return f.err
	}
	var expired *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &expired):
		return &Error{Reason: ReasonExpired, Detail: "the ID token has expired", Err: err}
	case strings.Contains(msg, "issued by a different provider"):
		return &Error{Reason: ReasonIssuer, Detail: "the ID token was issued by another issuer", Err: err}
	case strings.Contains(msg, "nbf"):
		return &Error{Reason: ReasonNotYetValid, Detail: "the ID token is not valid yet", Err: err}
	}
	return &Error{Reason: ReasonMalformed, Detail: "the ID token cannot be read", Err: err}
}

// checkClaims applies the checks go-oidc leaves to the caller.
func (v *Verifier) checkClaims(p store.Provider, c Claims, now time.Time) error {
	switch {
	case c.Subject == "":
		return refuse(ReasonMissingClaim, "the ID token has no sub")
	case c.IssuedAt.IsZero():
		return refuse(ReasonMissingClaim, "the ID token has no iat")
	case !containsAny(c.Audience, p.Audiences):
		return refuse(ReasonAudience, "the ID token is not meant for this provider's audiences")
	case len(c.Audience) > 1 && c.AuthorizedParty == "":
		return refuse(ReasonAuthorizedParty, "an ID token with several audiences must name its azp")
	case c.AuthorizedParty != "" && !slices.Contains(p.Audiences, c.AuthorizedParty):
		return refuse(ReasonAuthorizedParty, "the ID token's azp is not one of this provider's audiences")
	case c.IssuedAt.After(now.Add(v.skew)):
		return refuse(ReasonIssuedInFuture, "the ID token is issued in the future")
	case !c.NotBefore.IsZero() && c.NotBefore.After(now.Add(v.skew)):
		return refuse(ReasonNotYetValid, "the ID token is not valid yet")
	}
	return nil
}

// remember records the token until its exp: by its jti when it has one,
// else by its own hash. Both are hashed so that the key has a fixed size.
func (v *Verifier) remember(ctx context.Context, p store.Provider, c Claims, raw string, now time.Time) error {
	key := "tok:" + sha256Hex(raw)
	if c.ID != "" {
		key = "jti:" + sha256Hex(c.ID)
	}
	err := v.replay.RememberIDToken(ctx, p.TenantID, p.Issuer, key, c.ExpiresAt, now)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConflict):
		return refuse(ReasonReplayed, "the ID token has been used before")
	default:
		return fmt.Errorf("remember id token: %w", err)
	}
}

// keySet returns the key cache of p. A provider changed in a way that
// affects its keys (issuer, jwks_uri, algorithms) gets a new cache.
func (v *Verifier) keySet(p store.Provider, algs []string) *keySet {
	id := strings.Join([]string{p.TenantID, p.Name, p.Issuer, p.JWKSURI, strings.Join(algs, ",")}, "\x00")
	v.mu.Lock()
	defer v.mu.Unlock()
	if ks, ok := v.sets[id]; ok {
		return ks
	}
	if len(v.sets) >= maxCachedProviders {
		v.sets = map[string]*keySet{}
	}
	ja := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		ja[i] = jose.SignatureAlgorithm(a)
	}
	ks := &keySet{v: v, issuer: p.Issuer, jwksURI: p.JWKSURI, algs: ja}
	v.sets[id] = ks
	return ks
}

func containsAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
