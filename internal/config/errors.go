package config

// KeyError reports a setting that could not be read or is invalid. Env is
// the environment variable and Key the YAML key; Env is empty for settings
// that exist only in the file (providers).
type KeyError struct {
	Env string
	Key string
	Err error
}

// Error formats the error as `ENV (key): reason`, or `key: reason` when the
// setting has no environment variable.
func (e *KeyError) Error() string {
	if e.Env == "" {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Env + " (" + e.Key + "): " + e.Err.Error()
}

// Unwrap returns the underlying reason.
func (e *KeyError) Unwrap() error { return e.Err }
