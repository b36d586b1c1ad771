package loadtest

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"
)

func TestMeasure_BoundsAndCountsByClass(t *testing.T) {
	cfg := Config{Mode: ModeChain, Concurrency: 3, Duration: 5 * time.Second, MaxRequests: 30}
	var calls atomic.Int64
	res := measure(context.Background(), cfg, nil, newWorkers(3, nil), func(context.Context, *worker) sample {
		if calls.Add(1)%3 == 0 {
			return sample{errKey: "503"}
		}
		time.Sleep(time.Millisecond)
		return sample{}
	})
	if calls.Load() != 30 || res.Requests != 30 {
		t.Fatalf("the request bound was not kept: %d calls, %d requests", calls.Load(), res.Requests)
	}
	if res.Ops != 20 || res.Errors["503"] != 10 {
		t.Fatalf("want 20 ok and 10 errors, got %d ok, %v", res.Ops, res.Errors)
	}
	if res.Latency.P50 < 1 || res.Seconds >= 5 {
		t.Fatalf("implausible: %+v", res)
	}
}

func TestMeasure_StopsAtDurationAndWhenDone(t *testing.T) {
	cfg := Config{Mode: ModeVerify, Concurrency: 2, Duration: 300 * time.Millisecond}
	start := time.Now()
	res := measure(context.Background(), cfg, []string{"a", "b"}, newWorkers(2, nil), func(_ context.Context, w *worker) sample {
		time.Sleep(5 * time.Millisecond)
		return sample{kind: w.id}
	})
	if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
		t.Fatalf("run took %s, want about 300ms", d)
	}
	if res.ByKind["a"].Ops == 0 || res.ByKind["b"].Ops == 0 || res.ByKind["a"].Ops+res.ByKind["b"].Ops != res.Ops {
		t.Fatalf("per-kind figures do not add up: %+v", res)
	}

	var left atomic.Int64
	left.Store(7)
	res = measure(context.Background(), Config{Concurrency: 4, Duration: time.Minute}, nil, newWorkers(4, nil), func(context.Context, *worker) sample {
		if left.Add(-1) < 0 {
			return sample{done: true}
		}
		return sample{}
	})
	if res.Ops != 7 || res.Requests != 7 {
		t.Fatalf("want the run to end after the 7 available operations, got %+v", res)
	}
}

func TestLatencyOf(t *testing.T) {
	ns := make([]int64, 0, 100)
	for i := 100; i >= 1; i-- {
		ns = append(ns, int64(i)*int64(time.Millisecond))
	}
	l := latencyOf(ns)
	if l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 {
		t.Fatalf("latencyOf = %+v", l)
	}
	if (latencyOf(nil) != Latency{}) {
		t.Fatal("no samples must give zero latencies")
	}
	if l := latencyOf([]int64{int64(3 * time.Millisecond)}); l.P50 != 3 || l.P99 != 3 {
		t.Fatalf("one sample: %+v", l)
	}
}

func TestJSONHelpers(t *testing.T) {
	var m map[string]string
	body := jsonBody("refresh_token", "abc-DEF_123", "password", "quote\" back\\ nl\n é")
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("jsonBody made invalid JSON %q: %v", body, err)
	}
	if m["refresh_token"] != "abc-DEF_123" || m["password"] != "quote\" back\\ nl\n é" {
		t.Fatalf("jsonBody round trip: %v", m)
	}
	answer := []byte(`{"access_token":"a.b.c","refresh_token":"r-1","user":{"id":"1"}}`)
	if got := jsonField(answer, "refresh_token"); got != "r-1" {
		t.Fatalf("jsonField = %q", got)
	}
	app := []byte(`{"code":0,"data":{"refreshToken":"x","accessToken":"y"}}`)
	if got := jsonField(app, "accessToken"); got != "y" {
		t.Fatalf("jsonField app = %q", got)
	}
	if got := jsonField([]byte(`{"refresh_token":"a\"b"}`), "refresh_token"); got != `a"b` {
		t.Fatalf("jsonField must fall back to a full decode for escapes, got %q", got)
	}
	if got := jsonField([]byte(`not json`), "x"); got != "" {
		t.Fatalf("jsonField of garbage = %q", got)
	}
}

func TestAppKey(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"code":0,"data":{}}`, ""},
		{200, `{"code":0}`, ""},
		{200, `{"code":31,"msg":"invalid"}`, "200 code 31"},
		{200, `{"code":5,"msg":"x"}`, "200 code 5"},
		{200, `{"code":05}`, "200 code ?"},
		{502, `bad gateway`, "502"},
	} {
		if got := appKey(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("appKey(%d, %s) = %q, want %q", tc.status, tc.body, got, tc.want)
		}
	}
}

func TestMetricValue(t *testing.T) {
	body := []byte("# HELP process_resident_memory_bytes x\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1.2345e+08\nother 1\n")
	if v, ok := metricValue(body, "process_resident_memory_bytes"); !ok || v != 1.2345e8 {
		t.Fatalf("metricValue = %v %v", v, ok)
	}
	if _, ok := metricValue(body, "missing"); ok {
		t.Fatal("a missing metric must not be found")
	}
}
