package openapi

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
)

const testBase = `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
	"paths": {"/healthz": {"get": {"responses": {"200": {"description": "ok"}}}}},
	"components": {"schemas": {"Error": {"type": "object"}}},
	"tags": [{"name": "operations"}]}`

func fragmentsFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys["fragments/"+name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

func TestMerge_UnionOfFragments(t *testing.T) {
	doc, err := merge(fragmentsFS(map[string]string{
		"base.json": testBase,
		"a.json": `{"paths": {"/a": {}}, "components": {"schemas": {"A": {}}, "responses": {"R": {"description": "r"}}},
			"tags": [{"name": "a"}]}`,
		"b.json": `{"paths": {"/b": {}}, "components": {"schemas": {"B": {}}}}`,
	}), "fragments")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]any                        `json:"paths"`
		Components map[string]map[string]json.RawMessage `json:"components"`
		Tags       []struct{ Name string }               `json:"tags"`
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatal(err)
	}
	if got.OpenAPI != "3.0.3" || len(got.Paths) != 3 || got.Paths["/a"] == nil || got.Paths["/b"] == nil {
		t.Errorf("paths: %v (openapi %q)", got.Paths, got.OpenAPI)
	}
	if len(got.Components["schemas"]) != 3 || got.Components["responses"]["R"] == nil {
		t.Errorf("components: %v", got.Components)
	}
	if len(got.Tags) != 2 || got.Tags[0].Name != "operations" || got.Tags[1].Name != "a" {
		t.Errorf("tags (base first): %v", got.Tags)
	}
}

func TestMerge_RefusesConflicts(t *testing.T) {
	cases := map[string]struct {
		files map[string]string
		want  string
	}{
		"duplicate path": {map[string]string{"a.json": `{"paths": {"/healthz": {}}}`}, "path /healthz is already defined in base.json"},
		"duplicate schema": {map[string]string{"a.json": `{"components": {"schemas": {"X": {}}}}`, "b.json": `{"components": {"schemas": {"X": {}}}}`},
			"components.schemas X is already defined in a.json"},
		"duplicate tag":      {map[string]string{"a.json": `{"tags": [{"name": "operations"}]}`}, "tag operations is already defined"},
		"top-level key":      {map[string]string{"a.json": `{"info": {}}`}, `top-level key "info" belongs in base.json`},
		"unnamed tag":        {map[string]string{"a.json": `{"tags": [{}]}`}, "every tag needs a name"},
		"not an object":      {map[string]string{"a.json": `[]`}, "decode"},
		"trailing data":      {map[string]string{"a.json": `{} {}`}, "trailing data"},
		"malformed":          {map[string]string{"a.json": `{"paths": `}, "decode"},
		"paths not a map":    {map[string]string{"a.json": `{"paths": []}`}, "paths"},
		"components not map": {map[string]string{"a.json": `{"components": {"schemas": []}}`}, "components"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			c.files["base.json"] = testBase
			_, err := merge(fragmentsFS(c.files), "fragments")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestMerge_RequiresBase(t *testing.T) {
	if _, err := merge(fragmentsFS(map[string]string{"a.json": `{"paths": {}}`}), "fragments"); err == nil || !strings.Contains(err.Error(), "base.json: missing") {
		t.Fatalf("err = %v", err)
	}
}

func TestDocument_HoldsEveryEmbeddedFragment(t *testing.T) {
	names, err := fragments.ReadDir("fragments")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(Document(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		raw, err := fragments.ReadFile("fragments/" + n.Name())
		if err != nil {
			t.Fatal(err)
		}
		var frag struct {
			Paths map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(raw, &frag); err != nil {
			t.Fatalf("%s: %v", n.Name(), err)
		}
		for p := range frag.Paths {
			if doc.Paths[p] == nil {
				t.Errorf("%s: path %s is missing from the document", n.Name(), p)
			}
		}
	}
}
