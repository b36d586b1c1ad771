package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
)

// maxChainUsers bounds the users a chain run creates; clients beyond it
// open further sessions of the same users.
const maxChainUsers = 16

// chainState is one client of a chain run: its user and the newest
// refresh token of its own session.
type chainState struct {
	acct    account
	refresh string
	buf     bytes.Buffer
}

// prepareChain signs each client in once; its phase has each client refresh its own chain,
// always presenting the newest token. A failed refresh breaks the chain
// (the token may have rotated without an answer): the client signs in
// again, outside the measured latency, and the run counts a relogin.
func (r *run) prepareChain(ctx context.Context) (*phase, error) {
	users, err := r.fx.createUsers(ctx, min(r.cfg.Concurrency, maxChainUsers))
	if err != nil {
		return nil, err
	}
	r.cfg.Progress("signing in %d clients", r.cfg.Concurrency)
	workers := newWorkers(r.cfg.Concurrency, func(i int) any { return &chainState{acct: users[i%len(users)]} })
	err = parallel(ctx, len(workers), 8, func(ctx context.Context, i int) error {
		st := workers[i].state.(*chainState)
		p, _, err := r.c.prepLogin(ctx, st.acct, &st.buf)
		st.refresh = p.refresh
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sign in the clients: %w", err)
	}
	var relogins atomic.Int64
	p := &phase{cfg: r.cfg, workers: workers, finish: func(res *Result) { res.Relogins = relogins.Load() }}
	p.do = func(ctx context.Context, w *worker) sample {
		st := w.state.(*chainState)
		p, status, err := r.c.refresh(ctx, st.refresh, &st.buf)
		if err == nil {
			st.refresh = p.refresh
			return sample{}
		}
		key := statusKey(status, err)
		if status == 200 {
			key = "200 malformed"
		}
		relogins.Add(1)
		r.relogin(ctx, st)
		return sample{errKey: key}
	}
	return p, nil
}

// relogin starts a new chain for st, waiting while the server is busy. On
// failure st keeps its dead token: the next refresh fails and tries again.
func (r *run) relogin(ctx context.Context, st *chainState) {
	if p, _, err := r.c.prepLogin(ctx, st.acct, &st.buf); err == nil {
		st.refresh = p.refresh
	}
}
