package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultTenant is the tenant of a provider that names none.
const DefaultTenant = "default"

// providerAlgs are the signature algorithms an ID token may use: asymmetric
// only, so neither "none" nor an HMAC keyed with a public key can pass.
var providerAlgs = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA",
}

var providerNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// parseProviders reads the providers list: a sequence of mappings with the
// keys tenant, name, issuer, audiences, jwks_uri, algorithms,
// auto_provision and link_by_email.
func parseProviders(v *yaml.Node) ([]Provider, []error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, []error{&KeyError{Key: providersKey, Err: fmt.Errorf("line %d: expected a list of providers", v.Line)}}
	}
	var errs []error
	ps := make([]Provider, 0, len(v.Content))
	for i, item := range v.Content {
		p, perrs := parseProvider(fmt.Sprintf("%s[%d]", providersKey, i), resolve(item))
		if len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		ps = append(ps, p)
	}
	return ps, errs
}

func parseProvider(prefix string, v *yaml.Node) (Provider, []error) {
	var p Provider
	if v.Kind != yaml.MappingNode {
		return p, []error{&KeyError{Key: prefix, Err: fmt.Errorf("line %d: expected a mapping", v.Line)}}
	}
	var errs []error
	seen := make(map[string]bool)
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], resolve(v.Content[i+1])
		key := prefix + "." + k.Value
		if seen[k.Value] {
			errs = append(errs, &KeyError{Key: key, Err: fmt.Errorf("line %d: duplicate key", k.Line)})
			continue
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "tenant":
			p.Tenant, err = nodeString(val)
		case "name":
			p.Name, err = nodeString(val)
		case "issuer":
			p.Issuer, err = nodeString(val)
		case "jwks_uri":
			p.JWKSURI, err = nodeString(val)
		case "audiences":
			p.Audiences, err = nodeList(val)
		case "algorithms":
			p.Algorithms, err = nodeList(val)
		case "auto_provision":
			p.AutoProvision, err = nodeBool(val)
		case "link_by_email":
			p.LinkByEmail, err = nodeBool(val)
		default:
			err = errors.New("unknown key")
		}
		if err != nil {
			errs = append(errs, &KeyError{Key: key, Err: fmt.Errorf("line %d: %w", k.Line, err)})
		}
	}
	if p.Tenant == "" {
		p.Tenant = DefaultTenant
	}
	return p, errs
}

func nodeString(v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", errors.New("expected a single value")
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(v.Value), nil
}

// nodeList accepts a sequence or a comma-separated string.
func nodeList(v *yaml.Node) ([]string, error) {
	switch v.Kind {
	case yaml.SequenceNode:
		items, err := scalarItems(v)
		if err != nil {
			return nil, err
		}
		return splitList(items), nil
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, nil
		}
		return splitList(strings.Split(v.Value, ",")), nil
	}
	return nil, errors.New("expected a list")
}

func nodeBool(v *yaml.Node) (bool, error) {
	var b bool
	if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
		return false, errors.New("expected true or false")
	}
	return b, nil
}

// validateProviders checks each provider and that no two share a tenant and name.
func validateProviders(ps []Provider) []error {
	var errs []error
	bad := func(i int, key, format string, args ...any) {
		errs = append(errs, &KeyError{
			Key: fmt.Sprintf("%s[%d].%s", providersKey, i, key),
			Err: fmt.Errorf(format, args...),
		})
	}
	type ident struct{ tenant, name string }
	seen := make(map[ident]int)
	for i, p := range ps {
		if p.Tenant == "" {
			bad(i, "tenant", "must not be empty")
		}
		if !providerNameRE.MatchString(p.Name) {
			bad(i, "name", "must be 1-64 characters of A-Za-z0-9._-, got %q", p.Name)
		} else if j, dup := seen[ident{p.Tenant, p.Name}]; dup {
			bad(i, "name", "provider %q of tenant %q is already declared at providers[%d]", p.Name, p.Tenant, j)
		} else {
			seen[ident{p.Tenant, p.Name}] = i
		}
		if err := checkHTTPURL(p.Issuer); err != nil {
			bad(i, "issuer", "%v", err)
		}
		if len(p.Audiences) == 0 {
			bad(i, "audiences", "at least one audience is required")
		}
		if p.JWKSURI != "" {
			if err := checkHTTPURL(p.JWKSURI); err != nil {
				bad(i, "jwks_uri", "%v", err)
			}
		}
		for _, alg := range p.Algorithms {
			if !slices.Contains(providerAlgs, alg) {
				bad(i, "algorithms", "unsupported algorithm %q (want one of %s)", alg, strings.Join(providerAlgs, ", "))
			}
		}
	}
	return errs
}
