package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Result is the outcome of a run. Its JSON form is the machine-readable
// line the command prints last.
type Result struct {
	Mode        string  `json:"mode"`
	Target      string  `json:"target"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	// Requests counts every operation attempted; Ops the successful ones.
	Requests  int64   `json:"requests"`
	Ops       int64   `json:"ops"`
	OpsPerSec float64 `json:"ops_per_sec"`
	// Latency is of the successful operations.
	Latency Latency `json:"latency_ms"`
	// Errors counts failed operations by class: the HTTP status, the
	// status and the family's code ("200 code 31"), or "transport".
	Errors map[string]int64 `json:"errors"`

	// WorkingSet ("hot" or "cold") and Endpoint describe a verify run.
	WorkingSet string `json:"working_set,omitempty"`
	Endpoint   string `json:"endpoint,omitempty"`
	// ByKind splits a run over several endpoints.
	ByKind map[string]KindStats `json:"by_endpoint,omitempty"`
	// Relogins counts the sign-ins a chain run needed after a failed
	// refresh broke a client's chain.
	Relogins int64 `json:"relogins,omitempty"`
	// MaxRSSBytes is the largest resident memory the server reported
	// (process_resident_memory_bytes at /metrics) during the run.
	MaxRSSBytes int64 `json:"max_rss_bytes,omitempty"`
	// SideRefresh is the refresh chain a login run keeps going meanwhile.
	SideRefresh *KindStats `json:"side_refresh,omitempty"`

	// Baseline is the baseline run of the same concurrency and duration
	// (with Config.Compare), and Ratio = OpsPerSec / Baseline.OpsPerSec.
	Baseline *Result `json:"baseline,omitempty"`
	Ratio    float64 `json:"ratio_to_baseline,omitempty"`
}

// KindStats are the figures of one endpoint of a run.
type KindStats struct {
	Ops       int64            `json:"ops"`
	OpsPerSec float64          `json:"ops_per_sec"`
	Latency   Latency          `json:"latency_ms"`
	Errors    map[string]int64 `json:"errors,omitempty"`
}

// Latency holds percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// latencyOf computes the percentiles of ns (nanoseconds); it sorts ns.
func latencyOf(ns []int64) Latency {
	if len(ns) == 0 {
		return Latency{}
	}
	slices.Sort(ns)
	at := func(q float64) float64 {
		i := int(q*float64(len(ns))+0.5) - 1
		i = max(0, min(i, len(ns)-1))
		return ms(ns[i])
	}
	return Latency{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(ns[len(ns)-1])}
}

func ms(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }

// JSON returns the result as one line of JSON.
func (r Result) JSON() []byte {
	b, err := json.Marshal(r)
	if err != nil { // only plain values: cannot happen
		return []byte(`{"error":"encode result"}`)
	}
	return b
}

// WriteText writes the result for people, then the JSON line.
func (r Result) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Baseline != nil {
		b.WriteString("baseline (same concurrency and duration, separate process):\n")
		r.Baseline.text(&b)
		b.WriteString("\n")
	}
	r.text(&b)
	if r.Baseline != nil {
		fmt.Fprintf(&b, "ratio      %.1f %% of baseline (%.0f / %.0f ops/s)\n", 100*r.Ratio, r.OpsPerSec, r.Baseline.OpsPerSec)
	}
	b.Write(r.JSON())
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (r Result) text(b *strings.Builder) {
	what := r.Mode
	if r.WorkingSet != "" {
		what += " (" + r.WorkingSet + ", " + r.Endpoint + ")"
	}
	fmt.Fprintf(b, "mode       %s against %s, %d clients, %.2f s\n", what, r.Target, r.Concurrency, r.Seconds)
	fmt.Fprintf(b, "ops        %d ok of %d: %.1f ops/s\n", r.Ops, r.Requests, r.OpsPerSec)
	fmt.Fprintf(b, "latency    %s\n", r.Latency.text())
	fmt.Fprintf(b, "errors     %s\n", errorsText(r.Errors))
	for _, k := range slices.Sorted(maps.Keys(r.ByKind)) {
		ks := r.ByKind[k]
		fmt.Fprintf(b, "  %-8s %d ok: %.1f ops/s, %s\n", k, ks.Ops, ks.OpsPerSec, ks.Latency.text())
	}
	if r.Relogins > 0 {
		fmt.Fprintf(b, "relogins   %d (a failed refresh broke the chain)\n", r.Relogins)
	}
	if r.SideRefresh != nil {
		fmt.Fprintf(b, "refreshes  meanwhile: %d ok (%.1f/s), %s, errors %s\n", r.SideRefresh.Ops, r.SideRefresh.OpsPerSec,
			r.SideRefresh.Latency.text(), errorsText(r.SideRefresh.Errors))
	}
	if r.MaxRSSBytes > 0 {
		fmt.Fprintf(b, "server RSS max %.1f MiB\n", float64(r.MaxRSSBytes)/(1<<20))
	}
}

func (l Latency) text() string {
	return fmt.Sprintf("p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms", l.P50, l.P90, l.P99, l.Max)
}

func errorsText(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
