package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// recordStatement does what blacklistToken (when t is not nil) and record
// do in a transaction, in one statement of data-modifying CTEs, run on
// its own (autocommit: atomic and, committed with synchronous_commit on,
// durable when it returns): one round trip instead of six (BEGIN, the
// blacklist row, the session, the revocation, the audit row, COMMIT), on
// dialects with WritableCTE (PostgreSQL).
//
// With t, everything is conditional on t's blacklisted row having been
// inserted; ok is false when it was not, because t has no outstanding row
// (a token this store never issued, or flushed): nothing was written,
// and the caller falls back to the transaction, which creates the row. A
// token blacklisted already fails on the blacklisted row's unique key:
// ErrBlacklisted, and nothing was written.
//
// ok is also false, with nothing done, when two revocations name the
// same session (PostgreSQL cannot update a row twice in one statement).
// The revocations' Seqs are all taken by the one statement, in no
// particular order among them.
func (s *Store) recordStatement(ctx context.Context, t *jwtrevoke.OutstandingToken, now time.Time, revs []jwtrevoke.Revocation, callers int) (out []jwtrevoke.Revocation, ok bool, err error) {
	var (
		b     strings.Builder
		args  []any
		ctes  []string
		guard string // the condition every write waits for
		final []string
	)
	arg := func(v any, typ string) string {
		args = append(args, v)
		return "CAST(? AS " + typ + ")"
	}
	const (
		text = "text"
		num  = "bigint"
		ts   = "timestamp with time zone"
	)
	if t != nil {
		ctes = append(ctes, `bl AS (INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id)
			SELECT `+arg(s.t(now), ts)+`, id FROM token_blacklist_outstandingtoken WHERE jti = `+arg(t.JTI, text)+` RETURNING id)`)
		guard = " WHERE EXISTS (SELECT 1 FROM bl)"
		final = append(final, "(SELECT count(*) FROM bl)")
	}
	sessions := map[string]string{} // session id: its CTE
	out = make([]jwtrevoke.Revocation, len(revs))
	for i, r := range revs {
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		out[i] = r
		session := "" // the CTE of r's session
		if r.SessionID != "" {
			if _, dup := sessions[r.SessionID]; dup {
				return nil, false, nil
			}
			name := "s" + strconv.Itoa(i)
			sessions[r.SessionID] = name
			cond := ""
			if guard != "" {
				cond = " AND EXISTS (SELECT 1 FROM bl)"
			}
			// (arg is called in the order of the placeholders.)
			set := arg(s.t(now), ts)
			ctes = append(ctes, name+` AS (UPDATE jwtrevoke_session SET revoked_at = COALESCE(revoked_at, `+set+`) WHERE id = `+arg(r.SessionID, text)+cond+` RETURNING expires_at)`)
			session = name
		}
		var notBefore any
		if !r.NotBefore.IsZero() {
			notBefore = s.t(r.NotBefore)
		}
		cols := []string{arg(r.SessionID, text), arg(r.JTI, text), arg(r.UserID, num), arg(notBefore, ts), arg(s.t(r.ExpiresAt), ts)}
		if session != "" { // a session revocation lasts as long as the session
			cols[4] = "GREATEST(" + cols[4] + ", (SELECT expires_at FROM " + session + "))"
		}
		cols = append(cols, arg(r.Reason, text), arg(s.t(r.CreatedAt), ts))
		rev := "r" + strconv.Itoa(i)
		ctes = append(ctes, rev+` AS (INSERT INTO jwtrevoke_revocation (session_id, jti, user_id, not_before, expires_at, reason, created_at)
			SELECT `+strings.Join(cols, ", ")+guard+` RETURNING seq, expires_at)`)
		final = append(final, "(SELECT seq FROM "+rev+")", "(SELECT expires_at FROM "+rev+")")
		if i < callers && !r.AuditUntil.IsZero() {
			ctes = append(ctes, `a`+strconv.Itoa(i)+` AS (INSERT INTO jwtrevoke_audit (user_id, session_id, jti, reason, ip, user_agent, created_at, keep_until)
			SELECT `+strings.Join([]string{arg(r.UserID, num), arg(r.SessionID, text), arg(r.JTI, text), arg(r.Reason, text),
				arg(truncate(r.IP, maxIP), text), arg(truncate(r.UserAgent, maxUserAgent), text), arg(s.t(r.CreatedAt), ts), arg(s.t(r.AuditUntil), ts)}, ", ")+guard+`)`)
		}
	}
	if len(final) == 0 {
		return nil, true, nil
	}
	b.WriteString("WITH ")
	b.WriteString(strings.Join(ctes, ",\n"))
	b.WriteString("\nSELECT ")
	b.WriteString(strings.Join(final, ", "))

	dest := make([]any, 0, len(final))
	var blacklisted int64
	if t != nil {
		dest = append(dest, &blacklisted)
	}
	seqs := make([]sql.NullInt64, len(revs))
	exps := make([]scanTime, len(revs))
	for i := range revs {
		dest = append(dest, &seqs[i], &exps[i])
	}
	err = s.W.QueryRowContext(ctx, s.q(b.String()), args...).Scan(dest...)
	if t != nil && s.d.IsUnique(err) {
		return nil, false, fmt.Errorf("token %s: %w", t.JTI, jwtrevoke.ErrBlacklisted)
	}
	if err != nil {
		return nil, false, err
	}
	if t != nil && blacklisted == 0 {
		return nil, false, nil // not outstanding: nothing written
	}
	for i := range out {
		if !seqs[i].Valid || !exps[i].valid {
			return nil, false, fmt.Errorf("revocation %d of %d not recorded", i+1, len(out))
		}
		out[i].Seq = seqs[i].Int64
		if exps[i].t.After(out[i].ExpiresAt) { // raised to the session's
			out[i].ExpiresAt = exps[i].t
		}
	}
	return out, true, nil
}
