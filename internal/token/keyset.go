package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// KeyStore is the part of store.Store the key set needs.
type KeyStore interface {
	ListSigningKeys(ctx context.Context) ([]store.SigningKey, error)
	AddSigningKey(ctx context.Context, k store.SigningKey, publishUntil time.Time) error
	AddFirstSigningKey(ctx context.Context, k store.SigningKey) (bool, error)
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error
}

// KeySetOptions configures a KeySet.
type KeySetOptions struct {
	// Issuer is required; Verify checks that "iss" equals it, and Sign uses
	// it when the claims carry no issuer.
	Issuer string
	// Alg is the alg of newly generated keys: EdDSA (default), ES256 or RS256.
	Alg string
	// AccessTTL is the lifetime of access tokens (default 15 minutes). A
	// retired key stays published until retirement + AccessTTL + 1 minute.
	AccessTTL time.Duration
	// ActivationDelay is how long a key rotated in is published before it
	// signs: verifiers that fetch the JWKS within that time know the key
	// before they meet its first token. The previous key signs until then.
	// Zero (the default) signs with the new key at once. The first key of an
	// empty store always signs at once.
	ActivationDelay time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives key-set events and errors, never key material;
	// default slog.Default().
	Logger *slog.Logger
}

// Defaults of KeySetOptions and of the key set's timing.
const (
	defaultAccessTTL = 15 * time.Minute
	// publishMargin is added to AccessTTL to cover clock skew between the
	// signer and the verifiers of a retired key's last tokens.
	publishMargin = time.Minute
	// unknownKIDReloadEvery bounds the reloads triggered by tokens that name
	// an unknown kid.
	unknownKIDReloadEvery = time.Second
	// defaultWatchInterval is used by Watch when given no positive interval.
	defaultWatchInterval = 30 * time.Second
)

// KeySet holds the signing keys: the active key that signs new tokens and
// the retired keys still published so that their tokens verify until they
// expire. Sign, Verify, JWKS, ActiveKID and Algs read an immutable snapshot
// and are safe for concurrent use with Rotate and Reload.
type KeySet struct {
	store     KeyStore
	sealer    *Sealer
	issuer    string
	alg       string
	accessTTL time.Duration
	delay     time.Duration // ActivationDelay
	now       func() time.Time
	log       *slog.Logger

	snap atomic.Pointer[snapshot]
	// writeMu serialises the writers of snap (Rotate and reloads).
	writeMu sync.Mutex
	// missMu guards lastMiss, the time of the last reload caused by an
	// unknown kid, and is held during that reload so that concurrent
	// verifications of the same new kid wait for it instead of failing.
	missMu   sync.Mutex
	lastMiss time.Time
	// verified remembers tokens that passed Verify (see verifycache.go).
	verified *verifiedCache
}

