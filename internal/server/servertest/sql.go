package servertest

import (
	"database/sql"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// SQL opens the server's database directly, for tests that set up a state
// no API can make (rows as an older release left them) or check what was
// stored. The connection is closed when the test ends.
func (e *Env) SQL() *sql.DB {
	e.T.Helper()
	driver, dsn := "pgx", e.DB
	if path, ok := strings.CutPrefix(e.DB, "sqlite:"); ok {
		driver, dsn = "sqlite", path
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		e.T.Fatalf("open database: %v", err)
	}
	e.T.Cleanup(func() { _ = db.Close() })
	return db
}

// Exec runs statements on the server's database and fails the test on error.
func (e *Env) Exec(query string) {
	e.T.Helper()
	if _, err := e.SQL().Exec(query); err != nil {
		e.T.Fatalf("exec %q: %v", query, err)
	}
}

// Count runs a SELECT count(*) query on the server's database.
func (e *Env) Count(query string) int {
	e.T.Helper()
	var n int
	if err := e.SQL().QueryRow(query).Scan(&n); err != nil {
		e.T.Fatalf("query %q: %v", query, err)
	}
	return n
}
