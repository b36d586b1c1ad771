package config

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// providersKey is the one YAML key that has no environment variable.
const providersKey = "providers"

// applyYAML reads a YAML document into c. The document is walked as a node
// tree rather than decoded into a struct so that every error can name its
// key and line, unknown and duplicate keys are caught, and list settings
// accept both a sequence and a comma-separated string.
func applyYAML(c *Config, data []byte) []error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []error{fmt.Errorf("parse YAML: %w", err)}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	root := resolve(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("line %d: the document must be a mapping of keys to values", root.Line)}
	}

	byKey := make(map[string]field, len(fields))
	for _, f := range fields {
		byKey[f.key()] = f
	}
	var errs []error
	seen := make(map[string]bool)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], resolve(root.Content[i+1])
		name := k.Value
		if seen[name] {
			errs = append(errs, fmt.Errorf("line %d: duplicate key %q", k.Line, name))
			continue
		}
		seen[name] = true
		if name == providersKey {
			ps, perrs := parseProviders(v)
			if len(perrs) > 0 {
				errs = append(errs, perrs...)
				continue
			}
			c.Providers = ps
			continue
		}
		f, ok := byKey[name]
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown key %q", k.Line, name))
			continue
		}
		if err := applyNode(c, f, v); err != nil {
			errs = append(errs, &KeyError{Env: f.env, Key: f.key(), Err: fmt.Errorf("line %d: %w", v.Line, err)})
		}
	}
	return errs
}

// applyNode sets one field from its YAML value. A null value (a key with
// nothing after it) leaves the default in place.
func applyNode(c *Config, f field, v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil
		}
		return f.set(c, strings.TrimSpace(v.Value))
	case yaml.SequenceNode:
		if f.setList == nil {
			return errors.New("expected a single value, got a list")
		}
		items, err := scalarItems(v)
		if err != nil {
			return err
		}
		return f.setList(c, items)
	default:
		return errors.New("expected a value, got a mapping")
	}
}

// scalarItems returns the values of a sequence of scalars.
func scalarItems(v *yaml.Node) ([]string, error) {
	items := make([]string, 0, len(v.Content))
	for _, it := range v.Content {
		it = resolve(it)
		if it.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: list items must be plain values", it.Line)
		}
		items = append(items, it.Value)
	}
	return items, nil
}

// resolve follows a YAML alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}
