package openapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDocumentFor_LeavesOutSwitchedOffFamilies(t *testing.T) {
	all, err := DocumentFor([]string{"native", "legacy", "app", "oauth2"})
	if err != nil || string(all) != string(Document()) {
		t.Fatalf("every family enabled: want the full document (err %v)", err)
	}
	b, err := DocumentFor([]string{"native"})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]any   `json:"paths"`
		Tags  []map[string]any `json:"tags"`
		Comps map[string]any   `json:"components"`
		Info  map[string]any   `json:"info"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for p := range doc.Paths {
		for _, off := range []string{"/bo/", "/api/v1/", "/oauth2/"} {
			if strings.HasPrefix(p, off) {
				t.Errorf("path %s of a switched-off family is still described", p)
			}
		}
		seen[strings.SplitN(p, "/", 3)[1]] = true
	}
	for _, kept := range []string{"auth", "admin", ".well-known", "healthz", "openapi.json"} {
		if !seen[kept] {
			t.Errorf("no /%s path left; paths: %v", kept, doc.Paths)
		}
	}
	for _, tag := range doc.Tags {
		switch tag["name"] {
		case "legacy", "app", "oauth2":
			t.Errorf("tag %v of a switched-off family is still listed", tag["name"])
		}
	}
	if doc.Comps == nil || doc.Info == nil {
		t.Error("components or info lost")
	}
	none, err := DocumentFor(nil)
	if err != nil || strings.Contains(string(none), `"/auth/login"`) {
		t.Errorf("no family enabled: /auth/login still described (err %v)", err)
	}
}
