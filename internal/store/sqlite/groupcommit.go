package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// maxBatch bounds the rotations one transaction commits together.
const maxBatch = 64

// Savepoint statements that give each rotation of a batch its own
// all-or-nothing.
const (
	savepointSQL  = "SAVEPOINT rotation"
	releaseSQL    = "RELEASE rotation"
	rollbackToSQL = "ROLLBACK TO rotation"
)

// batchStatements are prepared once on the writer connection and reused by
// every batch.
var batchStatements = []string{
	savepointSQL, releaseSQL, rollbackToSQL,
	markRotatedSQL, touchSessionSQL, insertSuccessorSQL, userByIDSQL,
}

// committer is the group commit of refresh rotations: one goroutine takes
// the rotations waiting at that moment (at most maxBatch), runs each in
// its own savepoint of one write transaction, commits once, and only then
// answers each caller. A rotation that fails is rolled back to its
// savepoint without touching the others; if the transaction itself fails,
// every rotation of the batch fails and none is answered as done. A batch
// forms only while the previous one commits, so a lone caller waits for
// nobody.
//
// Only the winning path is batched: a token that the conditional update
// does not match is answered "not won" (nothing was written) and its
// caller decides between retry, reuse and invalid in a transaction of its
// own, after the batch committed.
type committer struct {
	db      *sql.DB
	jobs    chan *rotateJob // unbuffered: waiting senders are the queue
	quit    chan struct{}
	stopped chan struct{}
	// prepared holds batchStatements prepared on db; only the run
	// goroutine touches it.
	prepared map[string]*sql.Stmt
	// batches and batched count the committed batches and the rotations
	// they carried (tests and benchmarks read them).
	batches, batched atomic.Int64
}

// rotateJob is one caller's rotation. The committer sets ans, then closes
// done; it never waits for the caller.
type rotateJob struct {
	ctx  context.Context
	req  store.RotateRequest
	ans  rotateAnswer
	done chan struct{}
}

// answer hands a its answer.
func (j *rotateJob) answer(a rotateAnswer) {
	j.ans = a
	close(j.done)
}

// rotateAnswer is the committed outcome of a rotateJob.
type rotateAnswer struct {
	res store.RotateResult
	won bool
	err error
}

func newCommitter(db *sql.DB) *committer {
	g := &committer{db: db, jobs: make(chan *rotateJob), quit: make(chan struct{}), stopped: make(chan struct{})}
	go g.run()
	return g
}

// rotate queues req and waits for its batch to commit. won is false when
// the token was not rotated by the batch: the caller must run the full
// rotation itself.
func (g *committer) rotate(ctx context.Context, req store.RotateRequest) (res store.RotateResult, won bool, err error) {
	j := &rotateJob{ctx: ctx, req: req, done: make(chan struct{})}
	select {
	case g.jobs <- j:
	case <-g.quit:
		return store.RotateResult{}, false, fmt.Errorf("%w: database is closed", store.ErrUnavailable)
	case <-ctx.Done():
		return store.RotateResult{}, false, ctx.Err()
	}
	select {
	case <-j.done:
		return j.ans.res, j.ans.won, j.ans.err
	case <-ctx.Done():
		// The rotation may still commit; like an answer lost on the
		// network, the leeway (or reuse detection) covers it.
		return store.RotateResult{}, false, ctx.Err()
	}
}

// stop ends the committer after the batch in progress; later rotations
// fail with ErrUnavailable.
func (g *committer) stop() {
	close(g.quit)
	<-g.stopped
}

