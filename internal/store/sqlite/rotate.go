package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Statements of a won rotation. The batched path (groupcommit.go) keeps
// them prepared on the writer connection; the single-transaction path runs
// the very same text.
const (
	// markRotatedSQL is the conditional UPDATE: only an active token of a
	// live user session matches, so of concurrent callers exactly one sees
	// a row. ?1 now, ?2 successor hash, ?3 retry data, ?4 presented hash,
	// ?5 tenant, ?6 the rotating session kind, ?7 the calling client (empty
	// for Gatehouse's own paths), ?8 the shared client: the condition of
	// store.RotateRequest.MayRotate, checked in the same statement.
	markRotatedSQL = `UPDATE refresh_tokens
		SET rotated_at = ?1, successor_hash = ?2, retry_data = ?3
		WHERE token_hash = ?4 AND tenant_id = ?5
		  AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > ?1
		  AND EXISTS (SELECT 1 FROM sessions s
		              WHERE s.tenant_id = refresh_tokens.tenant_id AND s.id = refresh_tokens.session_id
		                AND s.revoked_at IS NULL AND s.expires_at > ?1 AND s.kind = ?6
		                AND ((?8 <> '' AND s.client_id = ?8)
		                     OR (?7 = '' AND s.client_bound = 0)
		                     OR (?7 <> '' AND s.client_id = ?7)))
		RETURNING session_id, generation`
	touchSessionSQL = `UPDATE sessions SET last_used_at = ?
		WHERE tenant_id = ? AND id = ? RETURNING ` + sessionCols
	insertSuccessorSQL = `INSERT INTO refresh_tokens
		(token_hash, tenant_id, session_id, generation, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`
)

// RotateRefreshToken implements store.Store. A rotation that wins (the
// common case) is committed by the group committer together with the
// rotations queued alongside it, each in its own savepoint, and answered
// only after the commit. Anything else is first decided on a reader: an
// unknown, expired or revoked token and a retry within the leeway need no
// write, so a flood of bad tokens never queues for the write lock. Only a
// reuse, which revokes its family, takes a write transaction of its own
// and decides again there. Reuse commits its revocation: it is an answer,
// not an error.
func (s *Store) RotateRefreshToken(ctx context.Context, req store.RotateRequest) (store.RotateResult, error) {
	if err := s.usable(); err != nil {
		return store.RotateResult{}, wrap("rotate refresh token", err)
	}
	res, won, err := s.commits.rotate(ctx, req)
	if err != nil {
		return store.RotateResult{}, wrap("rotate refresh token", err)
	}
	if won {
		return res, nil
	}
	res, reuse, err := s.decideOnReader(ctx, req)
	if err != nil {
		return store.RotateResult{}, wrap("rotate refresh token", err)
	}
	if reuse == nil {
		return res, nil
	}
	s.reuseWrites.Add(1)
	err = s.write(ctx, func(c *sql.Conn) error {
		var err error
		res, err = rotate(ctx, c, req)
		return err
	})
	if err != nil {
		return store.RotateResult{}, wrap("rotate refresh token", err)
	}
	return res, nil
}

// decideOnReader decides a token the group commit did not rotate from one
// read snapshot. reuse is the session to revoke when the answer is a
// reuse, to be decided again in a write transaction; otherwise res is the
// answer. States only move forward (active, then rotated, revoked or
// expired), so an answer read here stays true.
func (s *Store) decideOnReader(ctx context.Context, req store.RotateRequest) (res store.RotateResult, reuse *store.Session, err error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.RotateResult{}, nil, fmt.Errorf("begin read: %w", mapErr(err))
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to keep
	return decide(ctx, tx, req)
}

// rotate is the full rotation in the transaction of c. The winning path is
// three statements: the conditional UPDATE of the presented token, the
// session's last-use UPDATE and the successor INSERT, plus the user read.
func rotate(ctx context.Context, c *sql.Conn, req store.RotateRequest) (store.RotateResult, error) {
	sessionID, generation, ok, err := markRotated(ctx, c, req)
	if err != nil {
		return store.RotateResult{}, err
	}
	if !ok {
		return notRotated(ctx, c, req)
	}
	return rotated(ctx, c, req, sessionID, generation)
}

// markRotated runs the conditional UPDATE; ok is false when the token was
// not an active token of a live user session (nothing was written).
func markRotated(ctx context.Context, q querier, req store.RotateRequest) (sessionID string, generation int, ok bool, err error) {
	err = q.QueryRowContext(ctx, markRotatedSQL,
		req.Now.UnixMicro(), req.New.Hash, req.RetryData, req.PresentedHash, req.TenantID, store.SessionUser,
		req.Client, req.SharedClient).
		Scan(&sessionID, &generation)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", 0, false, nil
	case err != nil:
		return "", 0, false, fmt.Errorf("mark token rotated: %w", err)
	}
	return sessionID, generation, true, nil
}