// NewKeySet loads the keys from the store, decrypting the active private key
// with sealer, and, when there is no active key, generates one of opts.Alg
// and stores it encrypted.
func NewKeySet(ctx context.Context, ks KeyStore, sealer *Sealer, opts KeySetOptions) (*KeySet, error) {
	if ks == nil {
		return nil, errors.New("new key set: key store is nil")
	}
	if sealer == nil {
		return nil, errors.New("new key set: sealer is nil")
	}
	if opts.Issuer == "" {
		return nil, errors.New("new key set: issuer is required")
	}
	if opts.Alg == "" {
		opts.Alg = AlgEdDSA
	}
	if !supportedAlg(opts.Alg) {
		return nil, fmt.Errorf("new key set: unsupported alg %q (want EdDSA, ES256 or RS256)", opts.Alg)
	}
	if opts.AccessTTL < 0 {
		return nil, fmt.Errorf("new key set: access token TTL %s is negative", opts.AccessTTL)
	}
	if opts.AccessTTL == 0 {
		opts.AccessTTL = defaultAccessTTL
	}
	if opts.ActivationDelay < 0 {
		return nil, fmt.Errorf("new key set: activation delay %s is negative", opts.ActivationDelay)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	k := &KeySet{
		verified:  newVerifiedCache(),
		store:     ks,
		sealer:    sealer,
		issuer:    opts.Issuer,
		alg:       opts.Alg,
		accessTTL: opts.AccessTTL,
		delay:     opts.ActivationDelay,
		now:       opts.Now,
		log:       opts.Logger,
	}
	err := k.load(ctx, false)
	if errors.Is(err, errNoActiveKey) {
		// A fresh database. Offer a first key; of processes starting at
		// once exactly one key is stored, and every one loads that key.
		if err = k.addFirst(ctx); err == nil {
			err = k.load(ctx, false)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("new key set: %w", err)
	}
	return k, nil
}

// addFirst stores a first key unless another process stored one first.
func (k *KeySet) addFirst(ctx context.Context) error {
	now := k.now().UTC()
	_, sk, err := newSigningKey(k.alg, k.sealer, now, now)
	if err != nil {
		return fmt.Errorf("first signing key: %w", err)
	}
	added, err := k.store.AddFirstSigningKey(ctx, sk)
	if err != nil {
		return fmt.Errorf("first signing key: %w", err)
	}
	if added {
		k.log.Info("signing key activated", "kid", sk.KID, "alg", sk.Alg)
	}
	return nil
}

// DefaultAlg returns the alg of keys generated without an explicit one.
func (k *KeySet) DefaultAlg() string { return k.alg }

// ActiveKID returns the kid of the key that signs new tokens.
func (k *KeySet) ActiveKID() string {
	return k.current().active.kid
}

// SignsFrom returns when the published key kid starts (or started) signing,
// and false when no such key is published.
func (k *KeySet) SignsFrom(kid string) (time.Time, bool) {
	key, ok := k.snap.Load().byKID[kid]
	if !ok {
		return time.Time{}, false
	}
	return key.signsFrom, true
}

// current returns the snapshot to sign with: the stored one, or, once a
// published key's activation has come, a new one in which it signs.
func (k *KeySet) current() *snapshot {
	s := k.snap.Load()
	if s.next.IsZero() || k.now().Before(s.next) {
		return s
	}
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	s = k.snap.Load()
	now := k.now().UTC()
	if s.next.IsZero() || now.Before(s.next) {
		return s // another caller switched already
	}
	ns, err := newSnapshot(s.keys, s, now)
	if err != nil {
		k.log.Error("signing key not activated", "error", err)
		return s
	}
	k.snap.Store(ns)
	if ns.active.kid != s.active.kid {
		k.log.Info("signing key activated", "kid", ns.active.kid, "alg", string(ns.active.alg))
	}
	return ns
}

// Algs returns the algs of the published keys, active key's first (for
// discovery documents).
func (k *KeySet) Algs() []string {
	return slices.Clone(k.snap.Load().algs)
}

// JWKS returns the JSON {"keys":[...]} of every published public key: the
// active key and the retired keys until their PublishUntil. The document is
// cached and rebuilt only when the published keys change; callers must not
// modify it.
func (k *KeySet) JWKS() []byte {
	return k.snap.Load().jwks
}

// Rotate generates a key of alg ("" for the configured alg), publishes it
// at once, and signs with it after the activation delay (at once without
// one); the previous key signs until then and stays published until the
// activation + AccessTTL + 1 minute. It returns the new kid (SignsFrom
// tells when it signs).
func (k *KeySet) Rotate(ctx context.Context, alg string) (string, error) {
	return k.rotate(ctx, alg, k.delay)
}

// rotate is Rotate with the activation delay given.
func (k *KeySet) rotate(ctx context.Context, alg string, delay time.Duration) (string, error) {
	if alg == "" {
		alg = k.alg
	}
	if !supportedAlg(alg) {
		return "", fmt.Errorf("rotate signing key: unsupported alg %q (want EdDSA, ES256 or RS256)", alg)
	}
	k.writeMu.Lock()
	defer k.writeMu.Unlock()

	now := k.now().UTC()
	nk, sk, err := newSigningKey(alg, k.sealer, now, now.Add(delay))
	if err != nil {
		return "", fmt.Errorf("rotate signing key: %w", err)
	}
	until := nk.signsFrom.Add(k.accessTTL + publishMargin).Truncate(time.Microsecond)
	if err := k.store.AddSigningKey(ctx, sk, until); err != nil {
		return "", fmt.Errorf("rotate signing key: store key %s: %w", sk.KID, err)
	}

	keys := []*key{nk}
	prev := k.snap.Load()
	if prev != nil {
		for _, old := range prev.keys {
			switch {
			case old.retiredAt.IsZero():
				old = old.retired(nk.signsFrom, until)
			case !now.Before(old.publishUntil):
				continue // no longer published
			}
			keys = append(keys, old)
		}
	}
	s, err := newSnapshot(keys, prev, now)
	if err != nil {
		return "", fmt.Errorf("rotate signing key: %w", err)
	}
	k.snap.Store(s)
	if s.active == nk {
		k.log.Info("signing key activated", "kid", nk.kid, "alg", alg)
	} else {
		k.log.Info("signing key published", "kid", nk.kid, "alg", alg, "signs_from", nk.signsFrom)
	}
	return nk.kid, nil
}

// Reload re-reads the keys from the store, so that a rotation by another
// process is picked up, and deletes the stored keys whose PublishUntil has
// passed.
func (k *KeySet) Reload(ctx context.Context) error {
	if err := k.load(ctx, true); err != nil {
		return fmt.Errorf("reload signing keys: %w", err)
	}
	return nil
}

// Watch calls Reload every interval until ctx is done, logging failures.
// A non-positive interval means 30 seconds.
func (k *KeySet) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = defaultWatchInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Reload(ctx); err != nil && ctx.Err() == nil {
				k.log.Error("signing keys not reloaded", "error", err)
			}
		}
	}
}

// load reads the stored keys and swaps in a new snapshot. With prune it
// first deletes the keys no longer published.
func (k *KeySet) load(ctx context.Context, prune bool) error {
	k.writeMu.Lock()
	defer k.writeMu.Unlock()

	now := k.now().UTC()
	if prune {
		if err := k.store.DeleteSigningKeysRetiredBefore(ctx, now); err != nil {
			return fmt.Errorf("delete expired signing keys: %w", err)
		}
	}
	stored, err := k.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	prev := k.snap.Load()
	keys, err := buildKeys(stored, prev, k.sealer, now, k.log)
	if err != nil {
		return err
	}
	s, err := newSnapshot(keys, prev, now)
	if err != nil {
		return err
	}
	if prev != nil && prev.active.kid != s.active.kid {
		k.log.Info("signing key changed by another process", "kid", s.active.kid, "alg", string(s.active.alg))
	}
	k.snap.Store(s)
	return nil
}

// reloadForKID reloads the keys because a token names kid, which the key set
// does not know, at most once per second.
func (k *KeySet) reloadForKID(ctx context.Context, kid string) {
	k.missMu.Lock()
	defer k.missMu.Unlock()
	if _, ok := k.snap.Load().byKID[kid]; ok {
		return // a reload that finished while we waited found it
	}
	now := k.now()
	// A clock that went backwards (d < 0) does not block reloads forever.
	if d := now.Sub(k.lastMiss); !k.lastMiss.IsZero() && d >= 0 && d < unknownKIDReloadEvery {
		return
	}
	k.lastMiss = now
	if err := k.load(ctx, false); err != nil {
		k.log.Warn("signing keys not reloaded for an unknown kid", "error", err)
	}
}
