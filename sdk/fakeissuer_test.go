package sdk_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// fakeIssuer stands in for a Gatehouse server: it serves discovery, the
// JWKS and the revocation feed, and signs access tokens with Ed25519 keys
// it can rotate.
type fakeIssuer struct {
	*httptest.Server
	ClientID, ClientSecret string

	mu     sync.Mutex
	keys   []fakeKey // published; the last one signs
	feed   []feedEvent
	nextID int

	JWKSHits atomic.Int32
	FeedHits atomic.Int32
	Down     atomic.Bool // answer 503 on every path
}

type fakeKey struct {
	kid  string
	priv ed25519.PrivateKey
}

type feedEvent struct {
	Seq int64  `json:"seq"`
	SID string `json:"sid"`
	Exp int64  `json:"exp"`
}

func newFakeIssuer() *fakeIssuer {
	f := &fakeIssuer{ClientID: "backend", ClientSecret: "s3cret-value"}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	f.Rotate()
	return f
}

// Rotate adds a new signing key, keeping the old ones published, and
// returns its kid.
func (f *fakeIssuer) Rotate() string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	k := fakeKey{kid: "k" + strconv.Itoa(f.nextID), priv: priv}
	f.keys = append(f.keys, k)
	return k.kid
}

// Withdraw stops publishing the key kid.
func (f *fakeIssuer) Withdraw(kid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = slices.DeleteFunc(f.keys, func(k fakeKey) bool { return k.kid == kid })
}

// Revoke appends a revocation to the feed.
func (f *fakeIssuer) Revoke(sid string, exp time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.feed = append(f.feed, feedEvent{Seq: int64(len(f.feed) + 1), SID: sid, Exp: exp.Unix()})
}

func (f *fakeIssuer) active() fakeKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys[len(f.keys)-1]
}

func (f *fakeIssuer) serve(w http.ResponseWriter, r *http.Request) {
	if f.Down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                   f.URL,
			"jwks_uri":                 f.URL + "/.well-known/jwks.json",
			"revocation_feed_endpoint": f.URL + "/oauth2/revocations",
		})
	case "/.well-known/jwks.json":
		f.JWKSHits.Add(1)
		f.mu.Lock()
		var set jose.JSONWebKeySet
		for _, k := range f.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: "EdDSA", Use: "sig"})
		}
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	case "/oauth2/revocations":
		f.FeedHits.Add(1)
		id, secret, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if !ok || id != f.ClientID || secret != f.ClientSecret {
			w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
		f.mu.Lock()
		events := []feedEvent{}
		next := since
		for _, e := range f.feed {
			if e.Seq > since && len(events) < 2 { // small pages, so that paging is exercised
				events = append(events, e)
				next = e.Seq
			}
		}
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"events": events, "next": next})
	default:
		http.NotFound(w, r)
	}
}

// Claims returns valid claims of an access token for sub, issued now.
func (f *fakeIssuer) Claims(sub string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": f.URL, "sub": sub, "aud": []string{f.URL, "my-app"},
		"exp": now.Add(15 * time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
		"jti": "jti-" + sub, "sid": "sid-" + sub, "tid": "default", "client_id": "my-app",
		"roles": []string{"reader"}, "amr": []string{"pwd"},
	}
}

// Token signs claims with the active key as an access token.
func (f *fakeIssuer) Token(claims map[string]any) string {
	k := f.active()
	return signJWT(jose.EdDSA, k.priv, k.kid, "at+jwt", claims)
}

// signJWT signs claims with key under alg, with the given kid and typ
// headers (omitted when empty).
func signJWT(alg jose.SignatureAlgorithm, key any, kid, typ string, claims map[string]any) string {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		panic(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		panic(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return tok
}

// unsignedJWT builds an "alg: none" token.
func unsignedJWT(kid string, claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid})
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return fmt.Sprintf("%s.%s.", enc(h), enc(p))
}
