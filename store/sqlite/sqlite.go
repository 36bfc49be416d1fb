package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jwtrevoke/jwtrevoke"
)

var _ jwtrevoke.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a SQLite database. Writes go through one connection (SQLite has
// one writer at a time; queueing in Go avoids busy errors), reads through a
// pool that runs beside it thanks to WAL.
type Store struct {
	w, r *sql.DB
}

// Open opens (creating if needed) the database file at path and pings it.
// Call Migrate before use on a new file.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	return &Store{w: w, r: r}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Migrate applies the embedded migrations not applied yet, in order, each
// in its own transaction, and records them in jwtrevoke_schema_migrations.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS "jwtrevoke_schema_migrations" ("version" integer NOT NULL PRIMARY KEY, "name" text NOT NULL, "applied_at" datetime NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, _ := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %s", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = s.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM jwtrevoke_schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO jwtrevoke_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				version, base, formatTime(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
	}
	return nil
}

// tx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Times are stored as Django stores them in SQLite: UTC text, microseconds
// only when not zero. The fixed widths keep text comparison chronological.
const (
	layoutSeconds = "2006-01-02 15:04:05"
	layoutMicros  = "2006-01-02 15:04:05.000000"
)

func formatTime(t time.Time) string {
	t = t.UTC().Truncate(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format(layoutSeconds)
	}
	return t.Format(layoutMicros)
}

func formatOptTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{layoutMicros, layoutSeconds, time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", s)
}

func parseOptTime(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func isUnique(err error) bool {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// CreateUser implements jwtrevoke.Store.
func (s *Store) CreateUser(ctx context.Context, u *jwtrevoke.User) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO users_user (password, last_login, is_superuser, first_name, last_name, is_staff, is_active, date_joined, email)
		VALUES (?, ?, ?, '', '', ?, ?, ?, ?)`,
		u.PasswordHash, formatOptTime(u.LastLogin), u.IsSuperuser, u.IsStaff, u.IsActive, formatTime(u.DateJoined), u.Email)
	if isUnique(err) {
		return fmt.Errorf("create user %q: %w", u.Email, jwtrevoke.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

const userColumns = `id, password, last_login, is_superuser, is_staff, is_active, date_joined, email`

func scanUser(row *sql.Row) (*jwtrevoke.User, error) {
	var (
		u      jwtrevoke.User
		last   sql.NullString
		joined string
	)
	if err := row.Scan(&u.ID, &u.PasswordHash, &last, &u.IsSuperuser, &u.IsStaff, &u.IsActive, &joined, &u.Email); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, jwtrevoke.ErrNotFound
		}
		return nil, err
	}
	var err error
	if u.LastLogin, err = parseOptTime(last); err != nil {
		return nil, err
	}
	if u.DateJoined, err = parseTime(joined); err != nil {
		return nil, err
	}
	return &u, nil
}

// UserByID implements jwtrevoke.Store.
func (s *Store) UserByID(ctx context.Context, id int64) (*jwtrevoke.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users_user WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail implements jwtrevoke.Store.
func (s *Store) UserByEmail(ctx context.Context, email string) (*jwtrevoke.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users_user WHERE lower(email) = lower(?)`, email))
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", email, err)
	}
	return u, nil
}

// UpdateUser implements jwtrevoke.Store.
func (s *Store) UpdateUser(ctx context.Context, u *jwtrevoke.User) error {
	res, err := s.w.ExecContext(ctx, `UPDATE users_user SET password = ?, is_active = ?, is_staff = ?, is_superuser = ?, last_login = ? WHERE id = ?`,
		u.PasswordHash, u.IsActive, u.IsStaff, u.IsSuperuser, formatOptTime(u.LastLogin), u.ID)
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	} else if n == 0 {
		return fmt.Errorf("update user %d: %w", u.ID, jwtrevoke.ErrNotFound)
	}
	return nil
}

func optID(id *int64) any {
	if id == nil {
		return nil
	}
	return *id
}

