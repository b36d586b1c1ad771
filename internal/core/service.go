// Package core is the Gatehouse service: sign-in flows, sessions and refresh
// rotation, password policy and the administration of users. API families
// are thin adapters over it; nothing here knows about HTTP.
package core

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/internal/federation"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// DefaultTenant is the tenant created at start-up and used when a request names none.
const DefaultTenant = "default"

// Policy is the part of the configuration the core enforces.
type Policy struct {
	Issuer             string
	AccessTTL          time.Duration
	RefreshTTL         time.Duration
	SessionMaxLifetime time.Duration
	ReuseLeeway        time.Duration
	LoginMaxFailures   int
	LoginLockout       time.Duration
	IPMaxFailures      int
	// ReauthMaxAge is how recent a session's last interactive sign-in must
	// be for sensitive account changes without the password (see
	// Reauthenticate); 0 always asks for the password.
	ReauthMaxAge       time.Duration
	PasswordMinLength  int
	PasswordMaxAge     time.Duration
	PasswordWarnBefore time.Duration
	PasswordGrace      time.Duration
	// MFAMode is always, adaptive or off (see requiresSecondFactor); empty is always.
	MFAMode string
	// MFARiskLevel is the risk level (medium or high) from which adaptive
	// mode asks for a second factor; empty is medium.
	MFARiskLevel string
	// TicketMaxTTL caps the lifetime of one-time tickets (default 5m).
	TicketMaxTTL time.Duration
	// ProviderAllowInsecure accepts http provider URLs and provider hosts on
	// loopback, private and link-local addresses (development and tests).
	ProviderAllowInsecure bool
	// BrowserSessionTTL is the idle lifetime of a browser session (default
	// 8h); BrowserSessionMaxLifetime its absolute lifetime (default 7 days).
	BrowserSessionTTL         time.Duration
	BrowserSessionMaxLifetime time.Duration
	// WebhookAllowInsecure admits webhook URLs that are http or whose host
	// is a loopback, private or link-local address (development and tests).
	WebhookAllowInsecure bool
	// WebAuthnRPID overrides the relying party id of passkeys (default: the
	// issuer's host; passkeys are off when that is an IP address).
	WebAuthnRPID string
	// WebAuthnOrigins are origins accepted besides the issuer's own.
	WebAuthnOrigins []string
}

// failureWindow is how long a failed login counts towards a lockout.
func (p Policy) failureWindow() time.Duration {
	if p.LoginLockout > 0 {
		return p.LoginLockout
	}
	return 15 * time.Minute
}

// Metrics receives counts of security-relevant outcomes. The metrics package
// implements it; a nil Metrics is allowed.
type Metrics interface {
	Login(outcome string)
	Refresh(outcome string)
	// PasswordCheck counts one password hash verified (or the same work
	// done for an unknown user).
	PasswordCheck()
}

// Deps are the explicit dependencies of the Service.
type Deps struct {
	Store   store.Store
	Keys    *token.KeySet
	Hasher  *password.Hasher
	Sealer  *token.Sealer // encrypts leeway retry data at rest
	Clock   Clock
	Metrics Metrics
	Logger  *slog.Logger
	// AdminKey is the bearer key for the admin API; compared in constant time.
	AdminKey string

	// TOTPSealer encrypts TOTP secrets at rest; without it, TOTP factors
	// cannot be enrolled or checked.
	TOTPSealer *token.Sealer
	// KeyedHash hashes known devices and recovery codes; without it, a
	// random key is used and known devices are forgotten at restart.
	KeyedHash *token.KeyedHash

	// WebhookSealer encrypts webhook signing secrets at rest (the
	// dispatcher opens them with the same key); without it, webhook
	// endpoints cannot be created.
	WebhookSealer *token.Sealer
	// ProviderClient fetches providers' discovery documents and keys
	// (default federation.NewHTTPClient()).
	ProviderClient *http.Client
	// Events is woken whenever an event may have queued deliveries; nil
	// when nothing delivers them in this process.
	Events Waker
}

// Waker is told that the outbox may have new messages (events.Dispatcher).
type Waker interface{ Wake() }

type nopWaker struct{}

func (nopWaker) Wake() {}

// Service is the core of Gatehouse.
type Service struct {
	store    store.Store
	keys     *token.KeySet
	hasher   *password.Hasher
	sealer   *token.Sealer
	clock    Clock
	metrics  Metrics
	log      *slog.Logger
	policy   Policy
	adminKey string
	revoked  *revocations
	fed      *federation.Verifier // ID tokens of external providers
	apps     *appState
	users    *ttlCache[store.User] // users read by Me; see UserCacheTTL

	totpSealer *token.Sealer    // TOTP secrets at rest
	keyed      *token.KeyedHash // known devices and recovery codes

	webhookSealer *token.Sealer // webhook secrets at rest
	events        Waker
	rp            *webauthn.WebAuthn // passkeys' relying party; nil when passkeys are off
	passkeyOff    string             // why passkeys are off, when rp is nil
}

// New returns a Service. It does not touch the store; call SyncRevocations
// (and usually WatchRevocations) before serving.
func New(d Deps, p Policy) (*Service, error) {
	if d.Store == nil || d.Keys == nil || d.Hasher == nil || d.Sealer == nil {
		return nil, errors.New("core: store, keys, hasher and sealer are required")
	}
	if d.Clock == nil {
		d.Clock = SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = nopMetrics{}
	}
	if d.Events == nil {
		d.Events = nopWaker{}
	}
	rp, off, err := newRelyingParty(p)
	if err != nil {
		return nil, err
	}
	return &Service{
		store:    d.Store,
		keys:     d.Keys,
		hasher:   d.Hasher,
		sealer:   d.Sealer,
		clock:    d.Clock,
		metrics:  d.Metrics,
		log:      d.Logger,
		policy:   p,
		adminKey: d.AdminKey,
		revoked:  newRevocations(),
		fed:      newVerifier(d, p),
		apps:     newAppState(),
		users:    newTTLCache[store.User](userCacheMax),

		totpSealer: d.TOTPSealer,
		keyed:      keyedHashOrRandom(d.KeyedHash),

		webhookSealer: d.WebhookSealer,
		events:        d.Events,
		rp:            rp,
		passkeyOff:    off,
	}, nil
}

// Policy returns the policy the service enforces.
func (s *Service) Policy() Policy { return s.policy }

// StoreKind names the store backend ("sqlite" or "postgres").
func (s *Service) StoreKind() string { return s.store.Kind() }

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// Keys returns the signing key set (for JWKS and discovery).
func (s *Service) Keys() *token.KeySet { return s.keys }

// Now returns the service's current time.
func (s *Service) Now() time.Time { return s.clock.Now() }

type nopMetrics struct{}

func (nopMetrics) Login(string)   {}
func (nopMetrics) Refresh(string) {}
func (nopMetrics) PasswordCheck() {}
