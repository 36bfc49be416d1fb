package sqlstore_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestFlushRangePlans: on SQLite, every statement of a paced flush batch
// walks the table's key from where the batch starts, the first batch
// (which has no lower bound) as the later ones, before and after ANALYZE:
// none reads through an expiry index, nor sorts. The first batch was
// planned on the expiry index, reading all the expired rows while holding
// the write lock.
func TestFlushRangePlans(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := storetest.MustUser(t, st, "plans@example.com")
	const n = 5000
	expired := "'2020-01-02 00:00:00'"
	nums := fmt.Sprintf(`WITH RECURSIVE nums(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM nums WHERE i < %d)`, n)
	for _, q := range []string{
		nums + fmt.Sprintf(` INSERT INTO token_blacklist_outstandingtoken (token, created_at, expires_at, user_id, jti)
			SELECT 't', %[1]s, %[1]s, %[2]d, 'jti-' || i FROM nums`, expired, u.ID),
		`INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id) SELECT created_at, id FROM token_blacklist_outstandingtoken WHERE id % 10 = 0`,
		nums + fmt.Sprintf(` INSERT INTO jwtrevoke_session (id, user_id, created_at, expires_at, revoked_at, ip, user_agent)
			SELECT 's-' || i, %[2]d, %[1]s, %[1]s, NULL, '', '' FROM nums`, expired, u.ID),
	} {
		if _, err := st.W.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ts := time.Now().UTC().Format("2006-01-02 15:04:05.000000")
	check := func(when string) {
		for name, stmts := range st.FlushRangeStatements() {
			for _, q := range stmts {
				args := []any{ts, "k", 100}[:strings.Count(q, "?")]
				rows, err := st.W.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
				if err != nil {
					t.Fatalf("%s: EXPLAIN %s: %v", name, q, err)
				}
				var plan []string
				for rows.Next() {
					var id, parent, unused int
					var detail string
					if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, detail)
				}
				rows.Close()
				joined := strings.Join(plan, "; ")
				if strings.Contains(joined, "_expires") || strings.Contains(joined, "_keep") || strings.Contains(joined, "TEMP B-TREE") {
					t.Errorf("%s, %s: %s\nplan: %s", when, name, q, joined)
				}
			}
		}
	}
	check("unanalyzed")
	if _, err := st.W.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	check("analyzed")
}
