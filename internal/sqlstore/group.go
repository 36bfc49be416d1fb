package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// groupCommit runs concurrent write transactions of a single-writer
// database (SQLite) together, so that they share one commit and its fsync
// instead of each paying a full one in turn.
//
// Callers queue; one committer goroutine (running only while the queue is
// not empty) begins a transaction, takes everything queued, at most
// maxBatch callers, and runs each caller's work inside a savepoint of its
// own: a caller whose work fails is rolled back to its savepoint, undoing
// its part only, and gets its own error. Then it commits once. Every
// caller, succeeded or failed, gets its result only after that COMMIT has
// returned: a failed caller's answer may rest on what an earlier caller of
// the batch wrote (Rotate's "already rotated", Blacklist's "already
// blacklisted"). If the COMMIT, or the batch's own statements, fail,
// every caller of the batch gets that error and nothing of theirs was
// written.
//
// A caller whose context ends while it is still queued withdraws and gets
// the context's error; once the committer has taken it into a batch, it
// waits for the batch's outcome (a few milliseconds), since its work may
// be in the commit. A caller whose context ended before its turn in the
// batch is skipped (nothing of it runs). Its work runs with a context
// that is no longer cancellable: a statement interrupted by cancellation
// makes SQLite roll back the whole transaction, the other callers' work
// included.
//
// The work must use only the transaction it is given (the batch holds the
// database's single write connection: waiting for another would never
// end), must close the rows it opens, and may run again (as with any
// transaction that is retried).
type groupCommit struct {
	db *sql.DB

	mu      sync.Mutex
	queue   []*groupCall
	running bool // a committer goroutine is running
}

// maxBatch bounds the callers committed together, which bounds how long
// the first of them waits for the last.
const maxBatch = 64

// savepoint is the name of each caller's savepoint in a batch: callers run
// one after another, so they can all use the same name.
const savepoint = "jwtrevoke_caller"

// groupCall is one caller's transaction.
type groupCall struct {
	ctx context.Context
	fn  func(context.Context, *sql.Tx) error
	// taken (guarded by groupCommit.mu) is set when the committer takes
	// the call into a batch; withdrawn when its caller gave up first.
	taken, withdrawn bool
	done             chan groupResult // buffered: the committer never waits
}

type groupResult struct {
	err      error
	panicked any // a panic of fn, raised again in the caller's goroutine
	hasPanic bool
}

func newGroupCommit(db *sql.DB) *groupCommit { return &groupCommit{db: db} }

// do runs fn in the next batch and returns its outcome once the batch has
// committed (or failed).
func (g *groupCommit) do(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &groupCall{ctx: ctx, fn: fn, done: make(chan groupResult, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if !g.running {
		g.running = true
		go g.commitLoop()
	}
	g.mu.Unlock()
	var res groupResult
	select {
	case res = <-c.done:
	case <-ctx.Done():
		g.mu.Lock()
		if !c.taken {
			c.withdrawn = true // the committer drops it
			g.mu.Unlock()
			return ctx.Err()
		}
		g.mu.Unlock()
		res = <-c.done // in a batch already: wait for its outcome
	}
	if res.hasPanic {
		panic(res.panicked)
	}
	return res.err
}

// commitLoop runs batches while callers are queued.
func (g *groupCommit) commitLoop() {
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.batch()
	}
}

// take removes up to maxBatch queued calls, dropping withdrawn ones, and
// marks them taken.
func (g *groupCommit) take() []*groupCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	var batch []*groupCall
	n := 0
	for _, c := range g.queue {
		n++
		if c.withdrawn {
			continue
		}
		c.taken = true
		batch = append(batch, c)
		if len(batch) == maxBatch {
			break
		}
	}
	rest := copy(g.queue, g.queue[n:])
	clear(g.queue[rest:])
	g.queue = g.queue[:rest]
	return batch
}

// batch begins a transaction, runs the queued calls in it and commits.
func (g *groupCommit) batch() {
	// The context of the batch's own statements: not any caller's, whose
	// end would roll back everyone's work.
	ctx := context.Background()
	// BEGIN first (it may wait for another process's write lock): the
	// callers queued meanwhile can still withdraw, and join this batch.
	tx, err := g.db.BeginTx(ctx, nil)
	batch := g.take()
	if err != nil {
		for _, c := range batch {
			c.done <- groupResult{err: err}
		}
		return
	}
	if len(batch) == 0 { // all withdrawn while BEGIN waited
		_ = tx.Rollback()
		return
	}
	results := make([]groupResult, len(batch))
	fail := func(err error) {
		_ = tx.Rollback()
		for _, c := range batch {
			c.done <- groupResult{err: err}
		}
	}
	exec := func(stmt string) error {
		_, err := tx.ExecContext(ctx, stmt)
		return err
	}
	for i, c := range batch {
		if err := c.ctx.Err(); err != nil {
			results[i].err = err // gave up before its turn: nothing of it runs
			continue
		}
		if err := exec("SAVEPOINT " + savepoint); err != nil {
			fail(fmt.Errorf("group commit: %w", err))
			return
		}
		results[i] = run(c, tx)
		if results[i].err != nil || results[i].hasPanic {
			if err := exec("ROLLBACK TO SAVEPOINT " + savepoint); err != nil {
				// The transaction itself is gone (SQLite rolls back the
				// whole transaction after an I/O error, a full disk...).
				fail(fmt.Errorf("group commit: roll back a failed caller (%v): %w", results[i].err, err))
				return
			}
		}
		if err := exec("RELEASE SAVEPOINT " + savepoint); err != nil {
			fail(fmt.Errorf("group commit: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("group commit: %w", err))
		return
	}
	for i, c := range batch {
		c.done <- results[i]
	}
}

// run runs c's work with a context that its caller can no longer cancel,
// catching a panic so that it is raised in the caller's goroutine.
func run(c *groupCall, tx *sql.Tx) (res groupResult) {
	defer func() {
		if p := recover(); p != nil {
			res = groupResult{panicked: p, hasPanic: true}
		}
	}()
	return groupResult{err: c.fn(context.WithoutCancel(c.ctx), tx)}
}
