package postgres

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Revocation reasons chosen by the store itself.
const (
	reasonUserDeleted   = "user_deleted"
	reasonTokenReused   = "refresh_token_reused"
	reasonClientDeleted = "client_deleted"
)

// Paging bounds of ListRevocations.
const (
	defaultRevocationPage = 1000
	maxRevocationPage     = 10000
)

// lockRevocations is the advisory lock key taken before revocation rows are
// inserted ("gh-revo" as bytes).
//
// A bigserial value is drawn when a row is inserted, not when its
// transaction commits, so two concurrent transactions could commit seq 8
// after seq 9 is already visible; a poller that remembers "highest seq seen
// = 9" would then never see 8. Holding this transaction-level lock from
// before the insert until commit serialises the inserting transactions, so
// they commit in seq order and every reader sees a gap-free prefix.
// Revocations are rare, so the lock costs nothing measurable.
const lockRevocations int64 = 0x67682d7265766f

// sessionFilter selects the sessions a revocation applies to: a condition
// on the sessions alias s whose parameters start at $3 ($1 is the tenant,
// $2 the time of revocation).
type sessionFilter struct {
	cond string
	args []any
}

// bySession selects one session, live or expired, and its children.
func bySession(id string) sessionFilter {
	return sessionFilter{cond: `(s.id = $3 OR (s.parent_id = $3 AND s.parent_id <> ''))`, args: []any{id}}
}

// byClient selects the client's sessions that have not expired, and their
// children.
func byClient(clientID string) sessionFilter {
	return sessionFilter{cond: `((s.client_id = $3 AND s.expires_at > $2) OR (s.parent_id <> '' AND s.parent_id IN
		(SELECT p.id FROM sessions p WHERE p.tenant_id = $1 AND p.client_id = $3)))`, args: []any{clientID}}
}

// byUser selects the user's sessions that have not expired, except one.
func byUser(userID, exceptSessionID string) sessionFilter {
	return sessionFilter{cond: `s.user_id = $3 AND s.id <> $4 AND s.expires_at > $2`,
		args: []any{userID, exceptSessionID}}
}

// revokeSessions revokes the unrevoked sessions matched by f and all their
// refresh tokens, appends one revocation record for each, and returns them
// as revoked, newest first.
//
// Rows are locked tokens first, then sessions: the order a rotation takes
// (its conditional UPDATE locks the token, then it touches the session), so
// that a revocation and a rotation of one session wait for each other
// instead of deadlocking. The tokens are revoked again after the sessions,
// which catches a successor that a rotation inserted in between.
func revokeSessions(ctx context.Context, tx pgx.Tx, tenantID string, f sessionFilter, now time.Time, reason string) ([]store.Session, error) {
	args := append([]any{tenantID, ts(now)}, f.args...)
	_, err := tx.Exec(ctx, `UPDATE refresh_tokens t SET revoked_at = $2 FROM sessions s
		WHERE s.tenant_id = $1 AND s.revoked_at IS NULL AND `+f.cond+`
		AND t.tenant_id = s.tenant_id AND t.session_id = s.id AND t.revoked_at IS NULL`, args...)
	if err != nil {
		return nil, fmt.Errorf("revoke tokens: %w", err)
	}
	reasonParam := "$" + strconv.Itoa(len(args)+1)
	rows, err := tx.Query(ctx, `UPDATE sessions s SET revoked_at = $2, reason = `+reasonParam+`
		WHERE s.tenant_id = $1 AND s.revoked_at IS NULL AND `+f.cond+`
		RETURNING `+cols("s", sessionColumns), append(args, reason)...)
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	revoked, err := collectSessions(rows)
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	if len(revoked) == 0 {
		return nil, nil
	}
	ids := make([]string, len(revoked))
	for i, s := range revoked {
		ids[i] = s.ID
	}
	_, err = tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2
		WHERE tenant_id = $1 AND session_id = ANY($3) AND revoked_at IS NULL`, tenantID, ts(now), ids)
	if err != nil {
		return nil, fmt.Errorf("revoke successor tokens: %w", err)
	}
	sort.Slice(revoked, func(i, j int) bool {
		a, b := revoked[i], revoked[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.After(b.CreatedAt)
		}
		return a.ID > b.ID
	})
	if err := appendRevocations(ctx, tx, revoked, now); err != nil {
		return nil, err
	}
	return revoked, nil
}

// appendRevocations inserts one revocation record per session, under
// lockRevocations (see there why).
func appendRevocations(ctx context.Context, tx pgx.Tx, sessions []store.Session, now time.Time) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockRevocations); err != nil {
		return fmt.Errorf("lock revocations: %w", err)
	}
	tenants := make([]string, len(sessions))
	ids := make([]string, len(sessions))
	exps := make([]pgtype.Timestamptz, len(sessions))
	ats := make([]pgtype.Timestamptz, len(sessions))
	for i, s := range sessions {
		tenants[i], ids[i], exps[i], ats[i] = s.TenantID, s.ID, ts(s.ExpiresAt), ts(now)
	}
	_, err := tx.Exec(ctx, `INSERT INTO revocations (tenant_id, session_id, exp, revoked_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])`,
		tenants, ids, exps, ats)
	if err != nil {
		return fmt.Errorf("append revocations: %w", err)
	}
	return nil
}

// ListRevocations returns revocation records with Seq > afterSeq in
// ascending Seq order, across all tenants, at most limit of them (default
// 1000, at most 10000).
func (s *Store) ListRevocations(ctx context.Context, afterSeq int64, limit int) ([]store.Revocation, error) {
	if limit <= 0 {
		limit = defaultRevocationPage
	}
	limit = min(limit, maxRevocationPage)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT seq, tenant_id, session_id, exp, revoked_at
		FROM revocations WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Revocation, error) {
		var rv store.Revocation
		err := r.Scan(&rv.Seq, &rv.TenantID, &rv.SessionID, tsOut(&rv.Exp), tsOut(&rv.RevokedAt))
		return rv, err
	})
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", mapErr(err))
	}
	return out, nil
}
