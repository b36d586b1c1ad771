package userfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
)

// BatchSize is how many lines one store transaction carries.
const BatchSize = 1000

// MaxLine is the longest line accepted, in bytes; a longer one fails.
const MaxLine = 1 << 20

// Importer imports a user file into one tenant.
type Importer struct {
	Service *core.Service
	Tenant  string
	Options core.ImportOptions
	Meta    core.Meta
	// Source names the file in the audit events.
	Source string
	// OnResult, when set, gets every line's result, in file order, as its
	// batch completes; failed lines carry Err.
	OnResult func(core.ImportResult)
	// OnProgress, when set, is called after each batch.
	OnProgress func(Progress)
	// Now is the clock of progress reports (time.Now when nil).
	Now func() time.Time
}

// Progress is the state of a run after a batch.
type Progress struct {
	Lines   int   // lines handled so far
	Bytes   int64 // bytes of the file read so far
	Elapsed time.Duration
	core.ImportSummary
}

// batch is a run of decoded lines and where the file stood after them.
type batch struct {
	lines []core.ImportLine
	bytes int64
}

// Run imports r. A bad line never stops the run; the error return means
// the run could not go on (the tenant does not exist, the database is
// unreachable, the file cannot be read). The summary counts the lines
// handled until then.
func (im *Importer) Run(ctx context.Context, r io.Reader) (core.ImportSummary, error) {
	now := im.Now
	if now == nil {
		now = time.Now
	}
	var sum core.ImportSummary
	if err := im.Service.StartImport(ctx, im.Tenant, im.Source, im.Options, im.Meta); err != nil {
		return sum, err
	}
	start := now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Decoding the next batch overlaps with writing the current one.
	batches := make(chan batch, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- readBatches(ctx, r, batches)
	}()
	lines := 0
	var runErr error
	for b := range batches {
		results, err := im.Service.ImportUsers(ctx, im.Tenant, b.lines, im.Options, im.Meta)
		if err != nil {
			runErr = err
			break
		}
		for _, res := range results {
			sum.Add(res)
			if im.OnResult != nil {
				im.OnResult(res)
			}
		}
		lines += len(b.lines)
		if im.OnProgress != nil {
			im.OnProgress(Progress{Lines: lines, Bytes: b.bytes, Elapsed: now().Sub(start), ImportSummary: sum})
		}
	}
	cancel()
	for range batches { // let the reader finish
	}
	if err := <-readErr; runErr == nil && err != nil && !errors.Is(err, context.Canceled) {
		runErr = err
	}
	im.Service.FinishImport(context.WithoutCancel(ctx), im.Tenant, im.Source, im.Options, sum, im.Meta)
	return sum, runErr
}

// readBatches decodes r into batches of BatchSize lines. Blank lines are
// skipped but counted, so that line numbers match an editor's.
func readBatches(ctx context.Context, r io.Reader, out chan<- batch) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var read int64
	n := 0
	cur := batch{lines: make([]core.ImportLine, 0, BatchSize)}
	flush := func() bool {
		cur.bytes = read
		select {
		case out <- cur:
		case <-ctx.Done():
			return false
		}
		cur = batch{lines: make([]core.ImportLine, 0, BatchSize)}
		return true
	}
	for {
		raw, tooLong, size, err := readLine(br)
		read += int64(size)
		if size > 0 {
			n++
			switch {
			case tooLong:
				cur.lines = append(cur.lines, core.ImportLine{Line: n, Err: fmt.Errorf("the line is longer than %d bytes", MaxLine)})
			case len(trimSpace(raw)) > 0:
				cur.lines = append(cur.lines, decodeLine(n, raw))
			}
			if len(cur.lines) == BatchSize && !flush() {
				return ctx.Err()
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read line %d: %w", n+1, err)
		}
	}
	if len(cur.lines) > 0 && !flush() {
		return ctx.Err()
	}
	return nil
}

// readLine reads one line (without its newline). A line longer than
// MaxLine is consumed and reported as tooLong. size counts the bytes read,
// newline included.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, size int, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		size += len(chunk)
		if !tooLong {
			if len(buf)+len(chunk) > MaxLine+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(buf) > 0 && buf[len(buf)-1] == '\n' {
			buf = buf[:len(buf)-1]
		}
		return buf, tooLong, size, err
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
