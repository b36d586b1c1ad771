package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// UsernameCollision is a user that kept its stored username when usernames
// started being compared by RFC 8265 (see store.LegacyUsername): either its
// prepared name is another user's username (Reason collision, ConflictsWith
// that user's id), or the username profile refuses the name (Reason
// refused_by_profile). The user signs in as before, under the stored name;
// an administrator resolves the entry by renaming the user.
type UsernameCollision struct {
	TenantID      string
	UserID        string
	Username      string
	Reason        string
	Prepared      string // the prepared form, "" when refused
	ConflictsWith string // the user holding Prepared, for a collision
}

// UsernameCollisions lists the users of the tenant that kept a legacy
// username, with the user each one collides with.
func (s *Service) UsernameCollisions(ctx context.Context, tenantID string) ([]UsernameCollision, error) {
	list, err := s.store.ListLegacyUsernames(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list legacy usernames: %w", err)
	}
	out := make([]UsernameCollision, 0, len(list))
	for _, l := range list {
		c := UsernameCollision{TenantID: l.TenantID, UserID: l.UserID, Username: l.Username, Reason: l.Reason}
		if p, err := names.Username(l.Username); err == nil {
			c.Prepared = p
			holder, err := s.store.GetUserByLogin(ctx, l.TenantID, p)
			switch {
			case err == nil && holder.ID != l.UserID:
				c.ConflictsWith = holder.ID
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return nil, fmt.Errorf("find holder of %q: %w", p, err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// ReportUsernameCollisions logs, at start-up, how many users of all
// tenants kept a legacy username, so that an operator knows to look at
// GET /admin/username-collisions. It never logs the names themselves.
func (s *Service) ReportUsernameCollisions(ctx context.Context) {
	list, err := s.store.ListLegacyUsernames(ctx, "")
	if err != nil {
		s.log.Warn("cannot list legacy usernames", "err", err)
		return
	}
	if len(list) == 0 {
		return
	}
	byTenant := map[string]int{}
	for _, l := range list {
		byTenant[l.TenantID]++
	}
	for tenant, n := range byTenant {
		s.log.Warn("users keep usernames that compare equal to another user's or that the username profile refuses; "+
			"they sign in under their stored names until renamed (GET /admin/username-collisions)",
			"tenant", tenant, "users", n)
	}
}
