// Package storetest is the conformance suite of store.Store. Every backend
// runs it unchanged from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
//
// The suite checks only what the store package documents, never how a
// backend keeps it.
package storetest

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// testCase is one subtest of the suite; it gets a fresh store.
type testCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// cases lists the whole suite, grouped by subject.
var cases = []testCase{
	{"Basics/Kind", testKind},
	{"Basics/PingAndMigrateAgain", testPingAndMigrateAgain},
	{"Basics/Close", testClose},

	{"Tenants/CreateGetList", testTenantCreateGetList},
	{"Tenants/DuplicateConflict", testTenantDuplicate},
	{"Tenants/NotFound", testTenantNotFound},

	{"Users/RoundTrip", testUserRoundTrip},
	{"Users/UniqueRules", testUserUniqueRules},
	{"Users/GetUserByLogin", testUserByLogin},
	{"Users/GetNotFound", testUserNotFound},
	{"Users/ListPaging", testUserListPaging},
	{"Users/Update", testUserUpdate},
	{"Users/UpdateFnErrorWritesNothing", testUserUpdateFnError},
	{"Users/UpdateConflict", testUserUpdateConflict},
	{"Users/UpdateNotFound", testUserUpdateNotFound},
	{"Users/UpdateConcurrentLosesNothing", testUserUpdateConcurrent},
	{"Users/DeleteRevokesSessions", testUserDelete},
	{"Users/ImportInsertsAndIsIdempotent", testImportInsertsAndIsIdempotent},
	{"Users/ImportConflictsPerRow", testImportConflictsPerRow},
	{"Users/ImportMatchByUsername", testImportMatchByUsername},
	{"Users/ImportUpdateKeepsCreatedAtAndPassword", testImportUpdateKeepsCreatedAtAndPassword},
	{"Users/ImportDryRunWritesNothing", testImportDryRunWritesNothing},
	{"Users/ImportLargeBatch", testImportLargeBatch},
	{"Users/ImportUnknownTenant", testImportUnknownTenant},
	{"Users/ImportConcurrentSameUsers", testImportConcurrentSameUsers},

	{"Sessions/RoundTrip", testSessionRoundTrip},
	{"Sessions/CreateConflict", testSessionConflict},
	{"Sessions/GetNotFound", testSessionNotFound},
	{"Sessions/ListUserSessions", testListUserSessions},
	{"Sessions/Revoke", testRevokeSession},
	{"Sessions/RevokeUserSessions", testRevokeUserSessions},

	{"Rotate/Rotated", testRotateRotated},
	{"Rotate/ExpiryCappedBySession", testRotateExpiryCapped},
	{"Rotate/Chain", testRotateChain},
	{"Rotate/ReuseRevokesFamily", testRotateReuse},
	{"Rotate/RetryWithinLeeway", testRotateRetry},
	{"Rotate/ReuseAfterLeeway", testRotateReuseAfterLeeway},
	{"Rotate/NoRetryAfterSuccessorRotated", testRotateNoRetryAfterSuccessor},
	{"Rotate/Invalid", testRotateInvalid},
	{"Rotate/ConcurrentOneWinnerNoLeeway", testRotateConcurrentNoLeeway},
	{"Rotate/ConcurrentOneWinnerWithLeeway", testRotateConcurrentLeeway},

	{"Revocations/Feed", testRevocationFeed},

	{"Throttle/CountsAndLocks", testThrottleCounts},
	{"Throttle/WindowForgets", testThrottleWindow},
	{"Throttle/Reset", testThrottleReset},
	{"Throttle/TenantIsolation", testThrottleIsolation},
	{"Throttle/Concurrent", testThrottleConcurrent},

	{"SigningKeys/AddRetiresPrevious", testKeysAdd},
	{"SigningKeys/AddWithActivation", testKeysAddWithActivation},
	{"SigningKeys/DuplicateKID", testKeysDuplicate},
	{"SigningKeys/DeleteRetiredBefore", testKeysDelete},
	{"SigningKeys/AddFirstOnlyWhenNoneActive", testKeysAddFirst},
	{"SigningKeys/AddFirstConcurrentOneWinner", testKeysAddFirstConcurrent},

	{"Audit/AppendAssignsIDs", testAuditIDs},
	{"Audit/Filters", testAuditFilters},

	{"Sweep/Expired", testSweepExpired},
	{"Sweep/RetryData", testSweepRetryData},
	{"Sweep/KeepsLiveRevocations", testSweepRevocations},
}

// Run runs the suite. newStore must return a fresh, empty, migrated store
// for each subtest and register its own cleanup; that cleanup must accept a
// store the suite has already closed.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}
