package oauth2_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestPostgres runs the family's store-dependent behaviours (rotation
// across families, reuse, refresh-token lookups, revocation, tenant
// isolation, client sessions) on PostgreSQL as well.
func TestPostgres(t *testing.T) {
	pg := servertest.Options{Postgres: true}
	t.Run("OneSessionAcrossFamilies", func(t *testing.T) { runOneSession(t, pg) })
	t.Run("ReuseThroughOAuth2RevokesEverywhere", func(t *testing.T) { runReuseEverywhere(t, pg) })
	t.Run("IntrospectAccessAndRefreshTokens", func(t *testing.T) { runIntrospectTokens(t, pg) })
	t.Run("IntrospectTenantIsolation", func(t *testing.T) { runIntrospectIsolation(t, pg) })
	t.Run("Revoke", func(t *testing.T) { runRevoke(t, pg) })
	t.Run("ClientCredentialsRevocable", func(t *testing.T) { runClientCredentialsRevocable(t, pg) })
}
