package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// rotateSQL is the whole success path of a rotation in one statement. The
// conditional UPDATE (rot) is the serialisation point: of concurrent
// callers, in one process or many, exactly one finds the token still active;
// the others wait for its row lock, re-check the condition against the
// committed row and match nothing. The successor insert (ins) and the
// session's LastUsedAt (ses) run only when rot matched. ses re-checks that
// the session is unrevoked: should a revocation commit between rot and ses,
// the statement returns no row although rot matched, and the transaction is
// rolled back and run again (see rotateTx).
//
// $1 presented hash, $2 tenant, $3 now, $4 successor hash, $5 retry data,
// $6 successor created_at, $7 now+IdleTTL, $8 the rotating session kind,
// $9 the calling client (empty for Gatehouse's own paths), $10 the shared
// client: rot holds the condition of store.RotateRequest.MayRotate, so
// that a caller that may not rotate the session matches nothing.
var rotateSQL = `
WITH ` + rotateCTEs + `
SELECT ` + cols("ses", sessionColumns) + `, ins.generation, ins.created_at, ins.expires_at, ` + cols("u", userColumns) + `
  FROM ses, ins, users u
 WHERE u.tenant_id = ses.tenant_id AND u.id = ses.user_id`

// rotateCTEs are the data-modifying steps of a rotation.
var rotateCTEs = `rot AS (
	UPDATE refresh_tokens t
	   SET rotated_at = $3, successor_hash = $4, retry_data = $5
	  FROM sessions s, users u
	 WHERE t.token_hash = $1 AND t.tenant_id = $2
	   AND t.rotated_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $3
	   AND s.tenant_id = t.tenant_id AND s.id = t.session_id
	   AND s.kind = $8 AND s.revoked_at IS NULL AND s.expires_at > $3
	   AND (($10::text <> '' AND s.client_id = $10::text)
	        OR ($9::text = '' AND NOT s.client_bound)
	        OR ($9::text <> '' AND s.client_id = $9::text))
	   AND u.tenant_id = s.tenant_id AND u.id = s.user_id
	RETURNING t.session_id, t.generation, s.expires_at AS session_expires_at
), ins AS (
	INSERT INTO refresh_tokens (token_hash, tenant_id, session_id, generation, created_at, expires_at)
	SELECT $4, $2, rot.session_id, rot.generation + 1, $6, LEAST($7::timestamptz, rot.session_expires_at)
	  FROM rot
	RETURNING generation, created_at, expires_at
), ses AS (
	UPDATE sessions s SET last_used_at = $3
	  FROM rot
	 WHERE s.tenant_id = $2 AND s.id = rot.session_id AND s.revoked_at IS NULL
	RETURNING ` + cols("s", sessionColumns) + `
)`

// rotateOnceSQL is rotateSQL for a statement that commits on its own (no
// transaction around it): the statement must then never commit a rotated
// token whose session it could not touch. It answers the row of rotateSQL
// (out), no row when rot matched nothing, and fails with division_by_zero
// when rot matched but out is empty, which undoes the whole statement.
var rotateOnceSQL = `
WITH ` + rotateCTEs + `, out AS (
	SELECT ` + cols("ses", sessionColumns) + `, ins.generation AS new_generation, ins.created_at, ins.expires_at, ` + cols("u", userColumns) + `
	  FROM ses, ins, users u
	 WHERE u.tenant_id = ses.tenant_id AND u.id = ses.user_id
)
SELECT out.* FROM out
UNION ALL
SELECT out.* FROM rot LEFT JOIN out ON true
 WHERE CASE WHEN out.new_generation IS NULL THEN 1 / (rot.generation - rot.generation) ELSE 1 END = 0`

// codeDivisionByZero is the failure rotateOnceSQL raises on purpose.
const codeDivisionByZero = "22012"

// presentedSQL reads what became of a token that rotateSQL did not rotate,
// with its session and whether its successor is still active at $3.
var presentedSQL = `
SELECT t.rotated_at, t.revoked_at, t.retry_data, t.successor_hash,
       COALESCE(n.rotated_at IS NULL AND n.revoked_at IS NULL AND n.expires_at > $3, false),
       ` + cols("s", sessionColumns) + `
  FROM refresh_tokens t
  JOIN sessions s ON s.tenant_id = t.tenant_id AND s.id = t.session_id
  LEFT JOIN refresh_tokens n ON n.token_hash = t.successor_hash
 WHERE t.token_hash = $1 AND t.tenant_id = $2`

// RotateRefreshToken rotates the presented refresh token as store.RotateRequest
// describes. The success path is one statement that commits on its own
// (rotateOnceSQL): one round trip, atomic as every statement is. Only when
// it does not rotate (or loses a deadlock) does the rotation run again as
// a transaction (rotateTx), which reads the token again to tell a retry
// within the leeway from a reuse and from an invalid token.
func (s *Store) RotateRefreshToken(ctx context.Context, req store.RotateRequest) (store.RotateResult, error) {
	res, won, err := s.rotateOnce(ctx, req)
	switch {
	case won:
		return res, nil
	case err != nil && !retryable(err) && !isCode(err, codeDivisionByZero):
		return store.RotateResult{}, fmt.Errorf("rotate refresh token: %w", mapErr(err))
	}
	err = s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		res, err = rotateTx(ctx, tx, req)
		return err
	})
	if err != nil {
		return store.RotateResult{}, fmt.Errorf("rotate refresh token: %w", mapErr(err))
	}
	return res, nil
}

