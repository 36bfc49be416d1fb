package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openGroupDB opens a SQLite file as store/sqlite does (one writer
// connection, WAL, synchronous=FULL) with two tables: t (k unique) and c,
// whose p must name a row of t, checked at COMMIT.
func openGroupDB(t *testing.T) *sql.DB {
	t.Helper()
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "g.db")+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, stmt := range []string{
		`CREATE TABLE t (k text NOT NULL PRIMARY KEY, caller integer NOT NULL)`,
		`CREATE TABLE c (p text NOT NULL REFERENCES t (k) DEFERRABLE INITIALLY DEFERRED)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func isUnique(err error) bool {
	var se *sqlitedrv.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func insert(ctx context.Context, tx *sql.Tx, k string, caller int) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO t (k, caller) VALUES (?, ?)`, k, caller)
	return err
}

// keys returns the rows of t but the holders'.
func keys(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT k, caller FROM t WHERE k NOT LIKE 'holder-%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var (
			k string
			c int
		)
		if err := rows.Scan(&k, &c); err != nil {
			t.Fatal(err)
		}
		m[k] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

var holds atomic.Int64

// holdCommitter starts a call that blocks the committer until release is
// closed, so that the calls made meanwhile queue and run as one batch.
func holdCommitter(t *testing.T, g *groupCommit) (release func(), wait func()) {
	t.Helper()
	held, rel := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- g.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
			close(held)
			<-rel
			return insert(ctx, tx, fmt.Sprintf("holder-%d", holds.Add(1)), -1)
		})
	}()
	<-held
	var once sync.Once
	return func() { once.Do(func() { close(rel) }) }, func() {
		if err := <-done; err != nil {
			t.Errorf("the holding call: %v", err)
		}
	}
}

// waitQueued waits until n calls are queued.
func waitQueued(t *testing.T, g *groupCommit, n int) {
	t.Helper()
	for {
		g.mu.Lock()
		q := len(g.queue)
		g.mu.Unlock()
		if q >= n {
			return
		}
		select {
		case <-t.Context().Done():
			t.Fatal("calls never queued")
		case <-time.After(time.Millisecond):
		}
	}
}

// TestGroupCommitMixed: many concurrent callers, some of which fail on a
// unique key after writing a row of their own; the failures undo exactly
// their own writes and report their own errors, the others all commit.
func TestGroupCommitMixed(t *testing.T) {
	db := openGroupDB(t)
	g := newGroupCommit(db)
	const n = 200
	errs := callers(t, g, n, func(ctx context.Context, tx *sql.Tx, i int) error {
		if err := insert(ctx, tx, fmt.Sprintf("own-%d", i), i); err != nil {
			return err
		}
		// Callers i and i+1 (i even) both want pair-i/2: one of them,
		// whichever runs first, fails.
		return insert(ctx, tx, fmt.Sprintf("pair-%d", i/2), i)
	})()
	got := keys(t, db)
	for i := range n {
		own, wrote := got[fmt.Sprintf("own-%d", i)]
		pair := got[fmt.Sprintf("pair-%d", i/2)]
		switch {
		case errs[i] == nil:
			if !wrote || own != i || pair != i {
				t.Errorf("caller %d succeeded but its rows are %v/%d, pair by %d", i, wrote, own, pair)
			}
		case isUnique(errs[i]):
			if wrote {
				t.Errorf("caller %d failed (%v) but its first row was kept", i, errs[i])
			}
			if pair == i {
				t.Errorf("caller %d failed but pair-%d is its", i, i/2)
			}
		default:
			t.Errorf("caller %d: unexpected error %v", i, errs[i])
		}
	}
	for p := range n / 2 {
		a, b := errs[2*p] == nil, errs[2*p+1] == nil
		if a == b {
			t.Errorf("pair %d: callers %d and %d succeeded: %v, %v; want exactly one", p, 2*p, 2*p+1, a, b)
		}
	}
	if len(got) != n/2*2 {
		t.Errorf("%d rows, want %d", len(got), n)
	}
}

// TestGroupCommitSeesBatch: a caller sees what earlier callers of its
// batch wrote, as a serial order would, and gets its answer only once the
// batch has committed.
func TestGroupCommitSeesBatch(t *testing.T) {
	db := openGroupDB(t)
	g := newGroupCommit(db)
	release, wait := holdCommitter(t, g)
	first := make(chan error, 1)
	go func() {
		first <- g.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error { return insert(ctx, tx, "x", 1) })
	}()
	waitQueued(t, g, 1)
	second := make(chan error, 1)
	go func() {
		second <- g.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
			var c int
			if err := tx.QueryRowContext(ctx, `SELECT caller FROM t WHERE k = 'x'`).Scan(&c); err != nil {
				return err
			}
			return insert(ctx, tx, "x-seen", c)
		})
	}()
	waitQueued(t, g, 2)
	release()
	wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatalf("the second caller did not see the first's row: %v", err)
	}
	if got := keys(t, db); got["x-seen"] != 1 {
		t.Fatalf("rows %v", got)
	}
}

