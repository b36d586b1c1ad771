package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
)

// baseFragment is the fragment that holds the document's top-level fields.
const baseFragment = "base.json"

// fragmentKeys are the top-level keys any fragment may define; the base
// fragment may define any key.
var fragmentKeys = []string{"paths", "components", "tags"}

// merge reads every *.json fragment of dir in fsys and merges them into one
// document: base.json gives the top-level fields; paths, every components
// section and tags are the union of all fragments. A path, a component name
// (within its section) or a tag name defined twice is an error.
func merge(fsys fs.FS, dir string) ([]byte, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list fragments: %w", err)
	}
	// Base first, the rest in name order (Glob sorts), so that errors and
	// "first defined in" messages are stable.
	slices.SortStableFunc(names, func(a, b string) int {
		return boolOrder(path.Base(b) == baseFragment) - boolOrder(path.Base(a) == baseFragment)
	})
	if len(names) == 0 || path.Base(names[0]) != baseFragment {
		return nil, fmt.Errorf("%s: missing", path.Join(dir, baseFragment))
	}
	m := newMerger()
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read fragment: %w", err)
		}
		frag, err := decodeFragment(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := m.add(path.Base(name), frag); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return m.document()
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decodeFragment decodes one JSON object, refusing trailing data.
func decodeFragment(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var frag map[string]json.RawMessage
	if err := dec.Decode(&frag); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if frag == nil {
		return nil, errors.New("decode: not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode: trailing data after the JSON object")
	}
	return frag, nil
}

// merger accumulates fragments and remembers which fragment defined what.
type merger struct {
	top        map[string]json.RawMessage
	paths      map[string]json.RawMessage
	components map[string]map[string]json.RawMessage
	tags       []json.RawMessage
	owner      map[string]string // "paths /auth/login" → fragment name
}

func newMerger() *merger {
	return &merger{
		top:        map[string]json.RawMessage{},
		paths:      map[string]json.RawMessage{},
		components: map[string]map[string]json.RawMessage{},
		owner:      map[string]string{},
	}
}

// add merges one fragment.
func (m *merger) add(name string, frag map[string]json.RawMessage) error {
	for key, v := range frag {
		switch key {
		case "paths":
			if err := m.addPaths(name, v); err != nil {
				return err
			}
		case "components":
			if err := m.addComponents(name, v); err != nil {
				return err
			}
		case "tags":
			if err := m.addTags(name, v); err != nil {
				return err
			}
		default:
			if name != baseFragment {
				return fmt.Errorf("top-level key %q belongs in %s (a fragment may define only %v)", key, baseFragment, fragmentKeys)
			}
			m.top[key] = v
		}
	}
	return nil
}

func (m *merger) addPaths(name string, raw json.RawMessage) error {
	var paths map[string]json.RawMessage
	if err := json.Unmarshal(raw, &paths); err != nil {
		return fmt.Errorf("paths: %w", err)
	}
	for p, item := range paths {
		if err := m.claim(name, "path "+p); err != nil {
			return err
		}
		m.paths[p] = item
	}
	return nil
}

func (m *merger) addComponents(name string, raw json.RawMessage) error {
	var sections map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sections); err != nil {
		return fmt.Errorf("components: %w", err)
	}
	for section, entries := range sections {
		if m.components[section] == nil {
			m.components[section] = map[string]json.RawMessage{}
		}
		for n, v := range entries {
			if err := m.claim(name, "components."+section+" "+n); err != nil {
				return err
			}
			m.components[section][n] = v
		}
	}
	return nil
}

func (m *merger) addTags(name string, raw json.RawMessage) error {
	var tags []json.RawMessage
	if err := json.Unmarshal(raw, &tags); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	for _, t := range tags {
		var tag struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(t, &tag); err != nil || tag.Name == "" {
			return errors.New("tags: every tag needs a name")
		}
		if err := m.claim(name, "tag "+tag.Name); err != nil {
			return err
		}
		m.tags = append(m.tags, t)
	}
	return nil
}

// claim records that fragment name defines what, unless another did.
func (m *merger) claim(name, what string) error {
	if first, ok := m.owner[what]; ok {
		return fmt.Errorf("%s is already defined in %s", what, first)
	}
	m.owner[what] = name
	return nil
}

// document encodes the merged document (object keys sorted, so the output
// is the same on every start).
func (m *merger) document() ([]byte, error) {
	out := map[string]any{}
	for k, v := range m.top {
		out[k] = v
	}
	out["paths"] = m.paths
	if len(m.components) > 0 {
		out["components"] = m.components
	}
	if len(m.tags) > 0 {
		out["tags"] = m.tags
	}
	doc, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	return append(doc, '\n'), nil
}
