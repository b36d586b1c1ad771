//go:build !race

// The suite through the wrapper proves that every generated method
// forwards to the right one; the stores' own runs already cover the race
// detector, so it is left out of the race run, where it would only repeat
// them slowly.

package storetrace_test

import (
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/store/storetest"
)

// TestConformance: the traced store is still a store.
func TestConformance(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, tp) })
}
