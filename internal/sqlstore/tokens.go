package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/storekit"
)

// OutstandingTokens implements jwtrevoke.Store. Each order is one query
// that reads an index in order and stops after Offset+Limit rows:
// created_at (jwtrevoke_outstanding_created), expires_at
// (jwtrevoke_outstanding_expires) and, for SortBlacklisted, the
// blacklisted rows by blacklisted_at (jwtrevoke_blacklisted_at) joined to
// their tokens, followed by the tokens not blacklisted by id (see
// storekit.Concat). A token is looked up among the blacklisted rows by
// their unique token_id, as an inner join (blacklisted) or an anti join
// (not blacklisted: LEFT JOIN on token_id, IS NULL, which PostgreSQL and
// MySQL both run as one), and blacklisted_at is read the same way, for
// the rows returned only. (With a filter on blacklisted tokens and
// another order, MySQL may read the blacklisted rows' token_id index
// whole: the blacklisted rows are then the smaller table.)
func (s *Store) OutstandingTokens(ctx context.Context, q jwtrevoke.TokenQuery) ([]jwtrevoke.OutstandingToken, error) {
	now, err := storekit.Start(q)
	if err != nil {
		return nil, err
	}
	var (
		where []string
		args  []any
		join  string // how blacklisted rows are joined: "", blacklistedJoin or notBlacklistedJoin
	)
	if q.UserID != nil {
		where = append(where, "o.user_id = ?")
		args = append(args, *q.UserID)
	}
	if q.JTI != "" {
		where = append(where, "o.jti = ?")
		args = append(args, q.JTI)
	}
	switch q.Status {
	case jwtrevoke.TokenLive:
		where, join = append(where, "o.expires_at > ?"), notBlacklistedJoin
		args = append(args, s.t(now))
	case jwtrevoke.TokenExpired:
		where = append(where, "o.expires_at <= ?")
		args = append(args, s.t(now))
	case jwtrevoke.TokenBlacklisted:
		join = blacklistedJoin
	}
	if q.BlacklistedOnly {
		if join == notBlacklistedJoin {
			return nil, nil // live and blacklisted
		}
		join = blacklistedJoin
	}
	dir := " DESC"
	if q.Ascending {
		dir = " ASC"
	}
	// part lists the tokens, joined to their blacklisted rows by join,
	// that match where, in order.
	part := func(join, order string) storekit.Part[jwtrevoke.OutstandingToken] {
		w := where[:len(where):len(where)]
		if join == notBlacklistedJoin {
			w = append(w, "x.token_id IS NULL")
		}
		cond := ` FROM token_blacklist_outstandingtoken o` + join + whereClause(w)
		return storekit.Part[jwtrevoke.OutstandingToken]{
			List: func(limit, offset int) ([]jwtrevoke.OutstandingToken, error) {
				return s.listTokens(ctx, cond, args, order, limit, offset)
			},
			Count: func() (int, error) { return s.countTokens(ctx, cond, args) },
		}
	}
	var first, second storekit.Part[jwtrevoke.OutstandingToken]
	hasFirst, hasSecond := storekit.Parts(q)
	switch q.Sort {
	case jwtrevoke.SortExpires:
		first = part(join, "o.expires_at"+dir+", o.id"+dir)
	case jwtrevoke.SortBlacklisted:
		if hasFirst {
			first = part(blacklistedJoin, "x.blacklisted_at"+dir+", x.token_id"+dir) // x.token_id is o.id, in the index
		}
		if hasSecond {
			second = part(notBlacklistedJoin, "o.id"+dir)
		}
	default:
		first = part(join, "o.created_at"+dir+s.d.nullsFirst(q.Ascending)+", o.id"+dir)
	}
	out, err := storekit.Concat(q.Limit, q.Offset, first, second)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// The joins of a token o to its blacklisted row x.
const (
	blacklistedJoin    = ` JOIN token_blacklist_blacklistedtoken x ON x.token_id = o.id`
	notBlacklistedJoin = ` LEFT JOIN token_blacklist_blacklistedtoken x ON x.token_id = o.id`
)

func whereClause(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// listTokens reads the tokens of cond (FROM ... WHERE ...), in order, from
// offset, at most limit (0: all).
func (s *Store) listTokens(ctx context.Context, cond string, args []any, order string, limit, offset int) ([]jwtrevoke.OutstandingToken, error) {
	n := int64(limit)
	if n <= 0 {
		n = 1 << 62
	}
	query := `SELECT o.id, o.user_id, o.jti, o.token, o.created_at, o.expires_at,
		(SELECT bl.blacklisted_at FROM token_blacklist_blacklistedtoken bl WHERE bl.token_id = o.id)` +
		cond + " ORDER BY " + order + " LIMIT ? OFFSET ?"
	rows, err := s.R.QueryContext(ctx, s.q(query), append(args[:len(args):len(args)], n, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jwtrevoke.OutstandingToken
	for rows.Next() {
		var (
			t                         jwtrevoke.OutstandingToken
			user                      sql.NullInt64
			created, expires, blacked scanTime
		)
		if err := rows.Scan(&t.ID, &user, &t.JTI, &t.Token, &created, &expires, &blacked); err != nil {
			return nil, err
		}
		if user.Valid {
			t.UserID = &user.Int64
		}
		t.CreatedAt, t.ExpiresAt, t.BlacklistedAt = created.ptr(), expires.t, blacked.ptr()
		out = append(out, t)
	}
	return out, rows.Err()
}

// countTokens counts the tokens of cond (FROM ... WHERE ...).
func (s *Store) countTokens(ctx context.Context, cond string, args []any) (int, error) {
	var n int
	err := s.R.QueryRowContext(ctx, s.q(`SELECT count(*)`+cond), args...).Scan(&n)
	return n, err
}

// Stats implements jwtrevoke.Store with one statement, so that every count
// comes from one snapshot. It reads each table once (the tokens' through
// the smallest index that has expires_at, the blacklisted rows with their
// tokens by primary key), counting rows, not loading them: the cost is
// that of a scan of each table's index, which a dashboard can afford.
// Rotations, audit entries and attempt counters are counted by a range of
// their expiry index.
func (s *Store) Stats(ctx context.Context, now time.Time) (jwtrevoke.Stats, error) {
	ts := s.t(now)
	var (
		st                                     jwtrevoke.Stats
		unexpired, blacklisted, blacklistedExp int64
	)
	err := s.R.QueryRowContext(ctx, s.q(`SELECT tok.unexpired, tok.expired, bl.total, bl.expired, se.live, se.expired,
		rv.total, rv.hour, rv.day, rv.expired, ro.n, au.n, att.n
	FROM (SELECT count(CASE WHEN expires_at > ? THEN 1 END) AS unexpired, count(CASE WHEN expires_at <= ? THEN 1 END) AS expired
			FROM token_blacklist_outstandingtoken) tok,
		(SELECT count(*) AS total, count(CASE WHEN o.expires_at <= ? THEN 1 END) AS expired
			FROM token_blacklist_blacklistedtoken b JOIN token_blacklist_outstandingtoken o ON o.id = b.token_id) bl,
		(SELECT count(CASE WHEN expires_at > ? AND revoked_at IS NULL THEN 1 END) AS live, count(CASE WHEN expires_at <= ? THEN 1 END) AS expired
			FROM jwtrevoke_session) se,
		(SELECT count(*) AS total, count(CASE WHEN created_at > ? AND created_at <= ? THEN 1 END) AS hour,
			count(CASE WHEN created_at > ? AND created_at <= ? THEN 1 END) AS day, count(CASE WHEN expires_at <= ? THEN 1 END) AS expired
			FROM jwtrevoke_revocation) rv,
		(SELECT count(*) AS n FROM jwtrevoke_rotation WHERE expires_at <= ?) ro,
		(SELECT count(*) AS n FROM jwtrevoke_audit WHERE keep_until <= ?) au,
		(SELECT count(*) AS n FROM jwtrevoke_attempt WHERE expires_at <= ?) att`),
		ts, ts, ts, ts, ts, s.t(now.Add(-time.Hour)), ts, s.t(now.Add(-24*time.Hour)), ts, ts, ts, ts, ts).
		Scan(&unexpired, &st.ExpiredTokens, &blacklisted, &blacklistedExp, &st.LiveSessions, &st.Expired.Sessions,
			&st.Revocations, &st.RevokedLastHour, &st.RevokedLastDay, &st.Expired.Revocations, &st.Expired.Rotations,
			&st.Expired.Audit, &st.Expired.Attempts)
	if err != nil {
		return jwtrevoke.Stats{}, fmt.Errorf("stats: %w", err)
	}
	st.BlacklistedTokens = blacklisted
	st.LiveTokens = unexpired - (blacklisted - blacklistedExp)
	st.Expired.Outstanding, st.Expired.Blacklisted = st.ExpiredTokens, blacklistedExp
	return st, nil
}
