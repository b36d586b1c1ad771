// Package sqlite is the embedded SQLite implementation of store.Store.
//
// The database runs in WAL mode with one writer connection and a small pool
// of read-only connections. Every write transaction starts with BEGIN
// IMMEDIATE, so concurrent writers, also in other processes on the same
// file, queue on the busy timeout instead of deadlocking on a lock upgrade.
//
// Durability: with Synchronous "NORMAL" (the default) a committed
// transaction survives a crash of the process (kill -9) but the last
// transactions may be lost on power loss or an operating-system crash;
// "FULL" survives both at the cost of an fsync per commit.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// Registers the pure-Go "sqlite" database/sql driver.
	_ "modernc.org/sqlite"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Defaults of Options.
const (
	DefaultSynchronous = "NORMAL"
	DefaultBusyTimeout = 5 * time.Second
	readerConns        = 4
)

// Options tunes the SQLite database.
type Options struct {
	// Synchronous is the PRAGMA synchronous level: "NORMAL" (default) or "FULL".
	Synchronous string
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection or process before failing; default 5s.
	BusyTimeout time.Duration
}

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	writer  *sql.DB // exactly one connection: every write goes through it
	reader  *sql.DB // read-only connections
	commits *committer
	// checkpoints copies the WAL back in the background (checkpoint.go).
	checkpoints *checkpointer
	// readStmts are statements prepared on reader, by text (prepared.go).
	readStmts sync.Map
	closed    atomic.Bool
	// reuseWrites counts rotations decided in a write transaction of
	// their own, past the group commit and the reader (tests read it).
	reuseWrites atomic.Int64
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database file at path. It does not
// migrate: call Migrate before use.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	syncMode, busy, err := opts.normalise()
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if path == "" {
		return nil, errors.New("open sqlite: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: create directory: %w", err)
	}
	// Create the file ourselves so it is private to the owner; SQLite gives
	// its -wal and -shm files the same permissions.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open sqlite: create database file: %w", err)
	}

	// _txlock makes the transactions of database/sql (the group commit's)
	// start with BEGIN IMMEDIATE too.
	writer, err := sql.Open("sqlite", dsn(abs, busy, "journal_mode(WAL)", "synchronous("+syncMode+")",
		fmt.Sprintf("wal_autocheckpoint(%d)", writerAutoCheckpoint))+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// Connect the writer first: it switches the file to WAL before any
	// reader opens it.
	if err := writer.PingContext(ctx); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("open sqlite writer: %w", mapErr(err))
	}

	reader, err := sql.Open("sqlite", dsn(abs, busy, "query_only(1)"))
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("open sqlite reader: %w", err)
	}
	reader.SetMaxOpenConns(readerConns)
	reader.SetMaxIdleConns(readerConns)
	if err := reader.PingContext(ctx); err != nil {
		_ = reader.Close()
		_ = writer.Close()
		return nil, fmt.Errorf("open sqlite reader: %w", mapErr(err))
	}
	cp, err := startCheckpointer(abs, busy, syncMode)
	if err != nil {
		_ = reader.Close()
		_ = writer.Close()
		return nil, err
	}
	return &Store{writer: writer, reader: reader, commits: newCommitter(writer), checkpoints: cp}, nil
}

// normalise validates the options and fills in the defaults.
func (o Options) normalise() (syncMode string, busy time.Duration, err error) {
	switch strings.ToUpper(o.Synchronous) {
	case "":
		syncMode = DefaultSynchronous
	case "NORMAL", "FULL":
		syncMode = strings.ToUpper(o.Synchronous)
	default:
		return "", 0, fmt.Errorf("synchronous %q: want NORMAL or FULL", o.Synchronous)
	}
	busy = o.BusyTimeout
	switch {
	case busy == 0:
		busy = DefaultBusyTimeout
	case busy < 0:
		return "", 0, fmt.Errorf("busy timeout %s: must not be negative", busy)
	}
	return syncMode, busy, nil
}

// dsn builds a URI whose _pragma parameters the driver runs on every new
// connection of the pool.
func dsn(path string, busy time.Duration, pragmas ...string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Kind implements store.Store.
func (s *Store) Kind() string { return "sqlite" }

// Ping implements store.Store: both the writer and the readers must answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.usable(); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("ping writer: %w", mapErr(err))
	}
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping reader: %w", mapErr(err))
	}
	return nil
}

// Close implements store.Store. Closing twice is not an error.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.commits.stop()
	cerr := s.checkpoints.stop()
	serr := s.closeReadStmts()
	rerr := s.reader.Close()
	werr := s.writer.Close()
	if err := errors.Join(cerr, serr, rerr, werr); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

// usable reports ErrUnavailable once the store is closed.
func (s *Store) usable() error {
	if s.closed.Load() {
		return fmt.Errorf("%w: database is closed", store.ErrUnavailable)
	}
	return nil
}
