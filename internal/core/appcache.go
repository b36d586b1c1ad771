package core

import (
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Bounds of the in-memory state that keeps client authentication and app
// access-token verification free of database round trips.
const (
	// ClientCacheTTL is how long a client read from the store is trusted.
	// A secret rotation or a deletion made by this process takes effect at
	// once; one made by another process sharing the database takes effect
	// here within ClientCacheTTL.
	ClientCacheTTL = 30 * time.Second
	// clientCacheMax bounds the number of cached clients.
	clientCacheMax = 4096
	// clientLockMax bounds the number of remembered throttle locks.
	clientLockMax = 16384
	// liveSessionMax bounds the number of app sessions remembered as alive.
	liveSessionMax = 65536
)

// appState is the in-memory state of client authentication and the
// app-backend family.
type appState struct {
	// clients are recently read clients, by id.
	clients *ttlCache[store.Client]
	// locks are client-authentication throttle keys known to be locked,
	// until when.
	locks *ttlCache[struct{}]
	// live are app sessions read from the store and found alive, by
	// tenant and session id, with their client id. A later revocation is
	// seen through the revoked-session set, which is checked first.
	live *ttlCache[string]
}

func newAppState() *appState {
	return &appState{
		clients: newTTLCache[store.Client](clientCacheMax),
		locks:   newTTLCache[struct{}](clientLockMax),
		live:    newTTLCache[string](liveSessionMax),
	}
}

// ttlCache is a bounded map whose entries expire. When it is full, expired
// entries are dropped first, then arbitrary ones, down to 7/8 of the bound,
// so that the cost of a sweep is spread over many insertions.
type ttlCache[V any] struct {
	mu  sync.RWMutex
	max int
	m   map[string]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v     V
	until time.Time
}

func newTTLCache[V any](maxEntries int) *ttlCache[V] {
	return &ttlCache[V]{max: maxEntries, m: make(map[string]cacheEntry[V])}
}

// get returns the value of key when it has not expired at now.
func (c *ttlCache[V]) get(key string, now time.Time) (V, bool) {
	v, _, ok := c.lookup(key, now)
	return v, ok
}

// lookup returns the value of key and its expiry when it has not expired at now.
func (c *ttlCache[V]) lookup(key string, now time.Time) (V, time.Time, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		var zero V
		return zero, time.Time{}, false
	}
	return e.v, e.until, true
}

// put stores v under key until until.
func (c *ttlCache[V]) put(key string, v V, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		c.shrink(now)
	}
	c.m[key] = cacheEntry[V]{v: v, until: until}
}

// shrink drops expired entries, then arbitrary ones down to 7/8 of max.
func (c *ttlCache[V]) shrink(now time.Time) {
	for k, e := range c.m {
		if !now.Before(e.until) {
			delete(c.m, k)
		}
	}
	for k := range c.m {
		if len(c.m) <= c.max-c.max/8-1 {
			break
		}
		delete(c.m, k)
	}
}

// forget removes key.
func (c *ttlCache[V]) forget(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// len returns the number of entries, expired ones included.
func (c *ttlCache[V]) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
