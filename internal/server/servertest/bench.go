package servertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkBaseline measures a trivial JSON handler on a real httptest
// server, driven by the same client loop as the benchmarks of the API
// families. newReq builds each request against the server's base URL, so
// that its shape matches the benchmark it is compared with; the ratio of
// the two is the figure that holds across machines.
func BenchmarkBaseline(b *testing.B, newReq func(base string) *http.Request) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":0}`))
	}))
	defer hs.Close()
	client := hs.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Do(newReq(hs.URL))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
