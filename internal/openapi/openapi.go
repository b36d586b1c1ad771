// Package openapi serves the OpenAPI 3 document that describes every API
// family, at GET /openapi.json.
//
// The document is assembled from one JSON fragment per API family in
// fragments/. To describe a new family, drop a file fragments/<family>.json
// of the form
//
//	{"tags": [...], "paths": {...}, "components": {"schemas": {...}, ...}}
//
// and nothing else: it is embedded and merged at start-up. Fragments may
// refer to each other's components ("#/components/responses/BadRequest" of
// base.json, for instance). fragments/base.json alone holds the top-level
// fields (openapi, info, servers), the security schemes, the shared
// components (the Error schema and error responses) and the operational
// paths. A path, component or tag defined by two fragments stops the
// program at start-up, so every test that imports this package catches the
// conflict. openapi_test.go drives a real server through every documented
// operation and validates each request and response against the document;
// a new family adds its exercise in a file of its own there.
package openapi

import (
	"embed"
	"fmt"
)

//go:embed fragments/*.json
var fragments embed.FS

// document is the merged document, built once at start-up.
var document = mustMerge()

func mustMerge() []byte {
	doc, err := merge(fragments, "fragments")
	if err != nil {
		panic(fmt.Sprintf("openapi: %v", err))
	}
	return doc
}

// Document returns the OpenAPI document (JSON). Callers must not modify it.
func Document() []byte { return document }
