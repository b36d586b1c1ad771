package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// snapshot is an immutable view of the key set. Readers load it through an
// atomic pointer; writers build a new one and swap it in.
type snapshot struct {
	active *key            // the key new tokens are signed with
	byKID  map[string]*key // every published key
	keys   []*key          // published keys: active first, then newest first
	// next is when a published key that does not sign yet starts signing
	// (the earliest such activation), zero when there is none: from then
	// on the snapshot is out of date (KeySet.current rebuilds it).
	next time.Time
	jwks []byte   // {"keys":[...]} of keys
	algs []string // distinct algs of keys, in the order of keys
	// byATHeader maps the access-token header segment of each published
	// Ed25519 key to it, and activeATHeader is the active key's (see fastjws.go).
	byATHeader     map[string]*key
	activeATHeader string
}

// kidsEqual reports whether s publishes exactly the keys of keys, in the
// same order, with the same active key.
func (s *snapshot) kidsEqual(keys []*key) bool {
	if s == nil || len(s.keys) != len(keys) {
		return false
	}
	for i := range keys {
		if s.keys[i].kid != keys[i].kid {
			return false
		}
	}
	return true
}

// newSnapshot builds the snapshot at now of the published keys. The active
// key is the one that signs at now: of the keys whose activation has come
// and whose successor's has not, the latest activated. Keys that will never
// sign again lose their private part. It reuses the JWKS of prev when the
// published keys did not change.
func newSnapshot(keys []*key, prev *snapshot, now time.Time) (*snapshot, error) {
	keys, next, err := arrange(keys, now)
	if err != nil {
		return nil, err
	}
	s := &snapshot{active: keys[0], keys: keys, next: next, byKID: make(map[string]*key, len(keys)), byATHeader: map[string]*key{}}
	for _, k := range keys {
		s.byKID[k.kid] = k
		if k.alg == AlgEdDSA {
			s.byATHeader[atHeaderSegment(AlgEdDSA, k.kid)] = k
		}
	}
	if s.active.alg == AlgEdDSA {
		s.activeATHeader = atHeaderSegment(AlgEdDSA, s.active.kid)
	}
	if prev.kidsEqual(keys) {
		s.jwks, s.algs = prev.jwks, prev.algs
		return s, nil
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.public)
		if !slices.Contains(s.algs, string(k.alg)) {
			s.algs = append(s.algs, string(k.alg))
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("marshal JWKS: %w", err)
	}
	s.jwks = b
	return s, nil
}

// errNoActiveKey means the store holds no active signing key.
var errNoActiveKey = errors.New("no active signing key")

// arrange orders published keys for a snapshot at now: the key that signs
// at now first, then the others newest first. It also returns the next
// activation after now (zero when none). When no key signs at now (clocks
// of several processes that disagree about an activation), the key with a
// private part that activates first signs.
func arrange(keys []*key, now time.Time) ([]*key, time.Time, error) {
	var signer *key
	var next time.Time
	for _, k := range keys {
		if k.private == nil {
			continue
		}
		if k.signsAt(now) && (signer == nil || k.signsFrom.After(signer.signsFrom)) {
			signer = k
		}
		if now.Before(k.signsFrom) && (next.IsZero() || k.signsFrom.Before(next)) {
			next = k.signsFrom
		}
	}
	if signer == nil {
		for _, k := range keys {
			if k.private != nil && (signer == nil || k.signsFrom.Before(signer.signsFrom)) {
				signer = k
			}
		}
	}
	if signer == nil {
		return nil, time.Time{}, errors.New("no published key can sign")
	}
	out := make([]*key, 0, len(keys))
	out = append(out, signer)
	for _, k := range keys {
		if k == signer {
			continue
		}
		if k.private != nil && !k.signsLater(now) {
			k = k.withoutPrivate()
		}
		out = append(out, k)
	}
	slices.SortStableFunc(out[1:], func(a, b *key) int { return b.createdAt.Compare(a.createdAt) })
	return out, next, nil
}

// buildKeys turns the stored keys into the published keys at now. Keys
// already parsed in prev are reused, so a private key is decrypted and
// parsed only once. The newest key and every key that still signs, now or
// later, get their private part. A broken newest key is an error; a broken
// older key is logged and left out.
func buildKeys(stored []store.SigningKey, prev *snapshot, sealer *Sealer, now time.Time, log *slog.Logger) ([]*key, error) {
	activeIdx := -1
	for i, sk := range stored {
		if sk.RetiredAt.IsZero() && (activeIdx < 0 || sk.CreatedAt.After(stored[activeIdx].CreatedAt)) {
			activeIdx = i
		}
	}
	if activeIdx < 0 {
		return nil, errNoActiveKey
	}
	active, err := loadKey(stored[activeIdx], prev, sealer, true)
	if err != nil {
		return nil, err
	}
	keys := []*key{active}
	for i, sk := range stored {
		if i == activeIdx {
			continue
		}
		// A key that is not active is published until PublishUntil. Another
		// key still marked active (a store anomaly) is published as well, but
		// never signs.
		if !sk.RetiredAt.IsZero() && !now.Before(sk.PublishUntil) {
			continue
		}
		// The key an activation delay keeps signing until its successor's
		// activation needs its private part as well.
		signs := !sk.RetiredAt.IsZero() && now.Before(sk.RetiredAt)
		k, err := loadKey(sk, prev, sealer, signs)
		if err != nil {
			log.Warn("signing key left out of the key set", "kid", sk.KID, "error", err)
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// loadKey parses one stored key, reusing the parsed key of prev when it has
// the same kid and public part. withPrivate asks for the private part.
func loadKey(sk store.SigningKey, prev *snapshot, sealer *Sealer, withPrivate bool) (*key, error) {
	var k *key
	if prev != nil {
		if old, ok := prev.byKID[sk.KID]; ok && bytes.Equal(old.publicJSON, sk.PublicJWK) && string(old.alg) == sk.Alg {
			c := *old
			k = &c
			k.createdAt, k.signsFrom, k.retiredAt, k.publishUntil = sk.CreatedAt, sk.SignsFrom(), sk.RetiredAt, sk.PublishUntil
		}
	}
	if k == nil {
		parsed, err := parsePublic(sk)
		if err != nil {
			return nil, err
		}
		k = parsed
	}
	switch {
	case withPrivate && k.private == nil:
		if err := k.openPrivate(sk, sealer); err != nil {
			return nil, err
		}
	case !withPrivate:
		k.private, k.atSigner, k.jwtSigner = nil, nil, nil
	}
	return k, nil
}
