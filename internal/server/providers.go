package server

import (
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// providersOf converts the providers of the configuration file into the
// store's form; the core registers them at start-up.
func providersOf(cfg config.Config) []store.Provider {
	out := make([]store.Provider, 0, len(cfg.Providers))
	for _, p := range cfg.Providers {
		out = append(out, store.Provider{
			TenantID:      p.Tenant,
			Name:          p.Name,
			Issuer:        p.Issuer,
			Audiences:     p.Audiences,
			JWKSURI:       p.JWKSURI,
			Algorithms:    p.Algorithms,
			AutoProvision: p.AutoProvision,
			LinkByEmail:   p.LinkByEmail,
		})
	}
	return out
}
