package federation

import (
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// DefaultAlgorithms are the signature algorithms accepted from a provider
// that names none.
var DefaultAlgorithms = []string{"RS256", "ES256", "EdDSA"}

// SupportedAlgorithms are every algorithm a provider may allow: asymmetric
// signatures only, so that neither "none" nor an HMAC keyed with a
// provider's public key can ever pass.
var SupportedAlgorithms = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA",
}

// Algorithms returns the algorithms accepted from p: its own list, or
// DefaultAlgorithms when it names none. Anything unsupported is dropped, so
// a bad entry in the store cannot widen the set.
func Algorithms(p store.Provider) []string {
	src := p.Algorithms
	if len(src) == 0 {
		src = DefaultAlgorithms
	}
	out := make([]string, 0, len(src))
	for _, a := range src {
		if slices.Contains(SupportedAlgorithms, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
