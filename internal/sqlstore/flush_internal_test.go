package sqlstore

import (
	"database/sql"
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
)

// TestFlushPaceRows: a flush given no batch sizes SQLite's transactions by
// time alone, up to flushMaxKeys, starting small; the other databases get
// DefaultFlushBatch rows a transaction. A batch given bounds both.
func TestFlushPaceRows(t *testing.T) {
	db := openGroupDB(t)
	db.SetMaxOpenConns(3) // a paced flush takes two of the read pool's
	db.SetMaxIdleConns(3)
	for _, c := range []struct {
		dialect         string
		batch           int
		wantMax, wantAt int
	}{
		{"sqlite", 0, flushMaxKeys, flushFirstRows},
		{"sqlite", 500, 500, flushFirstRows},
		{"sqlite", 50, 50, 50},
		{"sqlite", 1e6, flushMaxKeys, flushFirstRows},
		{"postgres", 0, jwtrevoke.DefaultFlushBatch, jwtrevoke.DefaultFlushBatch},
		{"postgres", 3, 3, 3},
		{"mysql", 1e6, flushMaxKeys, flushMaxKeys},
	} {
		s := &Store{d: &Dialect{Name: c.dialect}, W: db, R: db}
		p, err := s.newFlushPace(t.Context(), c.batch)
		if err != nil {
			t.Fatal(err)
		}
		if p.max != c.wantMax || p.rows != c.wantAt {
			t.Errorf("%s, batch %d: at most %d rows a transaction, %d in the first; want %d, %d", c.dialect, c.batch, p.max, p.rows, c.wantMax, c.wantAt)
		}
		if err := p.close(); err != nil {
			t.Fatal(err)
		}
	}
	// The paced flush's connection (synchronous=NORMAL) went with it: every
	// connection of the pool syncs its commits.
	var conns []*sql.Conn
	for range 3 {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var sync int
		if err := c.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
			t.Errorf("a pooled connection after the flushes: synchronous %d (%v), want 2 (FULL)", sync, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	// The pace grows toward flushHold, never past the bound.
	p := &flushPace{paced: true, max: flushMaxKeys, rows: 4000}
	p.resize(true, flushHold/4)
	if p.rows != 8000 {
		t.Errorf("after a quarter of flushHold with 4000 rows: %d rows next, want 8000 (at most twice)", p.rows)
	}
	p.resize(true, flushHold/4)
	if p.rows != flushMaxKeys {
		t.Errorf("then: %d rows next, want %d", p.rows, flushMaxKeys)
	}
}
