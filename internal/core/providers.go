package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/federation"
	"github.com/gatehouse-auth/gatehouse/internal/safeurl"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Audit event types of external providers.
const (
	EventProviderCreated = "provider_created"
	EventProviderDeleted = "provider_deleted"
)

// Bounds on provider settings.
const (
	maxProviderURLLen   = 2048
	maxProviderAuds     = 50
	maxProviderAudience = 256
)

// newVerifier builds the ID-token verifier of the service: the store is its
// replay guard and the service's clock its time, so that tests that move
// the clock move token lifetimes and the key refetch interval with it. New
// has filled in the clock and the logger.
func newVerifier(d Deps, p Policy) *federation.Verifier {
	v, err := federation.New(federation.Options{Replay: d.Store, Now: d.Clock.Now, Logger: d.Logger,
		HTTPClient: d.ProviderClient, AllowInsecure: p.ProviderAllowInsecure})
	if err != nil {
		// Unreachable: New has checked that the store is set.
		panic("core: " + err.Error())
	}
	return v
}

// normaliseProvider validates an administrator's or the configuration's
// provider and fills in the default algorithms. The issuer and jwks_uri
// must be https URLs whose hosts resolve only to public addresses unless
// the policy allows insecure providers; the same rule is enforced again at
// every connection (see federation.NewHTTPClient).
func (s *Service) normaliseProvider(ctx context.Context, p store.Provider) (store.Provider, error) {
	p.Name = strings.TrimSpace(p.Name)
	p.Issuer = strings.TrimSpace(p.Issuer)
	p.JWKSURI = strings.TrimSpace(p.JWKSURI)
	if !ValidID(p.Name) {
		return p, invalid("name must be 1-64 characters of A-Za-z0-9._-")
	}
	if err := s.checkProviderURL(ctx, "issuer", p.Issuer); err != nil {
		return p, err
	}
	if p.JWKSURI != "" {
		if err := s.checkProviderURL(ctx, "jwks_uri", p.JWKSURI); err != nil {
			return p, err
		}
	}
	var auds []string
	for _, a := range p.Audiences {
		a = strings.TrimSpace(a)
		if a == "" || len(a) > maxProviderAudience || hasNUL(a) {
			return p, invalid(fmt.Sprintf("audiences must be 1-%d characters each", maxProviderAudience))
		}
		if !slices.Contains(auds, a) {
			auds = append(auds, a)
		}
	}
	if len(auds) == 0 || len(auds) > maxProviderAuds {
		return p, invalid(fmt.Sprintf("between 1 and %d audiences are required", maxProviderAuds))
	}
	p.Audiences = auds
	if len(p.Algorithms) == 0 {
		p.Algorithms = slices.Clone(federation.DefaultAlgorithms)
	}
	var algs []string
	for _, a := range p.Algorithms {
		if !slices.Contains(federation.SupportedAlgorithms, a) {
			return p, invalid(fmt.Sprintf("algorithm %q is not supported (want one of %s)", a, strings.Join(federation.SupportedAlgorithms, ", ")))
		}
		if !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	p.Algorithms = algs
	return p, nil
}

// checkProviderURL applies the shape rule of federation.CheckURL and the
// outbound address rule of safeurl.Check to one of a provider's URLs.
func (s *Service) checkProviderURL(ctx context.Context, field, raw string) error {
	if err := federation.CheckURL(raw); err != nil || len(raw) > maxProviderURLLen {
		return invalid(field + " must be an absolute https URL")
	}
	if err := safeurl.Check(ctx, raw, s.policy.ProviderAllowInsecure); err != nil {
		msg := field + " must be an https URL whose host resolves only to public addresses"
		if s.policy.ProviderAllowInsecure {
			msg = field + " must be an absolute http(s) URL"
		}
		return &Error{Code: CodeInvalidRequest, Message: msg, Err: err}
	}
	return nil
}

// CreateProvider registers an external OpenID provider for a tenant.
func (s *Service) CreateProvider(ctx context.Context, p store.Provider, m Meta) (store.Provider, error) {
	p, err := s.normaliseProvider(ctx, p)
	if err != nil {
		return store.Provider{}, err
	}
	if _, err := s.store.GetTenant(ctx, p.TenantID); err != nil {
		return store.Provider{}, storeErr(err, "tenant")
	}
	now := s.clock.Now()
	p.CreatedAt, p.UpdatedAt = now, now
	if err := s.store.CreateProvider(ctx, p); err != nil {
		return store.Provider{}, storeErr(err, "provider")
	}
	s.audit(ctx, event(EventProviderCreated, p.TenantID, "", m, map[string]any{"provider": p.Name, "issuer": p.Issuer}))
	return p, nil
}

// SyncProviders registers the providers of the configuration file, creating
// their tenants when needed and replacing stored providers of the same name.
func (s *Service) SyncProviders(ctx context.Context, ps []store.Provider) error {
	for _, p := range ps {
		p, err := s.normaliseProvider(ctx, p)
		if err != nil {
			return fmt.Errorf("provider %q of tenant %q: %w", p.Name, p.TenantID, err)
		}
		if err := s.EnsureTenant(ctx, p.TenantID, p.TenantID); err != nil {
			return fmt.Errorf("provider %q: tenant %q: %w", p.Name, p.TenantID, err)
		}
		now := s.clock.Now()
		p.CreatedAt, p.UpdatedAt = now, now
		if err := s.store.PutProvider(ctx, p); err != nil {
			return fmt.Errorf("provider %q of tenant %q: %w", p.Name, p.TenantID, err)
		}
	}
	return nil
}

// GetProvider returns a provider of the tenant.
func (s *Service) GetProvider(ctx context.Context, tenantID, name string) (store.Provider, error) {
	p, err := s.store.GetProvider(ctx, tenantID, name)
	return p, storeErr(err, "provider")
}

// ListProviders returns the tenant's providers ordered by name.
func (s *Service) ListProviders(ctx context.Context, tenantID string) ([]store.Provider, error) {
	return s.store.ListProviders(ctx, tenantID)
}

// DeleteProvider removes a provider. Identities linked through it stay
// linked: they come back into use if a provider for the same issuer is
// registered again.
func (s *Service) DeleteProvider(ctx context.Context, tenantID, name string, m Meta) error {
	if err := s.store.DeleteProvider(ctx, tenantID, name); err != nil {
		return storeErr(err, "provider")
	}
	s.audit(ctx, event(EventProviderDeleted, tenantID, "", m, map[string]any{"provider": name}))
	return nil
}

// lookupProvider finds the provider an ID token is presented for; an
// unknown one is a bad request, not a verification failure.
func (s *Service) lookupProvider(ctx context.Context, tenantID, name string) (store.Provider, error) {
	p, err := s.store.GetProvider(ctx, tenantID, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Provider{}, invalid("unknown provider")
	}
	if err != nil {
		return store.Provider{}, fmt.Errorf("get provider: %w", err)
	}
	return p, nil
}
