package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/userfile"
)

// On a terminal the progress is one bar redrawn in place, with users/s and
// an ETA; a failed line clears it, prints itself and redraws it.
func TestProgress_TerminalBar(t *testing.T) {
	var out bytes.Buffer
	p := &progress{w: &out, total: 1000, tty: true}
	p.progress(userfile.Progress{Lines: 250, Bytes: 250, Elapsed: 2 * time.Second, ImportSummary: core.ImportSummary{Imported: 249, Failed: 1}})
	bar := out.String()
	for _, want := range []string{"\r\033[K[=======", "] ", " 25% 250 users, 125 users/s, ETA 6s", "(imported 249, updated 0, skipped 0, failed 1)"} {
		if !strings.Contains(bar, want) {
			t.Errorf("bar %q lacks %q", bar, want)
		}
	}
	if strings.Contains(bar, "\n") {
		t.Errorf("the bar ends a line: %q", bar)
	}
	out.Reset()
	p.result(core.ImportResult{Line: 7, Outcome: store.ImportFailed, Err: errors.New("bad")})
	if got := out.String(); !strings.HasPrefix(got, "\r\033[Kline 7: bad\n\r\033[K[") {
		t.Errorf("failed line on a terminal: %q", got)
	}
	out.Reset()
	p.done()
	if got := out.String(); !strings.HasPrefix(got, "\r\033[K") || !strings.HasSuffix(got, "failed 1)\n") {
		t.Errorf("final status: %q", got)
	}
}

// Without a terminal: plain lines, no escape codes.
func TestProgress_PlainLines(t *testing.T) {
	var out bytes.Buffer
	p := &progress{w: &out}
	p.progress(userfile.Progress{Lines: 1000, Elapsed: time.Second})
	p.progress(userfile.Progress{Lines: 2000, Elapsed: 2 * time.Second}) // within plainEvery: not printed
	p.done()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "1000 users, 1000 users/s") || !strings.HasPrefix(lines[1], "2000 users") || strings.Contains(out.String(), "\033") {
		t.Errorf("plain progress: %q", out.String())
	}
}
