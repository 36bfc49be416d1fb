package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

var (
	_ jwtrevoke.RevocationPager  = (*Store)(nil)
	_ jwtrevoke.RevocationRanger = Ranged{}
)

// Ranged is a Store that is a jwtrevoke.RevocationRanger: a store whose
// load of many revocations is faster with several ranges read at once
// embeds it instead of *Store. SQLite (the reading is the driver's, in
// this process, one core each), MySQL and PostgreSQL are. PostgreSQL was
// not while its rows came as text (pgx's QueryExecModeExec, see
// Dialect.PollArgs): its server processes, formatting the ranges at once
// on the same two cores, made the load of 1e6 revocations slower (3.8 s
// instead of 2.3 to 3.0 s); in binary, ranges load them in 1.20 to
// 1.29 s against 1.66 to 2.06 s in pages as text (alternating restarts
// with the bench's memory scenario).
type Ranged struct{ *Store }

// RevocationsPage implements jwtrevoke.RevocationPager (expired rows are
// left out by the query, so a page holds limit unexpired ones; all of
// them when limit is 0).
func (s *Store) RevocationsPage(ctx context.Context, afterSeq int64, now time.Time, limit int) ([]jwtrevoke.Revocation, int64, error) {
	query := s.revocationsQuery("")
	if limit > 0 {
		query += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := s.pollQuery(ctx, s.q(query), afterSeq, s.t(now))
	if err != nil {
		return nil, 0, fmt.Errorf("list revocations: %w", err)
	}
	// Most calls are the 100 ms poll that finds nothing new: the slice
	// grows with what is read rather than being sized for a full page (a
	// 10,000-entry page allocated ten times a second was a quarter of the
	// server's garbage under load).
	out, err := scanRevocations(rows, 0)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if limit > 0 && len(out) == limit {
		next = out[len(out)-1].Seq
	}
	return out, next, nil
}

// LastRevocationSeq implements jwtrevoke.RevocationRanger.
func (s Ranged) LastRevocationSeq(ctx context.Context) (int64, error) {
	var last int64
	if err := s.R.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM jwtrevoke_revocation`).Scan(&last); err != nil {
		return 0, fmt.Errorf("last revocation: %w", err)
	}
	return last, nil
}

// RevocationsRange implements jwtrevoke.RevocationRanger: a range of the
// primary key, read on a connection of its own.
func (s Ranged) RevocationsRange(ctx context.Context, from, to int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	if to <= from {
		return nil, nil
	}
	// With the dialect's PollArgs, as the polls: on PostgreSQL, planned
	// with its arguments and read in binary (a range is read once, at
	// start).
	args := append(slices.Clip(s.d.PollArgs), from, s.t(now), to)
	rows, err := s.R.QueryContext(ctx, s.q(s.revocationsQuery(" AND seq <= ?")), args...)
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	return scanRevocations(rows, int(min(to-from, 1<<16)))
}

// revocationsQuery selects the unexpired revocations after a seq (the
// first argument; the second is the time), with cond (and its arguments)
// added, in seq order.
//
// The time is compared in a form no index serves (laterUnindexed), so
// that the only plan is a walk of the primary key from the seq: a poll
// then reads what is new and no more. With expires_at > ? as it is,
// PostgreSQL, whose statistics of a young table are missing or stale and
// whose prepared statement may get a generic plan, took the expires_at
// index instead: every unexpired revocation read and sorted at every
// poll, 2 ms each with 15,000 of them in the logout bench.
func (s *Store) revocationsQuery(cond string) string {
	return `SELECT seq, session_id, jti, user_id, ` + s.d.timeCol("not_before") + `, ` + s.d.timeCol("expires_at") + `, reason, ` + s.d.timeCol("created_at") + `
		FROM jwtrevoke_revocation WHERE seq > ? AND ` + s.d.laterUnindexed("expires_at") + cond + ` ORDER BY seq`
}

// scanRevocations reads the rows of revocationsQuery and closes them;
// capacity sizes the result for the rows expected.
func scanRevocations(rows *sql.Rows, capacity int) ([]jwtrevoke.Revocation, error) {
	defer rows.Close()
	var out []jwtrevoke.Revocation
	if capacity > 0 {
		out = make([]jwtrevoke.Revocation, 0, capacity)
	}
	for rows.Next() {
		var (
			r                           jwtrevoke.Revocation
			notBefore, expires, created scanTime
		)
		if err := rows.Scan(&r.Seq, &r.SessionID, &r.JTI, &r.UserID, &notBefore, &expires, &r.Reason, &created); err != nil {
			return nil, fmt.Errorf("list revocations: %w", err)
		}
		if notBefore.valid {
			r.NotBefore = notBefore.t
		}
		r.ExpiresAt, r.CreatedAt = expires.t, created.t
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	return out, nil
}