// insertToken adds t to the outstanding table; a token with the same jti
// gives ErrExists. A user id that does not exist is stored as NULL.
func insertToken(ctx context.Context, tx *sql.Tx, t jwtrevoke.OutstandingToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO token_blacklist_outstandingtoken (token, created_at, expires_at, user_id, jti)
		VALUES (?, ?, ?, (SELECT id FROM users_user WHERE id = ?), ?)`,
		t.Token, formatOptTime(t.CreatedAt), formatTime(t.ExpiresAt), optID(t.UserID), t.JTI)
	if isUnique(err) {
		return fmt.Errorf("token %s: %w", t.JTI, jwtrevoke.ErrExists)
	}
	return err
}

// blacklistToken get-or-creates t's outstanding row and adds its
// blacklisted row; ErrBlacklisted if it already has one.
func blacklistToken(ctx context.Context, tx *sql.Tx, t jwtrevoke.OutstandingToken, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO token_blacklist_outstandingtoken (token, created_at, expires_at, user_id, jti)
		VALUES (?, ?, ?, (SELECT id FROM users_user WHERE id = ?), ?) ON CONFLICT (jti) DO NOTHING`,
		t.Token, formatOptTime(t.CreatedAt), formatTime(t.ExpiresAt), optID(t.UserID), t.JTI); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id)
		SELECT ?, id FROM token_blacklist_outstandingtoken WHERE jti = ?`, formatTime(now), t.JTI)
	if isUnique(err) {
		return fmt.Errorf("token %s: %w", t.JTI, jwtrevoke.ErrBlacklisted)
	}
	return err
}

// IssueSession implements jwtrevoke.Store.
func (s *Store) IssueSession(ctx context.Context, t jwtrevoke.OutstandingToken, sess jwtrevoke.Session) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := insertToken(ctx, tx, t); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO jwtrevoke_session (id, user_id, created_at, expires_at, revoked_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sess.ID, sess.UserID, formatTime(sess.CreatedAt), formatTime(sess.ExpiresAt), formatOptTime(sess.RevokedAt), sess.IP, sess.UserAgent)
		if isUnique(err) {
			return fmt.Errorf("session %s: %w", sess.ID, jwtrevoke.ErrExists)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("issue session: %w", err)
	}
	return nil
}

// IsBlacklisted implements jwtrevoke.Store.
func (s *Store) IsBlacklisted(ctx context.Context, jti string) (bool, error) {
	var b bool
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM token_blacklist_blacklistedtoken b
		JOIN token_blacklist_outstandingtoken o ON o.id = b.token_id WHERE o.jti = ?)`, jti).Scan(&b)
	if err != nil {
		return false, fmt.Errorf("is blacklisted: %w", err)
	}
	return b, nil
}

