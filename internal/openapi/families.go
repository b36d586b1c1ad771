package openapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// familyPrefixes maps each API family that GATEHOUSE_FAMILIES can switch off
// to the path prefix of its operations and the name of its tag. The admin,
// discovery and operational paths are always served and always described.
var familyPrefixes = map[string]string{
	"native": "/auth/",
	"legacy": "/bo/",
	"app":    "/api/v1/",
	"oauth2": "/oauth2/",
}

// DocumentFor returns the document of a server that serves the optional
// families named in enabled (and, always, the admin, discovery and
// operational paths): the operations and tags of the families left out are
// removed, since they answer 404 there.
func DocumentFor(enabled []string) ([]byte, error) {
	var off []string
	for fam := range familyPrefixes {
		if !slices.Contains(enabled, fam) {
			off = append(off, fam)
		}
	}
	if len(off) == 0 {
		return document, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(document, &doc); err != nil {
		return nil, fmt.Errorf("decode document: %w", err)
	}
	var paths map[string]json.RawMessage
	if err := json.Unmarshal(doc["paths"], &paths); err != nil {
		return nil, fmt.Errorf("decode paths: %w", err)
	}
	for p := range paths {
		for _, fam := range off {
			if strings.HasPrefix(p, familyPrefixes[fam]) {
				delete(paths, p)
			}
		}
	}
	var tags []map[string]any
	if raw, ok := doc["tags"]; ok {
		if err := json.Unmarshal(raw, &tags); err != nil {
			return nil, fmt.Errorf("decode tags: %w", err)
		}
		tags = slices.DeleteFunc(tags, func(t map[string]any) bool {
			name, _ := t["name"].(string)
			return slices.Contains(off, name)
		})
	}
	out := map[string]any{}
	for k, v := range doc {
		out[k] = v
	}
	out["paths"] = paths
	if tags != nil {
		out["tags"] = tags
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	return append(b, '\n'), nil
}
