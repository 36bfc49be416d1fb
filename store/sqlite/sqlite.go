package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/sqlstore"
)

var _ jwtrevoke.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// dialect is SQLite's: Django's text timestamps, ON CONFLICT DO NOTHING.
var dialect = &sqlstore.Dialect{
	Name:         "sqlite",
	InsertIgnore: sqlstore.OnConflictDoNothing,
	EmailEquals:  "lower(email) = lower(?)",
	Time:         sqlstore.TextTime,
	TextTimes:    true,
	// One writer at a time: concurrent write transactions share one
	// commit (one fsync of the WAL, synchronous=FULL) instead of each
	// waiting for the others' fsyncs.
	GroupCommit:     true,
	UpdateReturning: true,
	IsUnique: func(err error) bool {
		var se *sqlitedrv.Error
		if errors.As(err, &se) {
			c := se.Code()
			return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		}
		return false
	},
}

// Store is a SQLite database file. Writes go through one connection
// (SQLite has one writer at a time; queueing in Go avoids "database is
// locked"), where concurrent write transactions are committed in groups,
// one fsync for each group, and which polls for the lock when another
// process holds it (see writeConn); reads go through a small pool that WAL
// lets run beside it.
type Store struct {
	sqlstore.Ranged
}

// A restart reads its revocations in several ranges at once (see
// sqlstore.Ranged).
var _ jwtrevoke.RevocationRanger = (*Store)(nil)

// Open opens (creating if needed) the database file at path and pings it.
// Call Migrate before first use.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := func(pragmas ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"}, pragmas...) {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode()
	}
	// The write connection waits for the lock itself (see writeConn);
	// readers keep SQLite's busy handler, for the rare waits of a read
	// (a WAL being recovered).
	wc, err := newWriteConnector(dsn())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w := sql.OpenDB(wc)
	w.SetMaxOpenConns(1)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("busy_timeout(10000)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	return &Store{sqlstore.Ranged{Store: sqlstore.New(dialect, w, r)}}, nil
}

// Migrate applies the embedded migrations not applied yet.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return s.Store.Migrate(ctx, sub, migrationsTable)
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS "jwtrevoke_schema_migrations" ("version" integer NOT NULL PRIMARY KEY, "name" text NOT NULL, "applied_at" datetime NOT NULL)`
