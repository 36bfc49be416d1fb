package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// flushChild is a table whose rows reference a flushTable's rows and go
// with them: key is its column holding the parent's key (unique, indexed).
type flushChild struct {
	table, key string
	count      *int64
}

// flushRanges is flushTable on SQLite (paced): each batch is a range of
// keys, found and deleted inside its write transaction. A read picks the
// batch, the first pace.rows expired rows after the previous batch's last
// key, and yields its last key; the DELETE then removes the expired rows
// of that key range, which are exactly those rows since the transaction
// holds the write lock: nothing can change in between. The statements are
// small and the same for every batch (no list of thousands of keys to
// parse), and the read brings into the page cache the pages the DELETE
// needs next. child, when set, has its rows referencing the deleted rows
// deleted first, in the same transaction.
//
// The expiry is compared in a form no index matches (atOrBeforeUnindexed),
// so that each statement walks the primary key from the batch's first key:
// the first batch, which has no lower bound, was otherwise planned on the
// expiry's index, reading every expired row of the table (and sorting
// them, for a table whose key is not the rowid) to keep a hundred, while
// holding the lock: 180-350 ms on 1e6 expired tokens, which a login
// waited out.
//
// Each transaction commits what it deleted: a flush interrupted between
// two loses nothing, and the next one starts again from the first key.
func (s *Store) flushRanges(ctx context.Context, pace *flushPace, t flushTable, ts any, count *int64, child *flushChild) error {
	var after any // the last key of the previous batch; nil before the first
	first, later := s.rangeStatements(t, child, false), s.rangeStatements(t, child, true)
	for {
		var (
			n, nChild int64
			found     int64
			last      any
			locked    time.Time
		)
		q := first
		if after != nil {
			q = later
		}
		err := pace.tx(ctx, func(tx *sql.Tx) error {
			n, nChild, found, last, locked = 0, 0, 0, nil, time.Now()
			// after, when set, follows ts in pick and last in the deletes
			pickArgs, args := []any{ts}, []any{nil}
			if after != nil {
				pickArgs, args = append(pickArgs, after), append(args, after)
			}
			if err := tx.QueryRowContext(ctx, q.pick, append(pickArgs, pace.rows)...).Scan(&found, &last); err != nil {
				return err
			}
			if found == 0 {
				return nil
			}
			args[0] = last
			args = append(args, ts)
			if child != nil {
				r, err := tx.ExecContext(ctx, q.deleteChild, args...)
				if err != nil {
					return err
				}
				if nChild, err = r.RowsAffected(); err != nil {
					return err
				}
			}
			r, err := tx.ExecContext(ctx, q.delete, args...)
			if err != nil {
				return err
			}
			n, err = r.RowsAffected()
			return err
		})
		if err != nil {
			return err
		}
		released := time.Now()
		if found == 0 {
			return nil
		}
		*count += n
		if child != nil {
			*child.count += nChild
		}
		pace.progress()
		full := found == int64(pace.rows)
		pace.resize(full, released.Sub(locked))
		if err := pace.pause(ctx, released); err != nil {
			return err
		}
		if !full {
			return nil
		}
		after = last
	}
}

// rangeStatements are the statements of one of flushRanges' batches of
// t: pick, with arguments (ts[, after], rows), counts the batch's rows and
// gives its last key; delete (and deleteChild, of child's rows, when child
// is set), with arguments (last[, after], ts), deletes them. bounded: the
// batch follows an earlier one, whose last key is after.
type rangeStatements struct{ pick, deleteChild, delete string }

func (s *Store) rangeStatements(t flushTable, child *flushChild, bounded bool) rangeStatements {
	expired := s.d.atOrBeforeUnindexed(t.expires)
	keys, from := t.key+` <= ?`, ""
	if bounded {
		keys, from = keys+` AND `+t.key+` > ?`, ` AND `+t.key+` > ?`
	}
	q := rangeStatements{
		pick: `SELECT count(*), max(k) FROM (SELECT ` + t.key + ` AS k FROM ` + t.table + ` WHERE ` + expired + from +
			` ORDER BY ` + t.key + ` LIMIT ?) batch`,
		delete: `DELETE FROM ` + t.table + ` WHERE ` + keys + ` AND ` + expired,
	}
	if child != nil {
		q.deleteChild = `DELETE FROM ` + child.table + ` WHERE ` + child.key + ` IN (SELECT ` + t.key + ` FROM ` + t.table +
			` WHERE ` + keys + ` AND ` + expired + `)`
	}
	return q
}

// flushCheckpointer checkpoints the WAL while a SQLite flush runs, on a
// read connection of its own, beside the flush's transactions rather than
// between them: the pages the flush wrote are copied into the database on
// another CPU while it deletes the next batch, and a server's commits find
// little left for their own automatic checkpoints, which they run before
// answering.
type flushCheckpointer struct {
	conn *sql.Conn
	mu   sync.Mutex // held while checkpointing
	kick chan struct{}
	done chan struct{}
	quit context.CancelFunc
}

func newFlushCheckpointer(ctx context.Context, r *sql.DB) (*flushCheckpointer, error) {
	conn, err := r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	ctx, quit := context.WithCancel(context.WithoutCancel(ctx))
	c := &flushCheckpointer{conn: conn, kick: make(chan struct{}, 1), done: make(chan struct{}), quit: quit}
	go c.run(ctx)
	return c, nil
}

func (c *flushCheckpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		c.mu.Lock()
		_ = c.checkpoint(ctx) // a failure shows again in the next complete
		c.mu.Unlock()
	}
}

// checkpoint copies what it can of the WAL into the database.
func (c *flushCheckpointer) checkpoint(ctx context.Context) error {
	return passiveCheckpoint(ctx, c.conn)
}

// passiveCheckpoint copies what it can of the WAL into the database on
// db's connection, never waiting for other connections (PASSIVE).
func passiveCheckpoint(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) error {
	var busy, log, done int64
	return db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
}

// poke starts a checkpoint, unless one is running or about to.
func (c *flushCheckpointer) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// complete returns once everything the WAL holds has been copied (unless
// a reader still needs part of it): the next writer then starts the WAL
// over.
func (c *flushCheckpointer) complete(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checkpoint(ctx)
}

// stop ends the background checkpoints and gives the connection back.
func (c *flushCheckpointer) stop() {
	c.quit()
	<-c.done
	_ = c.conn.Close()
}
