package core

import (
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// UserCacheTTL is how long GET /auth/me may answer from a user read before.
// A change made by this process is seen at once; one made by another
// process sharing the database is seen within UserCacheTTL. Revocations are
// not affected: they go through the revoked-session set, which is exact.
const UserCacheTTL = time.Second

// userCacheMax bounds the number of cached users.
const userCacheMax = 65536

func userKey(tenantID, id string) string { return tenantID + "\x00" + id }

// cachedUser returns the user, from the cache when it was read less than
// UserCacheTTL ago.
func (s *Service) cachedUser(tenantID, id string) (store.User, bool) {
	return s.users.get(userKey(tenantID, id), s.clock.Now())
}

// rememberUser caches u for UserCacheTTL.
func (s *Service) rememberUser(u store.User) {
	now := s.clock.Now()
	s.users.put(userKey(u.TenantID, u.ID), u, now.Add(UserCacheTTL), now)
}

// forgetUser drops a user this process changed or deleted.
func (s *Service) forgetUser(tenantID, id string) { s.users.forget(userKey(tenantID, id)) }
