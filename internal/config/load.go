package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Load builds the configuration: defaults, then the YAML file at path (none
// when path is ""), then the environment variables that lookup reports
// (os.LookupEnv in production; nil means none), each environment variable
// overriding the file. The result is validated. Unknown YAML keys are
// errors. When the issuer is set nowhere it is derived from the listen
// address. All problems found are reported together (errors.Join), each
// naming its key; most are *KeyError values.
func Load(path string, lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	c.Issuer = ""

	var errs []error
	if path != "" {
		errs = append(errs, applyFile(&c, path)...)
	}
	if lookup != nil {
		errs = append(errs, applyEnv(&c, lookup)...)
	}
	if c.Issuer == "" {
		c.Issuer = defaultIssuer(c.Addr)
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// FilePath returns the configuration file to load: the --config flag value
// when set, else the GATEHOUSE_CONFIG environment variable, else "".
func FilePath(flagValue string, lookup func(string) (string, bool)) string {
	if flagValue != "" {
		return flagValue
	}
	if lookup != nil {
		if v, ok := lookup(FileEnv); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// applyEnv applies every GATEHOUSE_* variable that is set, even to an empty
// value: an explicitly empty variable means an empty value, not "unset".
func applyEnv(c *Config, lookup func(string) (string, bool)) []error {
	var errs []error
	for _, f := range fields {
		v, ok := lookup(f.env)
		if !ok {
			continue
		}
		if err := f.set(c, strings.TrimSpace(v)); err != nil {
			errs = append(errs, &KeyError{Env: f.env, Key: f.key(), Err: err})
		}
	}
	return errs
}

// applyFile reads the YAML file at path into c and returns its problems,
// each prefixed with the file's path.
func applyFile(c *Config, path string) []error {
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("read config file: %w", err)}
	}
	errs := applyYAML(c, data)
	for i, err := range errs {
		errs[i] = fmt.Errorf("config file %s: %w", path, err)
	}
	return errs
}
