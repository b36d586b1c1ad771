package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/gatehouse-auth/gatehouse/internal/openapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// call is one request of an exercise and the status the server must answer.
type call struct {
	Method string
	Path   string // with the query string, if any
	// JSON is marshalled as the body with Content-Type application/json.
	JSON any
	// Raw is sent as the body as is (set its Content-Type in Header).
	Raw    []byte
	Header map[string]string
	Bearer string
	Want   int
	// Invalid marks a request that breaks the document on purpose (a
	// missing field, a wrong media type, a bad header): the document must
	// reject it too. Every other request must conform to the document.
	Invalid bool
}

// checkFunc sends a call to one test server, checks its status, validates
// the request and the response against the document and records the
// operation as exercised.
type checkFunc func(c call) *servertest.Response

// loadDocument parses and validates the served document.
func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document())
	if err != nil {
		t.Fatalf("load document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	return doc
}

// operationKey names an operation: "GET /auth/me".
func operationKey(method, path string) string { return strings.ToUpper(method) + " " + path }

// coverage records the statuses seen per documented operation, across
// every test server of the run.
type coverage struct {
	mu  sync.Mutex
	ops map[string]map[int]bool
}

func (c *coverage) add(op string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops == nil {
		c.ops = map[string]map[int]bool{}
	}
	if c.ops[op] == nil {
		c.ops[op] = map[int]bool{}
	}
	c.ops[op][status] = true
}

func (c *coverage) statuses(op string) map[int]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops[op]
}

// exercised is what the families' exercises have covered.
var exercised coverage

// startServer starts a test server and returns the check bound to it.
// Exercises that need a server with another configuration call it too.
func startServer(t *testing.T, opts servertest.Options) (*servertest.Env, checkFunc) {
	t.Helper()
	env := servertest.New(t, opts)
	return env, bind(t, env)
}

// bind returns the check of env: the document's servers are replaced by
// the test server's URL so that routes are found by the real request URL.
func bind(t *testing.T, env *servertest.Env) checkFunc {
	t.Helper()
	doc := loadDocument(t)
	doc.Servers = openapi3.Servers{{URL: env.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return func(c call) *servertest.Response {
		t.Helper()
		return check(t, env, router, c)
	}
}

func check(t *testing.T, env *servertest.Env, router routers.Router, c call) *servertest.Response {
	t.Helper()
	body, header := c.Raw, map[string]string{}
	if c.JSON != nil {
		b, err := json.Marshal(c.JSON)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		body, header["Content-Type"] = b, "application/json"
	}
	for k, v := range c.Header {
		header[k] = v
	}
	name := c.Method + " " + c.Path
	resp := env.Do(servertest.Request{Method: c.Method, Path: c.Path, Body: bytes.NewReader(body), Header: header, Bearer: c.Bearer})
	if resp.Status != c.Want {
		t.Errorf("%s: status %d, want %d: %.2000s", name, resp.Status, c.Want, resp.Body)
	}

	req, err := http.NewRequest(c.Method, env.URL+c.Path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: request: %v", name, err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Errorf("%s: the document has no such operation: %v", name, err)
		return resp
	}
	exercised.add(operationKey(route.Method, route.Path), resp.Status)

	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: requireBearer, MultiError: true, SchemaValidationOptions: quiet},
	}
	switch err := openapi3filter.ValidateRequest(ctx, in); {
	case c.Invalid && err == nil:
		t.Errorf("%s: the document accepts a request the test sends as invalid", name)
	case !c.Invalid && err != nil:
		t.Errorf("%s: the request does not conform to the document: %s", name, short(err))
	}

	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.Status,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, SchemaValidationOptions: quiet},
	}
	out.SetBodyBytes(resp.Body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s: the %d answer does not conform to the document: %s\nbody: %.2000s", name, resp.Status, short(err), resp.Body)
	}
	if r := route.Operation.Responses.Status(resp.Status); r != nil && r.Value != nil && len(r.Value.Content) == 0 && len(resp.Body) > 0 {
		t.Errorf("%s: the document says the %d answer has no body, the server sent %q", name, resp.Status, resp.Body)
	}
	return resp
}

// quiet leaves the whole schema and value out of validation errors, which
// would drown the failing field's name.
var quiet = []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()}

// short bounds an error message for the test log.
func short(err error) string {
	const max = 2000
	if msg := err.Error(); len(msg) > max {
		return msg[:max] + "…"
	}
	return err.Error()
}

// requireBearer is the request validation's authentication: the request
// must present an `Authorization: Bearer` credential, or `Basic` for a
// basic scheme (whether it is a good one is the server's business, not
// the document's).
func requireBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	scheme := "Bearer "
	if in.SecurityScheme != nil && strings.EqualFold(in.SecurityScheme.Scheme, "basic") {
		scheme = "Basic "
	}
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return errors.New("no " + strings.ToLower(scheme) + "credential")
	}
	return nil
}

// documentedOperations lists every operation of the document with its
// documented statuses.
func documentedOperations(doc *openapi3.T) map[string][]int {
	ops := map[string][]int{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			var statuses []int
			for code := range op.Responses.Map() {
				var n int
				if _, err := fmt.Sscanf(code, "%d", &n); err == nil {
					statuses = append(statuses, n)
				}
			}
			sort.Ints(statuses)
			ops[operationKey(method, path)] = statuses
		}
	}
	return ops
}