// record inserts revs, raising session revocations' expiry to the
// session's and marking those sessions revoked.
func record(ctx context.Context, tx *sql.Tx, now time.Time, revs []jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	out := make([]jwtrevoke.Revocation, 0, len(revs))
	for _, r := range revs {
		if r.SessionID != "" {
			var exp string
			err := tx.QueryRowContext(ctx, `SELECT expires_at FROM jwtrevoke_session WHERE id = ?`, r.SessionID).Scan(&exp)
			switch {
			case err == nil:
				t, err := parseTime(exp)
				if err != nil {
					return nil, err
				}
				if t.After(r.ExpiresAt) {
					r.ExpiresAt = t
				}
				if _, err := tx.ExecContext(ctx, `UPDATE jwtrevoke_session SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
					formatTime(now), r.SessionID); err != nil {
					return nil, err
				}
			case !errors.Is(err, sql.ErrNoRows):
				return nil, err
			}
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		var notBefore any
		if !r.NotBefore.IsZero() {
			notBefore = formatTime(r.NotBefore)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO jwtrevoke_revocation (session_id, jti, user_id, not_before, expires_at, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.SessionID, r.JTI, r.UserID, notBefore, formatTime(r.ExpiresAt), r.Reason, formatTime(r.CreatedAt))
		if err != nil {
			return nil, err
		}
		if r.Seq, err = res.LastInsertId(); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Blacklist implements jwtrevoke.Store.
func (s *Store) Blacklist(ctx context.Context, t jwtrevoke.OutstandingToken, revs ...jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	var out []jwtrevoke.Revocation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		if err := blacklistToken(ctx, tx, t, now); err != nil {
			return err
		}
		var err error
		out, err = record(ctx, tx, now, revs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("blacklist token: %w", err)
	}
	return out, nil
}

// Rotate implements jwtrevoke.Store.
func (s *Store) Rotate(ctx context.Context, old jwtrevoke.OutstandingToken, blacklistOld bool, next jwtrevoke.OutstandingToken, sessionID string, sessionExpires time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if blacklistOld {
			if err := blacklistToken(ctx, tx, old, time.Now()); err != nil {
				return err
			}
		}
		if err := insertToken(ctx, tx, next); err != nil {
			return err
		}
		exp := formatTime(sessionExpires)
		_, err := tx.ExecContext(ctx, `UPDATE jwtrevoke_session SET expires_at = ? WHERE id = ? AND expires_at < ?`, exp, sessionID, exp)
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate token: %w", err)
	}
	return nil
}

// RevokeUser implements jwtrevoke.Store.
func (s *Store) RevokeUser(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	var out []jwtrevoke.Revocation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		ts := formatTime(now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id)
			SELECT ?, o.id FROM token_blacklist_outstandingtoken o
			WHERE o.user_id = ? AND o.expires_at > ?
			AND NOT EXISTS (SELECT 1 FROM token_blacklist_blacklistedtoken b WHERE b.token_id = o.id)`, ts, rev.UserID, ts); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM jwtrevoke_session WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY id`, rev.UserID, ts)
		if err != nil {
			return err
		}
		revs := []jwtrevoke.Revocation{rev}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			revs = append(revs, jwtrevoke.Revocation{SessionID: id, UserID: rev.UserID, ExpiresAt: now, Reason: rev.Reason, CreatedAt: rev.CreatedAt})
		}
		if err := rows.Close(); err != nil {
			return err
		}
		out, err = record(ctx, tx, now, revs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	return out, nil
}

// Revocations implements jwtrevoke.Store.
func (s *Store) Revocations(ctx context.Context, afterSeq int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, session_id, jti, user_id, not_before, expires_at, reason, created_at
		FROM jwtrevoke_revocation WHERE seq > ? AND expires_at > ? ORDER BY seq`, afterSeq, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	defer rows.Close()
	var out []jwtrevoke.Revocation
	for rows.Next() {
		var (
			r                jwtrevoke.Revocation
			notBefore        sql.NullString
			expires, created string
		)
		if err := rows.Scan(&r.Seq, &r.SessionID, &r.JTI, &r.UserID, &notBefore, &expires, &r.Reason, &created); err != nil {
			return nil, fmt.Errorf("list revocations: %w", err)
		}
		nb, err1 := parseOptTime(notBefore)
		exp, err2 := parseTime(expires)
		cr, err3 := parseTime(created)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("list revocations: %w", err)
		}
		if nb != nil {
			r.NotBefore = *nb
		}
		r.ExpiresAt, r.CreatedAt = exp, cr
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	return out, nil
}

// Sessions implements jwtrevoke.Store.
func (s *Store) Sessions(ctx context.Context, userID int64, now time.Time) ([]jwtrevoke.Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, user_id, created_at, expires_at, revoked_at, ip, user_agent
		FROM jwtrevoke_session WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id DESC`, userID, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []jwtrevoke.Session
	for rows.Next() {
		var (
			ss               jwtrevoke.Session
			created, expires string
			revoked          sql.NullString
		)
		if err := rows.Scan(&ss.ID, &ss.UserID, &created, &expires, &revoked, &ss.IP, &ss.UserAgent); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		c, err1 := parseTime(created)
		e, err2 := parseTime(expires)
		r, err3 := parseOptTime(revoked)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		ss.CreatedAt, ss.ExpiresAt, ss.RevokedAt = c, e, r
		out = append(out, ss)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// OutstandingTokens implements jwtrevoke.Store.
func (s *Store) OutstandingTokens(ctx context.Context, q jwtrevoke.TokenQuery) ([]jwtrevoke.OutstandingToken, error) {
	var (
		where []string
		args  []any
	)
	if q.UserID != nil {
		where = append(where, "o.user_id = ?")
		args = append(args, *q.UserID)
	}
	if q.BlacklistedOnly {
		where = append(where, "b.id IS NOT NULL")
	}
	query := `SELECT o.id, o.user_id, o.jti, o.token, o.created_at, o.expires_at, b.blacklisted_at
		FROM token_blacklist_outstandingtoken o LEFT JOIN token_blacklist_blacklistedtoken b ON b.token_id = o.id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = -1
	}
	query += " ORDER BY o.id DESC LIMIT ? OFFSET ?"
	args = append(args, limit, q.Offset)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []jwtrevoke.OutstandingToken
	for rows.Next() {
		var (
			t                jwtrevoke.OutstandingToken
			user             sql.NullInt64
			created, blacked sql.NullString
			expires          string
		)
		if err := rows.Scan(&t.ID, &user, &t.JTI, &t.Token, &created, &expires, &blacked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		if user.Valid {
			t.UserID = &user.Int64
		}
		c, err1 := parseOptTime(created)
		e, err2 := parseTime(expires)
		b, err3 := parseOptTime(blacked)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt, t.ExpiresAt, t.BlacklistedAt = c, e, b
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// FlushExpired implements jwtrevoke.Store: each batch is its own short
// transaction, so logins and logouts wait at most one batch.
func (s *Store) FlushExpired(ctx context.Context, now time.Time, batch int) (jwtrevoke.FlushResult, error) {
	var res jwtrevoke.FlushResult
	if batch < 1 {
		batch = 1000
	}
	ts := formatTime(now)
	for {
		var n int64
		err := s.tx(ctx, func(tx *sql.Tx) error {
			sel := `SELECT id FROM token_blacklist_outstandingtoken WHERE expires_at <= ? ORDER BY id LIMIT ?`
			b, err := tx.ExecContext(ctx, `DELETE FROM token_blacklist_blacklistedtoken WHERE token_id IN (`+sel+`)`, ts, batch)
			if err != nil {
				return err
			}
			o, err := tx.ExecContext(ctx, `DELETE FROM token_blacklist_outstandingtoken WHERE id IN (`+sel+`)`, ts, batch)
			if err != nil {
				return err
			}
			nb, _ := b.RowsAffected()
			n, _ = o.RowsAffected()
			res.Blacklisted += nb
			res.Outstanding += n
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("flush expired tokens: %w", err)
		}
		if n < int64(batch) {
			break
		}
	}
	for _, t := range []struct {
		table, key string
		count      *int64
	}{
		{"jwtrevoke_session", "id", &res.Sessions},
		{"jwtrevoke_revocation", "seq", &res.Revocations},
	} {
		for {
			r, err := s.w.ExecContext(ctx, `DELETE FROM `+t.table+` WHERE `+t.key+` IN (SELECT `+t.key+` FROM `+t.table+` WHERE expires_at <= ? LIMIT ?)`, ts, batch)
			if err != nil {
				return res, fmt.Errorf("flush expired %s: %w", t.table, err)
			}
			n, _ := r.RowsAffected()
			*t.count += n
			if n < int64(batch) {
				break
			}
		}
	}
	return res, nil
}

// Setting implements jwtrevoke.Store.
func (s *Store) Setting(ctx context.Context, key, value string) (string, error) {
	var v string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO jwtrevoke_setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM jwtrevoke_setting WHERE key = ?`, key).Scan(&v)
	})
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return v, nil
}