// rotated finishes a won rotation: touch the session, insert the successor.
func rotated(ctx context.Context, q querier, req store.RotateRequest, sessionID string, generation int) (store.RotateResult, error) {
	sess, err := scanSession(q.QueryRowContext(ctx, touchSessionSQL, req.Now.UnixMicro(), req.TenantID, sessionID))
	if err != nil {
		return store.RotateResult{}, fmt.Errorf("touch session: %w", err)
	}
	nt := req.New
	nt.TenantID, nt.SessionID, nt.Generation = req.TenantID, sessionID, generation+1
	nt.ExpiresAt = req.Now.Add(req.IdleTTL)
	if sess.ExpiresAt.Before(nt.ExpiresAt) {
		nt.ExpiresAt = sess.ExpiresAt
	}
	nt.ExpiresAt = toMicro(nt.ExpiresAt)
	if nt.CreatedAt.IsZero() {
		nt.CreatedAt = req.Now
	}
	nt.CreatedAt = toMicro(nt.CreatedAt)
	if _, err := q.ExecContext(ctx, insertSuccessorSQL, nt.Hash, nt.TenantID, nt.SessionID, nt.Generation,
		micros(nt.CreatedAt), nt.ExpiresAt.UnixMicro()); err != nil {
		return store.RotateResult{}, fmt.Errorf("insert successor: %w", err)
	}
	u, err := scanUser(q.QueryRowContext(ctx, userByIDSQL, req.TenantID, sess.UserID))
	if err != nil {
		return store.RotateResult{}, fmt.Errorf("session user: %w", err)
	}
	return store.RotateResult{Outcome: store.Rotated, Session: sess, User: u, New: nt}, nil
}

// presented is what notRotated needs to know about a token that the
// conditional update did not match.
type presented struct {
	sessionID       string
	rotatedAt       time.Time
	hasRetry        bool
	retryData       []byte
	successorActive bool
}

// notRotated decides between Retried, Reused and Invalid inside the write
// transaction of c, and carries out a reuse.
func notRotated(ctx context.Context, c *sql.Conn, req store.RotateRequest) (store.RotateResult, error) {
	res, reuse, err := decide(ctx, c, req)
	if err != nil || reuse == nil {
		return res, err
	}
	return reused(ctx, c, req, *reuse)
}

// decide classifies a token that the conditional update did not match,
// reading only: the answer (Invalid or Retried), or the session whose
// family a reuse must revoke.
func decide(ctx context.Context, q querier, req store.RotateRequest) (store.RotateResult, *store.Session, error) {
	var p presented
	err := q.QueryRowContext(ctx, `SELECT t.session_id, t.rotated_at, t.retry_data IS NOT NULL, t.retry_data,
		       COALESCE(n.rotated_at IS NULL AND n.revoked_at IS NULL AND n.expires_at > ?1, 0)
		FROM refresh_tokens t LEFT JOIN refresh_tokens n ON n.token_hash = t.successor_hash
		WHERE t.token_hash = ?2 AND t.tenant_id = ?3`,
		req.Now.UnixMicro(), req.PresentedHash, req.TenantID).
		Scan(&p.sessionID, timeCol{&p.rotatedAt}, &p.hasRetry, &p.retryData, &p.successorActive)
	invalid := store.RotateResult{Outcome: store.Invalid}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return invalid, nil, nil
	case err != nil:
		return store.RotateResult{}, nil, fmt.Errorf("look up presented token: %w", err)
	}
	sess, err := getSession(ctx, q, req.TenantID, p.sessionID)
	if errors.Is(err, sql.ErrNoRows) {
		return invalid, nil, nil
	}
	if err != nil {
		return store.RotateResult{}, nil, fmt.Errorf("load session: %w", err)
	}
	// A revoked or expired family has nothing left to protect or retry.
	if !sess.Live(req.Now) || sess.Kind != store.SessionUser {
		return invalid, nil, nil
	}
	if !req.MayRotate(sess) { // active or rotated: a refusal, never a reuse
		return store.RotateResult{Outcome: store.WrongClient}, nil, nil
	}
	if p.rotatedAt.IsZero() { // active but expired or revoked
		return invalid, nil, nil
	}
	if req.Leeway > 0 && p.hasRetry && p.successorActive && req.Now.Sub(p.rotatedAt) <= req.Leeway {
		u, err := getUser(ctx, q, req.TenantID, sess.UserID)
		if err != nil {
			return store.RotateResult{}, nil, fmt.Errorf("session user: %w", err)
		}
		return store.RotateResult{Outcome: store.Retried, Session: sess, User: u, RetryData: p.retryData}, nil, nil
	}
	return store.RotateResult{}, &sess, nil
}

// reused revokes the family of a replayed token and records the attack.
func reused(ctx context.Context, c *sql.Conn, req store.RotateRequest, sess store.Session) (store.RotateResult, error) {
	revokedSess, revoked, err := revokeSession(ctx, c, req.TenantID, sess.ID, req.Now, reasonReused)
	if err != nil {
		return store.RotateResult{}, fmt.Errorf("revoke reused family: %w", err)
	}
	if revoked {
		sess = revokedSess
	}
	children, err := revokeChildren(ctx, c, req.TenantID, []string{sess.ID}, req.Now, reasonReused)
	if err != nil {
		return store.RotateResult{}, fmt.Errorf("revoke children of reused family: %w", err)
	}
	e := req.ReuseAudit
	e.TenantID, e.UserID, e.SessionID = req.TenantID, sess.UserID, sess.ID
	if e.Time.IsZero() {
		e.Time = req.Now
	}
	if e.Type == "" {
		e.Type = reasonReused
	}
	if err := insertAudit(ctx, c, e); err != nil {
		return store.RotateResult{}, fmt.Errorf("audit reuse: %w", err)
	}
	u, err := getUser(ctx, c, req.TenantID, sess.UserID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.RotateResult{}, fmt.Errorf("session user: %w", err)
	}
	return store.RotateResult{Outcome: store.Reused, Session: sess, User: u, Children: children}, nil
}

// toMicro truncates t to the precision the database keeps, in UTC.
func toMicro(t time.Time) time.Time {
	return time.UnixMicro(t.UnixMicro()).UTC()
}
