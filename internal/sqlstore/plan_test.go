package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestPollPlans: on PostgreSQL, the polls read what is new and no more,
// whatever plan the tables' statistics lead to. The tables hold 20,000
// of each row and have never been analyzed, as in the first minute of a
// deployment (and in every bench): the polls' plans, custom and generic,
// must walk the primary keys from the id given, never scan or hash a
// whole table, nor start from the expiry index.
func TestPollPlans(t *testing.T) {
	ctx := t.Context()
	st, u := migratedPostgres(t, "plans@example.com")
	conn, err := st.W.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 20000
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO token_blacklist_outstandingtoken (token, created_at, expires_at, user_id, jti)
			SELECT 't', now(), now() + interval '1 day', %d, md5(i::text) FROM generate_series(1, %d) i`, u.ID, n),
		`INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id) SELECT now(), id FROM token_blacklist_outstandingtoken`,
		`INSERT INTO jwtrevoke_rotation (old_jti, next_jti, next_token, access_token, rotated_at, expires_at)
			SELECT jti, jti || 'n', 't', 'a', now(), now() + interval '1 day' FROM token_blacklist_outstandingtoken`,
		fmt.Sprintf(`INSERT INTO jwtrevoke_revocation (session_id, jti, user_id, expires_at, reason, created_at)
			SELECT md5(i::text), '', %d, now() + interval '1 day', 'logout', now() FROM generate_series(1, %d) i`, u.ID, n),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	revocations, feed := st.PollQueries()
	for _, q := range []string{
		"PREPARE rev(bigint, timestamptz) AS " + revocations,
		"PREPARE feed(bigint, timestamptz, bigint) AS " + feed,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	explain := func(q string) string {
		rows, err := conn.QueryContext(ctx, "EXPLAIN "+q)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", q, err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(plan, "\n")
	}
	after := fmt.Sprint(n - 5) // the ids and seqs of this fresh schema start at 1
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = "+mode); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			call      string
			forbidden []string
		}{
			{"rev(" + after + ", now())", []string{"Seq Scan", "jwtrevoke_revocation_expires"}},
			{"feed(" + after + ", now(), 10000)", []string{"Seq Scan", "Hash", "jwtrevoke_outstanding_expires"}},
		} {
			plan := explain("EXECUTE " + c.call)
			for _, f := range c.forbidden {
				if strings.Contains(plan, f) {
					t.Errorf("%s, %s: the plan has %q:\n%s", c.call, mode, f, plan)
				}
			}
		}
	}
}