// TestGroupCommitCommitFails: when the COMMIT fails (here a deferred
// foreign key one caller broke), every caller of the batch gets an error
// and nothing of any of them is kept.
func TestGroupCommitCommitFails(t *testing.T) {
	db := openGroupDB(t)
	g := newGroupCommit(db)
	release, wait := holdCommitter(t, g)
	const n = 8
	done := callers(t, g, n, func(ctx context.Context, tx *sql.Tx, i int) error {
		if i == n/2 {
			_, err := tx.ExecContext(ctx, `INSERT INTO c (p) VALUES ('nothing')`)
			return err
		}
		return insert(ctx, tx, fmt.Sprintf("k%d", i), i)
	})
	waitQueued(t, g, n)
	release()
	wait()
	errs := done()
	for i, err := range errs {
		if err == nil {
			t.Errorf("caller %d succeeded in a batch whose COMMIT failed", i)
		}
	}
	if got := keys(t, db); len(got) != 0 {
		t.Errorf("rows after the failed batch: %v, want none", got)
	}
	// The next batch works.
	if err := g.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error { return insert(ctx, tx, "after", 0) }); err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommitCancel: a caller whose context ends while it is queued
// returns at once with the context's error, and its work never runs; a
// caller whose context ends after it was taken gets the real outcome.
func TestGroupCommitCancel(t *testing.T) {
	db := openGroupDB(t)
	g := newGroupCommit(db)
	release, wait := holdCommitter(t, g)
	defer release()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	ran := make(chan struct{}, 1)
	go func() {
		done <- g.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			ran <- struct{}{}
			return insert(ctx, tx, "cancelled", 0)
		})
	}()
	waitQueued(t, g, 1)
	other := make(chan error, 1)
	go func() {
		other <- g.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error { return insert(ctx, tx, "other", 1) })
	}()
	waitQueued(t, g, 2)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled queued caller: %v, want context.Canceled", err)
	}
	release()
	wait()
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Fatal("the work of a caller that withdrew ran")
	default:
	}
	if got := keys(t, db); len(got) != 1 || got["other"] != 1 {
		t.Fatalf("rows %v, want only other's", got)
	}

	// Taken into a batch, then cancelled (while its batch is held): its
	// work is in the commit, and it is told so.
	release2, wait2 := holdCommitter(t, g)
	ctx2, cancel2 := context.WithCancel(t.Context())
	taken := make(chan error, 1)
	go func() {
		taken <- g.do(ctx2, func(ctx context.Context, tx *sql.Tx) error {
			cancel2() // the caller gives up while its work runs
			return insert(ctx, tx, "taken", 2)
		})
	}()
	waitQueued(t, g, 1)
	release2()
	wait2()
	err := <-taken
	_, kept := keys(t, db)["taken"]
	if (err == nil) != kept {
		t.Fatalf("caller cancelled in its batch got %v, row kept: %v", err, kept)
	}
}

// TestGroupCommitPanic: a panic in one caller's work is raised in that
// caller's goroutine; the rest of its batch commits.
func TestGroupCommitPanic(t *testing.T) {
	db := openGroupDB(t)
	g := newGroupCommit(db)
	release, wait := holdCommitter(t, g)
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_ = g.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
			if err := insert(ctx, tx, "panicker", 0); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	waitQueued(t, g, 1)
	other := make(chan error, 1)
	go func() {
		other <- g.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error { return insert(ctx, tx, "other", 1) })
	}()
	waitQueued(t, g, 2)
	release()
	wait()
	if p := <-panicked; p != "boom" {
		t.Fatalf("recovered %v, want boom", p)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	if got := keys(t, db); len(got) != 1 || got["other"] != 1 {
		t.Fatalf("rows %v, want only other's (the panicking caller's rolled back)", got)
	}
}

// TestGroupCommitClosed: calls on a closed database fail.
func TestGroupCommitClosed(t *testing.T) {
	db := openGroupDB(t)
	g := newGroupCommit(db)
	db.Close()
	if err := g.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error { return insert(ctx, tx, "x", 0) }); err == nil {
		t.Fatal("a call on a closed database succeeded")
	}
}

// callers runs n concurrent callers of g, caller i running f(ctx, tx, i),
// and returns a function that waits for them all and gives their errors.
func callers(t *testing.T, g *groupCommit, n int, f func(ctx context.Context, tx *sql.Tx, i int) error) func() []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = g.do(t.Context(), func(ctx context.Context, tx *sql.Tx) error { return f(ctx, tx, i) })
		})
	}
	return func() []error {
		wg.Wait()
		return errs
	}
}