// rotateOnce runs rotateOnceSQL; won is false when it rotated nothing.
func (s *Store) rotateOnce(ctx context.Context, req store.RotateRequest) (store.RotateResult, bool, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.RotateResult{}, false, err
	}
	defer cancel()
	res, err := scanRotated(s.pool.QueryRow(ctx, rotateOnceSQL, rotateArgs(req)...), req)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.RotateResult{}, false, nil
	}
	if err != nil {
		return store.RotateResult{}, false, err
	}
	return res, true, nil
}

// rotateArgs are the parameters of rotateSQL and rotateOnceSQL.
func rotateArgs(req store.RotateRequest) []any {
	now := req.Now.UTC().Truncate(time.Microsecond)
	created := req.New.CreatedAt
	if created.IsZero() {
		created = now
	}
	return []any{req.PresentedHash, req.TenantID, ts(now), req.New.Hash,
		req.RetryData, ts(created), ts(now.Add(req.IdleTTL)), store.SessionUser, req.Client, req.SharedClient}
}

// scanRotated reads the row of a won rotation.
func scanRotated(row pgx.Row, req store.RotateRequest) (store.RotateResult, error) {
	res := store.RotateResult{Outcome: store.Rotated}
	sess, dest := sessionDest(&res.Session)
	dest = append(dest, &res.New.Generation, tsOut(&res.New.CreatedAt), tsOut(&res.New.ExpiresAt))
	usr, udest := userDest(&res.User)
	dest = append(dest, udest...)
	if err := row.Scan(dest...); err != nil {
		return store.RotateResult{}, err
	}
	if err := sess.finish(); err != nil {
		return store.RotateResult{}, err
	}
	if err := usr.finish(); err != nil {
		return store.RotateResult{}, err
	}
	res.New.Hash = req.New.Hash
	res.New.TenantID = req.TenantID
	res.New.SessionID = res.Session.ID
	return res, nil
}

func rotateTx(ctx context.Context, tx pgx.Tx, req store.RotateRequest) (store.RotateResult, error) {
	now := req.Now.UTC().Truncate(time.Microsecond)
	res, err := scanRotated(tx.QueryRow(ctx, rotateSQL, rotateArgs(req)...), req)
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, pgx.ErrNoRows):
		return notRotated(ctx, tx, req, now)
	default:
		return store.RotateResult{}, err
	}
}

// notRotated decides between Retried, Reused and Invalid for a token that
// the conditional UPDATE did not match.
func notRotated(ctx context.Context, tx pgx.Tx, req store.RotateRequest, now time.Time) (store.RotateResult, error) {
	invalid := store.RotateResult{Outcome: store.Invalid}
	var rotatedAt, revokedAt time.Time
	var retryData []byte
	var successor *string
	var successorActive bool
	var session store.Session
	sess, sessDest := sessionDest(&session)
	dest := append([]any{tsOut(&rotatedAt), tsOut(&revokedAt), &retryData, &successor, &successorActive}, sessDest...)
	err := tx.QueryRow(ctx, presentedSQL, req.PresentedHash, req.TenantID, ts(now)).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return invalid, nil
	}
	if err != nil {
		return store.RotateResult{}, fmt.Errorf("read presented token: %w", err)
	}
	if err := sess.finish(); err != nil {
		return store.RotateResult{}, err
	}
	if successor != nil && *successor == req.New.Hash && rotatedAt.Equal(now) {
		// This very statement rotated the token, but the session was
		// revoked before it could be touched: start again.
		return store.RotateResult{}, errRetry
	}
	if session.Live(now) && session.Kind == store.SessionUser && !req.MayRotate(session) {
		// Active or rotated: a refusal, never a reuse; nothing is written.
		return store.RotateResult{Outcome: store.WrongClient}, nil
	}
	if rotatedAt.IsZero() || !revokedAt.IsZero() || !session.Live(now) {
		// Never rotated (so expired, revoked, of an app session, or its
		// session is over), or its family is already revoked.
		return invalid, nil
	}
	if req.Leeway > 0 && retryData != nil && successorActive && now.Sub(rotatedAt) <= req.Leeway {
		user, err := getUser(ctx, tx, req.TenantID, session.UserID, false)
		if errors.Is(err, pgx.ErrNoRows) {
			return invalid, nil
		}
		if err != nil {
			return store.RotateResult{}, fmt.Errorf("read user: %w", err)
		}
		return store.RotateResult{Outcome: store.Retried, Session: session, User: user, RetryData: retryData}, nil
	}
	return reuse(ctx, tx, req, session, now)
}

// reuse revokes the family of a rotated token presented again and records
// the ReuseAudit event; both commit with the transaction, which is not an
// error path.
func reuse(ctx context.Context, tx pgx.Tx, req store.RotateRequest, session store.Session, now time.Time) (store.RotateResult, error) {
	revoked, err := revokeSessions(ctx, tx, req.TenantID, bySession(session.ID), now, reasonTokenReused)
	if err != nil {
		return store.RotateResult{}, err
	}
	if len(revoked) == 0 {
		// A concurrent caller revoked the family first and recorded it.
		return store.RotateResult{Outcome: store.Invalid}, nil
	}
	ev := req.ReuseAudit
	if ev.TenantID == "" {
		ev.TenantID = req.TenantID
	}
	ev.UserID, ev.SessionID = session.UserID, session.ID
	if ev.Time.IsZero() {
		ev.Time = now
	}
	if err := insertAudit(ctx, tx, ev); err != nil {
		return store.RotateResult{}, err
	}
	sess, children, _ := splitFamily(revoked, session.ID)
	return store.RotateResult{Outcome: store.Reused, Session: sess, Children: children}, nil
}
