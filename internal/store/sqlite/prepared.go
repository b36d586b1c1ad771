package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// userByIDSQL reads one user; the hottest read (every GET /auth/me) and
// part of every rotation.
const userByIDSQL = `SELECT ` + userCols + ` FROM users WHERE tenant_id = ? AND id = ?`

// readStmt returns query prepared on the reader pool, preparing it the
// first time: the hot reads skip SQLite's parser. database/sql prepares
// the statement on each reader connection as it first uses it there.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.readStmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.reader.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.readStmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// closeReadStmts closes the prepared reads (at Close).
func (s *Store) closeReadStmts() error {
	var errs []error
	s.readStmts.Range(func(k, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		s.readStmts.Delete(k)
		return true
	})
	return errors.Join(errs...)
}
