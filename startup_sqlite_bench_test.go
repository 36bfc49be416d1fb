package jwtrevoke_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
)

// BenchmarkStartLoad1e6SQLite is BenchmarkStartLoad1e6 on the embedded
// default store: a SQLite file holding 1e6 unexpired revocations (nine in
// ten of sessions, one in ten of tokens), read back page by page by New.
func BenchmarkStartLoad1e6SQLite(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "start.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	const layout = "2006-01-02 15:04:05.000000"
	created := time.Now().UTC().Format(layout)
	expires := time.Now().Add(time.Hour).UTC().Format(layout)
	// 1e6 rows from a recursive counter, ids from randomblob: in one
	// statement, far faster than a million calls of RevokeSession.
	q := fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x + 1 < %d)
INSERT INTO jwtrevoke_revocation (session_id, jti, user_id, not_before, expires_at, reason, created_at)
SELECT CASE WHEN x %% 10 = 0 THEN '' ELSE lower(hex(randomblob(16))) END,
       CASE WHEN x %% 10 = 0 THEN lower(hex(randomblob(16))) ELSE '' END,
       1, NULL, '%s', 'logout', '%s' FROM c`, n, expires, created)
	if _, err := st.W.ExecContext(ctx, q); err != nil {
		b.Fatal(err)
	}
	benchNew(b, st, n)
}
