package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// parseFlags parses args into fs and refuses anything left over: a leaf
// command takes flags only, and a stray word is more often a typo than intent.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (this command takes flags only; see --help)", fs.Name(), fs.Arg(0))
	}
	return nil
}

// hints says, per error code of the service, what the user of a command
// should do about it. A hint replaces the service's message when it starts
// with "=".
type hints map[string]string

// failure turns an error of the service into one line for the terminal:
// what failed, the caller-safe reason and what to do. The internal cause
// (SQL errors, wrapped store sentinels) is left out: it is logged by nobody
// and helps nobody at a prompt.
func failure(what string, err error, h hints) error {
	var ce *core.Error
	if errors.As(err, &ce) {
		msg := ce.Message
		if hint := h[ce.Code]; strings.HasPrefix(hint, "=") {
			msg = hint[1:]
		} else if hint != "" {
			msg += ": " + hint
		}
		return fmt.Errorf("%s: %s", what, msg)
	}
	if errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("%s: the database does not answer: check GATEHOUSE_DB and that the database is running", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// errorLines formats err for stderr: one line per joined error (the
// configuration reports all its problems at once), with the indented
// continuation lines that some drivers put into their messages folded in.
func errorLines(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		indented := strings.HasPrefix(line, "\t") || strings.HasPrefix(line, " ")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if n := len(out); n > 0 && indented {
			out[n-1] += " " + line
			continue
		}
		out = append(out, line)
	}
	return out
}
