package openapi_test

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/openapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// family is the exercise of one API family: it drives a real server
// through every operation the family's fragment documents, error cases
// included, with check. A family registers itself from an init function
// in a file of its own (family_<name>_test.go).
type family struct {
	name string
	// opts configure the server the exercise gets.
	opts     servertest.Options
	exercise func(t *testing.T, env *servertest.Env, check checkFunc)
}

var families = map[string]family{}

func register(f family) {
	if _, dup := families[f.name]; dup {
		panic("family " + f.name + " registered twice")
	}
	families[f.name] = f
}

func TestDocument_IsValidOpenAPI(t *testing.T) {
	doc := loadDocument(t)
	if doc.OpenAPI == "" || doc.Info == nil || doc.Info.Title != "Gatehouse" {
		t.Fatalf("document header: openapi %q, info %+v", doc.OpenAPI, doc.Info)
	}
	if len(documentedOperations(doc)) == 0 {
		t.Fatal("the document describes no operation")
	}
	if !json.Valid(openapi.Document()) {
		t.Fatal("Document is not JSON")
	}
}

// TestDocument_MatchesServer runs every family's exercise against a real
// server, validating each request and answer against the document, then
// checks that every documented operation was exercised: the document can
// neither misdescribe an answer nor describe a route that does not exist.
func TestDocument_MatchesServer(t *testing.T) {
	names := make([]string, 0, len(families))
	for name := range families {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := families[name]
		t.Run(name, func(t *testing.T) {
			env, check := startServer(t, f.opts)
			f.exercise(t, env, check)
		})
	}

	ops := documentedOperations(loadDocument(t))
	keys := make([]string, 0, len(ops))
	for op := range ops {
		keys = append(keys, op)
	}
	sort.Strings(keys)
	for _, op := range keys {
		seen := exercised.statuses(op)
		if len(seen) == 0 {
			t.Errorf("%s is documented but no exercise calls it", op)
			continue
		}
		var missing []int
		for _, s := range ops[op] {
			if !seen[s] {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			t.Logf("%s: documented statuses not exercised: %v", op, missing)
		}
	}
}
