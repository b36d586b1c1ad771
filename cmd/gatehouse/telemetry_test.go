package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// collector is an in-process OTLP/HTTP trace receiver.
type collector struct {
	srv     *httptest.Server
	mu      sync.Mutex
	spans   []*tracepb.Span
	service string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("collector got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("collector: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					c.service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
		c.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// find returns the spans named name.
func (c *collector) find(name string) []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range c.spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s *tracepb.Span, key string) (string, int64) {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.GetValue().GetStringValue(), a.GetValue().GetIntValue()
		}
	}
	return "", 0
}

// TestTracing_ExportsSpansOverOTLP: with OTEL_EXPORTER_OTLP_ENDPOINT set,
// every request is a server span named after its route with its status,
// continuing the caller's traceparent; store calls are its children; the
// request's log line carries its trace id.
func TestTracing_ExportsSpansOverOTLP(t *testing.T) {
	col := newCollector(t)
	p := start(t, t.TempDir(), map[string]string{
		"GATEHOUSE_ADMIN_KEY":         testAdminKey,
		"OTEL_EXPORTER_OTLP_ENDPOINT": col.srv.URL,
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
		"OTEL_SERVICE_NAME":           "gatehouse-under-test",

		"GATEHOUSE_WEBHOOK_ALLOW_INSECURE": "true",
	})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("traceparent") == "" {
			t.Error("a webhook delivery carries no traceparent")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	if code, m := p.call("POST", "/admin/webhooks", testAdminKey, map[string]any{"url": hook.URL, "events": []string{"user_created"}}); code != 201 {
		t.Fatalf("create webhook: %d %v", code, m)
	}
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("GET", p.url+"/healthz", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, m := p.call("POST", "/admin/users", testAdminKey, map[string]any{"username": "alice", "password": "correct horse battery"}); code != 201 {
		t.Fatalf("create user: %d %v", code, m)
	}
	if code, _ := p.call("GET", "/admin/users/nope", testAdminKey, nil); code != 404 {
		t.Fatalf("get unknown user: %d", code)
	}

	if !eventually(10*time.Second, func() bool {
		return len(col.find("GET /healthz")) > 0 && len(col.find("POST /admin/users")) > 0 && len(col.find("GET /admin/users/{id}")) > 0
	}) {
		col.mu.Lock()
		var names []string
		for _, s := range col.spans {
			names = append(names, s.Name)
		}
		col.mu.Unlock()
		t.Fatalf("the collector did not receive the request spans; it has %q", names)
	}
	var health *tracepb.Span
	for _, s := range col.find("GET /healthz") { // start() polled /healthz too
		if hex.EncodeToString(s.TraceId) == traceID {
			health = s
		}
	}
	if health == nil {
		t.Fatalf("no healthz span continues the caller's trace %s", traceID)
	}
	if health.Kind != tracepb.Span_SPAN_KIND_SERVER || hex.EncodeToString(health.ParentSpanId) != "00f067aa0ba902b7" {
		t.Errorf("healthz span kind %v, parent %x", health.Kind, health.ParentSpanId)
	}
	create := col.find("POST /admin/users")[0]
	if route, _ := attr(create, "http.route"); route != "/admin/users" {
		t.Errorf("http.route = %q", route)
	}
	if _, status := attr(create, "http.response.status_code"); status != 201 {
		t.Errorf("status attribute %d, want 201", status)
	}
	if _, status := attr(col.find("GET /admin/users/{id}")[0], "http.response.status_code"); status != 404 {
		t.Errorf("status attribute of the unknown user %d, want 404", status)
	}
	if !eventually(5*time.Second, func() bool {
		for _, s := range col.find("store.CreateUser") {
			if string(s.TraceId) == string(create.TraceId) {
				return true
			}
		}
		return false
	}) {
		t.Error("no store.CreateUser span in the request's trace")
	}
	// The webhook delivery is a trace of its own: outbox.deliver, with the
	// POST as its client child.
	if !eventually(5*time.Second, func() bool {
		for _, d := range col.find("outbox.deliver") {
			for _, post := range col.find("HTTP POST") {
				if string(post.TraceId) == string(d.TraceId) && post.Kind == tracepb.Span_SPAN_KIND_CLIENT {
					return true
				}
			}
		}
		return false
	}) {
		col.mu.Lock()
		var names []string
		for _, s := range col.spans {
			names = append(names, s.Name)
		}
		col.mu.Unlock()
		t.Errorf("no webhook delivery trace; spans: %q", names)
	}
	col.mu.Lock()
	service := col.service
	col.mu.Unlock()
	if service != "gatehouse-under-test" {
		t.Errorf("service.name %q", service)
	}
	if !strings.Contains(p.logs.String(), `"trace_id":"`+traceID+`"`) {
		t.Errorf("no log line carries the request's trace id:\n%s", p.logs.String())
	}
}

// TestTracing_OffWithoutVariables: without OTEL variables nothing is
// traced, and log lines carry no trace id even for a traced caller.
func TestTracing_OffWithoutVariables(t *testing.T) {
	p := start(t, t.TempDir(), map[string]string{"GATEHOUSE_ADMIN_KEY": testAdminKey})
	req, _ := http.NewRequest("GET", p.url+"/healthz", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !eventually(5*time.Second, func() bool { return strings.Contains(p.logs.String(), `"path":"/healthz"`) }) {
		t.Fatal("no request log line")
	}
	if strings.Contains(p.logs.String(), "trace_id") || strings.Contains(p.logs.String(), "tracing on") {
		t.Errorf("tracing without OTEL variables:\n%s", p.logs.String())
	}
}
