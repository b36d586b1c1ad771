package userfile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestReadBatches_LineNumbersAndLongLines(t *testing.T) {
	long := `{"username":"` + strings.Repeat("x", MaxLine) + `"}`
	in := "{\"username\":\"a\"}\n\n  \r\n" + long + "\n{\"username\":\"b\"}\r\n{\"username\":\"c\"}" // no final newline
	out := make(chan batch, 10)
	if err := readBatches(context.Background(), strings.NewReader(in), out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var lines []core.ImportLine
	var bytes int64
	for b := range out {
		lines = append(lines, b.lines...)
		bytes = b.bytes
	}
	if bytes != int64(len(in)) {
		t.Errorf("bytes read %d, want %d", bytes, len(in))
	}
	want := []struct {
		line int
		user string
		err  string
	}{{1, "a", ""}, {4, "", "longer than"}, {5, "b", ""}, {6, "c", ""}}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for i, w := range want {
		l := lines[i]
		if l.Line != w.line || l.User.Username != w.user || (w.err == "") != (l.Err == nil) ||
			(l.Err != nil && !strings.Contains(l.Err.Error(), w.err)) {
			t.Errorf("line %d: %+v, want %+v", i, l, w)
		}
	}
}

func TestReadBatches_BatchesOfBatchSize(t *testing.T) {
	var b strings.Builder
	for i := range BatchSize*2 + 3 {
		fmt.Fprintf(&b, "{\"username\":\"u%d\"}\n", i)
	}
	out := make(chan batch, 10)
	if err := readBatches(context.Background(), strings.NewReader(b.String()), out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var sizes []int
	for bt := range out {
		sizes = append(sizes, len(bt.lines))
	}
	if fmt.Sprint(sizes) != fmt.Sprint([]int{BatchSize, BatchSize, 3}) {
		t.Fatalf("batch sizes %v", sizes)
	}
}

func TestReadLine_ExactlyMaxLine(t *testing.T) {
	line := strings.Repeat("y", MaxLine)
	br := bufio.NewReaderSize(strings.NewReader(line+"\nnext"), 4096)
	got, tooLong, size, err := readLine(br)
	if err != nil || tooLong || string(got) != line || size != MaxLine+1 {
		t.Fatalf("readLine = %d bytes, %v, %d, %v", len(got), tooLong, size, err)
	}
	got, _, _, err = readLine(br)
	if string(got) != "next" || err != io.EOF {
		t.Fatalf("second line %q, %v", got, err)
	}
}

// genLines writes n users with precomputed hashes of several kinds, like
// scripts/genusers.go.
func genLines(prefix string, n int) string {
	hashes := []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$2b$10$" + strings.Repeat("a", 53),
		"$pbkdf2-sha256$29000$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk",
		"$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
	}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"%s%d","username":"%s%d","email":"%s%d@example.com","display_name":"User %d","roles":["member"],"attributes":{"plan":"basic"},"created_at":"2024-05-01T12:00:00Z","password_hash":%q}`+"\n",
			prefix, i, prefix, i, prefix, i, i, hashes[i%len(hashes)])
	}
	return b.String()
}

// BenchmarkImport imports b.N users with precomputed hashes through the
// whole path (decoding, the core's validation, the store's batches) and
// reports users/s; the 1,000,000-user runs of docs/performance.md use the
// binary and scripts/genusers.go instead.
func BenchmarkImport(b *testing.B) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		b.Run(name, func(b *testing.B) {
			env := servertest.New(b, servertest.Options{Postgres: pg, RealClock: true})
			data := genLines("bench", b.N)
			im := &Importer{Service: env.Server.Service, Tenant: core.DefaultTenant, Source: "bench"}
			b.ResetTimer()
			sum, err := im.Run(context.Background(), strings.NewReader(data))
			b.StopTimer()
			if err != nil || sum.Imported != b.N {
				b.Fatalf("import: %+v, %v", sum, err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}

// An import of the generated lines, run twice, is idempotent through the
// Importer itself (the CLI tests cover the binary).
func TestImporter_RunTwice(t *testing.T) {
	env := servertest.New(t, servertest.Options{})
	data := genLines("twice", 2500)
	var failed []core.ImportResult
	im := &Importer{Service: env.Server.Service, Tenant: core.DefaultTenant, Source: "test",
		OnResult: func(r core.ImportResult) {
			if r.Err != nil {
				failed = append(failed, r)
			}
		}}
	sum, err := im.Run(context.Background(), strings.NewReader(data))
	if err != nil || sum != (core.ImportSummary{Imported: 2500}) || len(failed) != 0 {
		t.Fatalf("first run: %+v %v %+v", sum, err, failed)
	}
	var progress []Progress
	im.OnProgress = func(p Progress) { progress = append(progress, p) }
	sum, err = im.Run(context.Background(), strings.NewReader(data))
	if err != nil || sum != (core.ImportSummary{Skipped: 2500}) {
		t.Fatalf("second run: %+v %v", sum, err)
	}
	if len(progress) != 3 || progress[2].Lines != 2500 || progress[2].Bytes != int64(len(data)) {
		t.Fatalf("progress reports %+v", progress)
	}
}
