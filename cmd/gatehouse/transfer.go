package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/userfile"
)

// exitCode is an error that only sets the process's exit status: what went
// wrong has been reported already.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", "Import users from a JSON Lines file (one user an object; see docs/migration.md),\n"+
		"straight into the database: a server using the same database keeps running and\n"+
		"imported users can sign in at once. Bad lines are reported with their line\n"+
		"number and skipped; the exit status is 1 when any line failed.", stderr)
	cfgPath := configFlag(fs)
	file := fs.String("file", "", "the file to import, - for stdin (required)")
	tenant := fs.String("tenant", core.DefaultTenant, "tenant id")
	dryRun := fs.Bool("dry-run", false, "validate every line and report what would happen, write nothing")
	onConflict := fs.String("on-conflict", "skip", "what to do with a user that exists (same id, or same username for lines without id): skip, update or fail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("import: --file is required")
	}
	mode := store.OnConflict(*onConflict)
	if mode != store.ConflictSkip && mode != store.ConflictUpdate && mode != store.ConflictFail {
		return fmt.Errorf("import: --on-conflict must be skip, update or fail, not %q", *onConflict)
	}
	in, total, err := openInput(*file)
	if err != nil {
		return err
	}
	defer in.Close()
	return withServer(ctx, *cfgPath, stderr, func(srv *server.Server) error {
		p := newProgress(stderr, total)
		im := &userfile.Importer{
			Service: srv.Service, Tenant: *tenant, Meta: cliMeta, Source: *file,
			Options:    core.ImportOptions{OnConflict: mode, DryRun: *dryRun},
			OnResult:   p.result,
			OnProgress: p.progress,
		}
		sum, err := im.Run(ctx, in)
		p.done()
		verb := "imported"
		if *dryRun {
			verb = "dry run: would have imported"
		}
		fmt.Fprintf(stdout, "%s %d, updated %d, skipped %d, failed %d\n", verb, sum.Imported, sum.Updated, sum.Skipped, sum.Failed)
		if err != nil {
			return err
		}
		if sum.Failed > 0 {
			return exitCode(1)
		}
		return nil
	})
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "Export a tenant's users as JSON Lines (the format of gatehouse import), password\n"+
		"hashes included: the file is created with mode 0600; keep it as secret as the\n"+
		"database.", stderr)
	cfgPath := configFlag(fs)
	file := fs.String("file", "", "the file to write, - for stdout (required)")
	tenant := fs.String("tenant", core.DefaultTenant, "tenant id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("export: --file is required")
	}
	return withServer(ctx, *cfgPath, stderr, func(srv *server.Server) error {
		var w io.Writer = stdout
		if *file != "-" {
			f, err := os.OpenFile(*file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			defer f.Close()
			w = f
		}
		n, err := userfile.Export(ctx, srv.Service, *tenant, *file, cliMeta, w)
		if err != nil {
			return err
		}
		if f, ok := w.(*os.File); ok && f != os.Stdout {
			if err := f.Close(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
		fmt.Fprintf(stderr, "exported %d users\n", n)
		return nil
	})
}

// openInput opens the import file (or stdin) and returns its size when
// known, for the progress bar's percentage and ETA.
func openInput(name string) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(stdin), 0, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, fmt.Errorf("import: %w", err)
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, nil
}

// progress reports an import on stderr: a bar redrawn in place on a
// terminal, plain lines (at most one every plainEvery) otherwise. Failed
// lines are printed as "line N: reason" either way.
type progress struct {
	w        io.Writer
	total    int64
	tty      bool
	drawn    bool
	last     time.Time
	lastSeen userfile.Progress
	printed  int // lines of the last plain status printed
}

const plainEvery = 5 * time.Second

func newProgress(w io.Writer, total int64) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = isatty.IsTerminal(f.Fd())
	}
	return &progress{w: w, total: total, tty: tty}
}

func (p *progress) result(r core.ImportResult) {
	if r.Err == nil {
		return
	}
	p.clear()
	fmt.Fprintf(p.w, "line %d: %s\n", r.Line, userfile.Reason(r.Err))
	if p.tty {
		p.draw(p.lastSeen)
	}
}

func (p *progress) progress(pr userfile.Progress) {
	p.lastSeen = pr
	if p.tty {
		p.draw(pr)
		return
	}
	if now := time.Now(); now.Sub(p.last) >= plainEvery {
		p.last, p.printed = now, pr.Lines
		fmt.Fprintln(p.w, p.status(pr))
	}
}

func (p *progress) done() {
	if p.tty {
		p.clear()
	}
	if p.lastSeen.Lines > 0 && (p.tty || p.printed != p.lastSeen.Lines) {
		fmt.Fprintln(p.w, p.status(p.lastSeen))
	}
}

func (p *progress) clear() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func (p *progress) draw(pr userfile.Progress) {
	const width = 30
	bar := ""
	if p.total > 0 {
		filled := int(float64(width) * float64(pr.Bytes) / float64(p.total))
		bar = "[" + strings.Repeat("=", min(filled, width)) + strings.Repeat(" ", width-min(filled, width)) + "] "
	}
	fmt.Fprint(p.w, "\r\033[K"+bar+p.status(pr))
	p.drawn = true
}

// status is "42% 12000 users, 3100 users/s, ETA 1m5s (imported …)".
func (p *progress) status(pr userfile.Progress) string {
	var b strings.Builder
	secs := pr.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(pr.Lines) / secs
	}
	if p.total > 0 {
		fmt.Fprintf(&b, "%3.0f%% ", 100*float64(pr.Bytes)/float64(p.total))
	}
	fmt.Fprintf(&b, "%d users, %.0f users/s", pr.Lines, rate)
	if p.total > 0 && pr.Bytes > 0 && pr.Bytes < p.total {
		eta := time.Duration(float64(pr.Elapsed) * float64(p.total-pr.Bytes) / float64(pr.Bytes))
		fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
	}
	fmt.Fprintf(&b, " (imported %d, updated %d, skipped %d, failed %d)", pr.Imported, pr.Updated, pr.Skipped, pr.Failed)
	return b.String()
}