func (g *committer) run() {
	defer close(g.stopped)
	defer g.closeStatements()
	batch := make([]*rotateJob, 0, maxBatch)
	for {
		select {
		case j := <-g.jobs:
			batch = append(batch[:0], j)
		case <-g.quit:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case j := <-g.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		g.commit(batch)
		clear(batch) // drop the references to answered jobs
	}
}

// commit runs one batch and answers every job of it.
func (g *committer) commit(batch []*rotateJob) {
	live := make([]*rotateJob, 0, len(batch))
	for _, j := range batch {
		// A caller that gave up before its turn is not rotated.
		if err := j.ctx.Err(); err != nil {
			j.answer(rotateAnswer{err: err})
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	answers, err := g.runBatch(live)
	for i, j := range live {
		if err != nil {
			j.answer(rotateAnswer{err: err})
		} else {
			j.answer(answers[i])
		}
	}
}

// runBatch rotates every job in one transaction. The statements run
// without the callers' contexts: an interrupted statement would roll back
// the whole transaction, the other callers' rotations with it.
func (g *committer) runBatch(jobs []*rotateJob) ([]rotateAnswer, error) {
	ctx := context.Background()
	if err := g.prepare(ctx); err != nil {
		return nil, err
	}
	tx, err := g.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock of the writer)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", mapErr(err))
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	q := &preparedTx{tx: tx, stmts: make(map[string]*sql.Stmt, len(g.prepared))}
	for text, st := range g.prepared {
		q.stmts[text] = tx.StmtContext(ctx, st)
	}
	answers := make([]rotateAnswer, len(jobs))
	for i, j := range jobs {
		if answers[i], err = rotateInSavepoint(ctx, q, j.req); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", mapErr(err))
	}
	committed = true
	g.batches.Add(1)
	g.batched.Add(int64(len(jobs)))
	return answers, nil
}

// rotateInSavepoint runs the winning path of one rotation inside its own
// savepoint. The rotation's own failure is its answer; an error returned
// means the transaction can no longer be trusted (a savepoint could not be
// set, released or rolled back to) and the whole batch fails.
func rotateInSavepoint(ctx context.Context, q *preparedTx, req store.RotateRequest) (rotateAnswer, error) {
	if _, err := q.ExecContext(ctx, savepointSQL); err != nil {
		return rotateAnswer{}, fmt.Errorf("savepoint: %w", mapErr(err))
	}
	res, won, err := tryRotate(ctx, q, req)
	if err != nil {
		if _, rerr := q.ExecContext(ctx, rollbackToSQL); rerr != nil {
			return rotateAnswer{}, fmt.Errorf("rollback to savepoint: %w", mapErr(errors.Join(err, rerr)))
		}
	}
	if _, rerr := q.ExecContext(ctx, releaseSQL); rerr != nil {
		return rotateAnswer{}, fmt.Errorf("release savepoint: %w", mapErr(errors.Join(err, rerr)))
	}
	return rotateAnswer{res: res, won: won, err: err}, nil
}

// tryRotate is the winning path: won is false, with nothing written, when
// the conditional update matches nothing.
func tryRotate(ctx context.Context, q querier, req store.RotateRequest) (store.RotateResult, bool, error) {
	sessionID, generation, ok, err := markRotated(ctx, q, req)
	if err != nil || !ok {
		return store.RotateResult{}, false, err
	}
	res, err := rotated(ctx, q, req, sessionID, generation)
	if err != nil {
		return store.RotateResult{}, false, err
	}
	return res, true, nil
}

// prepare prepares batchStatements on the writer the first time (the
// tables exist only after Migrate) and keeps them: database/sql prepares
// them again by itself should the connection ever be replaced.
func (g *committer) prepare(ctx context.Context) error {
	if g.prepared != nil {
		return nil
	}
	prepared := make(map[string]*sql.Stmt, len(batchStatements))
	for _, text := range batchStatements {
		st, err := g.db.PrepareContext(ctx, text)
		if err != nil {
			for _, p := range prepared {
				_ = p.Close()
			}
			return fmt.Errorf("prepare rotation statements: %w", mapErr(err))
		}
		prepared[text] = st
	}
	g.prepared = prepared
	return nil
}

func (g *committer) closeStatements() {
	for _, st := range g.prepared {
		_ = st.Close()
	}
	g.prepared = nil
}

// preparedTx is a querier over a transaction that runs the statements it
// has prepared as such and any other text as it is.
type preparedTx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (p *preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := p.stmts[query]; ok {
		return st.ExecContext(ctx, args...)
	}
	return p.tx.ExecContext(ctx, query, args...)
}

func (p *preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := p.stmts[query]; ok {
		return st.QueryContext(ctx, args...)
	}
	return p.tx.QueryContext(ctx, query, args...)
}

func (p *preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := p.stmts[query]; ok {
		return st.QueryRowContext(ctx, args...)
	}
	return p.tx.QueryRowContext(ctx, query, args...)
}
