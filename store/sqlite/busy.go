package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Waiting for the write lock.
//
// SQLite's own busy handler (the one busy_timeout installs) sleeps 1, 2,
// 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms between its tries: a
// writer that has waited a while sleeps on for up to 100 ms after the lock
// was released, and another process that writes in bursts (flushexpiredtokens)
// must leave the lock free that long between its transactions to let it
// in. The write connection polls instead: it tries every writePoll until
// writeTimeout, so it takes the lock within about a millisecond of its
// release, and a flush needs only short pauses between its transactions.
const (
	writePoll    = time.Millisecond
	writeTimeout = 10 * time.Second
)

// writeConnector opens the write connection: the driver's, without a busy
// handler, wrapped in writeConn, which waits for the lock itself.
type writeConnector struct {
	drv driver.Driver
	dsn string
}

// newWriteConnector returns the connector of the write pool for dsn, which
// must not set busy_timeout.
func newWriteConnector(dsn string) (*writeConnector, error) {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, err
	}
	drv := db.Driver() // the registered driver, with its hooks
	if err := db.Close(); err != nil {
		return nil, err
	}
	return &writeConnector{drv: drv, dsn: dsn}, nil
}

func (c *writeConnector) Driver() driver.Driver { return c.drv }

func (c *writeConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := dc.(writeInner)
	if !ok {
		dc.Close()
		return nil, errors.New("sqlite driver connection lacks the context interfaces")
	}
	return &writeConn{inner: inner}, nil
}

// writeInner is what database/sql uses of the driver's connection.
type writeInner interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// writeConn is a write connection. BEGIN (IMMEDIATE) and statements run
// outside a transaction are tried again every writePoll while they find
// the database locked (SQLITE_BUSY: nothing was done). Statements inside
// a transaction are not: BEGIN IMMEDIATE took the write lock, so they do
// not wait for it.
type writeConn struct {
	inner writeInner
	inTx  bool
}

var (
	_ driver.ConnBeginTx        = (*writeConn)(nil)
	_ driver.ConnPrepareContext = (*writeConn)(nil)
	_ driver.ExecerContext      = (*writeConn)(nil)
	_ driver.QueryerContext     = (*writeConn)(nil)
	_ driver.Pinger             = (*writeConn)(nil)
	_ driver.SessionResetter    = (*writeConn)(nil)
	_ driver.Validator          = (*writeConn)(nil)
)

// isBusy reports SQLITE_BUSY (and its extended codes).
func isBusy(err error) bool {
	var se *sqlitedrv.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// untilFree runs try until it does not find the database locked, every
// writePoll, for at most writeTimeout or until ctx is done.
func untilFree[T any](ctx context.Context, try func() (T, error)) (T, error) {
	v, err := try()
	if !isBusy(err) {
		return v, err
	}
	deadline := time.Now().Add(writeTimeout)
	t := time.NewTimer(writePoll)
	defer t.Stop()
	for isBusy(err) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-t.C:
		}
		v, err = try()
		t.Reset(writePoll)
	}
	return v, err
}

func (c *writeConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := untilFree(ctx, func() (driver.Tx, error) { return c.inner.BeginTx(ctx, opts) })
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return &writeTx{Tx: tx, c: c}, nil
}

func (c *writeConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *writeConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.inTx {
		return c.inner.ExecContext(ctx, query, args)
	}
	return untilFree(ctx, func() (driver.Result, error) { return c.inner.ExecContext(ctx, query, args) })
}

func (c *writeConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.inTx {
		return c.inner.QueryContext(ctx, query, args)
	}
	return untilFree(ctx, func() (driver.Rows, error) { return c.inner.QueryContext(ctx, query, args) })
}

func (c *writeConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

func (c *writeConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

func (c *writeConn) Close() error                           { return c.inner.Close() }
func (c *writeConn) Ping(ctx context.Context) error         { return c.inner.Ping(ctx) }
func (c *writeConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }
func (c *writeConn) IsValid() bool                          { return c.inner.IsValid() }

// writeTx marks the end of the connection's transaction.
type writeTx struct {
	driver.Tx
	c *writeConn
}

func (t *writeTx) Commit() error {
	t.c.inTx = false
	return t.Tx.Commit()
}

func (t *writeTx) Rollback() error {
	t.c.inTx = false
	return t.Tx.Rollback()
}
