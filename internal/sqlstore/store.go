package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

var _ jwtrevoke.Store = (*Store)(nil)

// Store implements jwtrevoke.Store over database/sql.
type Store struct {
	d *Dialect
	// W runs writes and R reads; they may be the same pool. SQLite uses a
	// single-connection W so that writers queue in Go instead of failing
	// with "database is locked".
	W, R *sql.DB
}

// New returns a Store over the given pools.
func New(d *Dialect, w, r *sql.DB) *Store { return &Store{d: d, W: w, R: r} }

// Close closes both pools.
func (s *Store) Close() error {
	if s.R == s.W {
		return s.W.Close()
	}
	return errors.Join(s.R.Close(), s.W.Close())
}

// maxAttempts bounds how often a transaction is retried after a deadlock
// or serialization failure.
const maxAttempts = 8

// tx runs fn in a write transaction and commits it, running it again after
// a deadlock or serialization failure.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.retry(ctx, func() error { return s.tryTx(ctx, fn) })
}

// retry runs fn, running it again after a deadlock or serialization
// failure.
func (s *Store) retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range maxAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * time.Millisecond):
			}
		}
		err = fn()
		if err == nil || s.d.IsRetryable == nil || !s.d.IsRetryable(err) {
			return err
		}
	}
	return err
}

func (s *Store) tryTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// q rewrites placeholders for the dialect.
func (s *Store) q(query string) string { return s.d.rebind(query) }

func (s *Store) t(t time.Time) any { return s.d.Time(t) }

func (s *Store) optT(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.d.Time(*t)
}

// insertID runs an INSERT and returns the generated key column.
func (s *Store) insertID(ctx context.Context, ex execer, query, key string, args ...any) (int64, error) {
	if s.d.Returning {
		var id int64
		err := ex.QueryRowContext(ctx, s.q(query+" RETURNING "+key), args...).Scan(&id)
		return id, err
	}
	res, err := ex.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Migrate applies the migrations in fsys (files NNNN_name.sql, statements
// separated by lines ending in ";") not applied yet, in order, each in its
// own transaction where the database allows transactional DDL, and records
// them in jwtrevoke_schema_migrations (created by createTable).
func (s *Store) Migrate(ctx context.Context, fsys fs.FS, createTable string) error {
	if _, err := s.W.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		num, _, _ := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %s", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = s.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT count(*) FROM jwtrevoke_schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range Statements(string(body)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%w\nin: %s", err, stmt)
				}
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO jwtrevoke_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				version, name, s.t(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// Statements splits a migration file into statements: each ends with a
// line ending in ";". Lines starting with "--" are comments.
func Statements(body string) []string {
	var (
		out []string
		cur strings.Builder
	)
	for _, line := range strings.Split(body, "\n") {
		trim := strings.TrimSpace(line)
		if trim == "" || strings.HasPrefix(trim, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trim, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// CreateUser implements jwtrevoke.Store.
func (s *Store) CreateUser(ctx context.Context, u *jwtrevoke.User) error {
	id, err := s.insertID(ctx, s.W, `INSERT INTO users_user (password, last_login, is_superuser, first_name, last_name, is_staff, is_active, date_joined, email)
		VALUES (?, ?, ?, '', '', ?, ?, ?, ?)`, "id",
		u.PasswordHash, s.optT(u.LastLogin), u.IsSuperuser, u.IsStaff, u.IsActive, s.t(u.DateJoined), u.Email)
	if s.d.IsUnique(err) {
		return fmt.Errorf("create user %q: %w", u.Email, jwtrevoke.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	u.ID = id
	return nil
}

const userColumns = `id, password, last_login, is_superuser, is_staff, is_active, date_joined, email`

func scanUser(row *sql.Row) (*jwtrevoke.User, error) {
	var (
		u            jwtrevoke.User
		last, joined scanTime
	)
	if err := row.Scan(&u.ID, &u.PasswordHash, &last, &u.IsSuperuser, &u.IsStaff, &u.IsActive, &joined, &u.Email); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, jwtrevoke.ErrNotFound
		}
		return nil, err
	}
	u.LastLogin, u.DateJoined = last.ptr(), joined.t
	return &u, nil
}

// UserByID implements jwtrevoke.Store.
func (s *Store) UserByID(ctx context.Context, id int64) (*jwtrevoke.User, error) {
	u, err := scanUser(s.R.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM users_user WHERE id = ?`), id))
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail implements jwtrevoke.Store.
func (s *Store) UserByEmail(ctx context.Context, email string) (*jwtrevoke.User, error) {
	u, err := scanUser(s.R.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM users_user WHERE `+s.d.EmailEquals), email))
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", email, err)
	}
	return u, nil
}

// UpdateUser implements jwtrevoke.Store.
func (s *Store) UpdateUser(ctx context.Context, u *jwtrevoke.User) error {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Counted with a SELECT: MySQL reports 0 affected rows when nothing changed.
		if err := tx.QueryRowContext(ctx, s.q(`SELECT count(*) FROM users_user WHERE id = ?`), u.ID).Scan(&n); err != nil || n == 0 {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE users_user SET password = ?, is_active = ?, is_staff = ?, is_superuser = ?, last_login = ? WHERE id = ?`),
			u.PasswordHash, u.IsActive, u.IsStaff, u.IsSuperuser, s.optT(u.LastLogin), u.ID)
		return err
	})
	if err == nil && n == 0 {
		err = jwtrevoke.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	return nil
}

func optID(id *int64) any {
	if id == nil {
		return nil
	}
	return *id
}

// tokenInsert inserts an outstanding token; a user id that does not exist
// is stored as NULL.
const tokenInsert = `INSERT INTO token_blacklist_outstandingtoken (token, created_at, expires_at, user_id, jti)
	VALUES (?, ?, ?, (SELECT id FROM users_user WHERE id = ?), ?)`

func (s *Store) insertToken(ctx context.Context, tx *sql.Tx, t jwtrevoke.OutstandingToken) error {
	_, err := tx.ExecContext(ctx, s.q(tokenInsert), t.Token, s.optT(t.CreatedAt), s.t(t.ExpiresAt), optID(t.UserID), t.JTI)
	if s.d.IsUnique(err) {
		return fmt.Errorf("token %s: %w", t.JTI, jwtrevoke.ErrExists)
	}
	return err
}

// blacklistToken get-or-creates t's outstanding row and adds its
// blacklisted row; ErrBlacklisted if it already has one.
func (s *Store) blacklistToken(ctx context.Context, tx *sql.Tx, t jwtrevoke.OutstandingToken, now time.Time) error {
	if _, err := tx.ExecContext(ctx, s.q(s.d.InsertIgnore(tokenInsert, "jti")),
		t.Token, s.optT(t.CreatedAt), s.t(t.ExpiresAt), optID(t.UserID), t.JTI); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id)
		SELECT ?, id FROM token_blacklist_outstandingtoken WHERE jti = ?`), s.t(now), t.JTI)
	if s.d.IsUnique(err) {
		return fmt.Errorf("token %s: %w", t.JTI, jwtrevoke.ErrBlacklisted)
	}
	return err
}

// IssueSession implements jwtrevoke.Store.
func (s *Store) IssueSession(ctx context.Context, t jwtrevoke.OutstandingToken, sess jwtrevoke.Session) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.insertToken(ctx, tx, t); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO jwtrevoke_session (id, user_id, created_at, expires_at, revoked_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			sess.ID, sess.UserID, s.t(sess.CreatedAt), s.t(sess.ExpiresAt), s.optT(sess.RevokedAt), sess.IP, sess.UserAgent)
		if s.d.IsUnique(err) {
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
	var n int
	err := s.R.QueryRowContext(ctx, s.q(`SELECT count(*) FROM token_blacklist_blacklistedtoken b
		JOIN token_blacklist_outstandingtoken o ON o.id = b.token_id WHERE o.jti = ?`), jti).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is blacklisted: %w", err)
	}
	return n > 0, nil
}

// record inserts revs, raising session revocations' expiry to the
// session's and marking those sessions revoked. revs[:callers] are the
// caller's: those with AuditUntil set also go into the audit trail; the
// rest are derived by the store (RevokeUser's per-session revocations) and
// are not audited.
func (s *Store) record(ctx context.Context, tx *sql.Tx, now time.Time, revs []jwtrevoke.Revocation, callers int) ([]jwtrevoke.Revocation, error) {
	out := make([]jwtrevoke.Revocation, 0, len(revs))
	for i, r := range revs {
		if r.SessionID != "" {
			var exp scanTime
			err := tx.QueryRowContext(ctx, s.q(`SELECT expires_at FROM jwtrevoke_session WHERE id = ?`), r.SessionID).Scan(&exp)
			switch {
			case err == nil:
				if exp.t.After(r.ExpiresAt) {
					r.ExpiresAt = exp.t
				}
				if _, err := tx.ExecContext(ctx, s.q(`UPDATE jwtrevoke_session SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
					s.t(now), r.SessionID); err != nil {
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
			notBefore = s.t(r.NotBefore)
		}
		seq, err := s.insertID(ctx, tx, `INSERT INTO jwtrevoke_revocation (session_id, jti, user_id, not_before, expires_at, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, "seq", r.SessionID, r.JTI, r.UserID, notBefore, s.t(r.ExpiresAt), r.Reason, s.t(r.CreatedAt))
		if err != nil {
			return nil, err
		}
		r.Seq = seq
		if i < callers && !r.AuditUntil.IsZero() {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO jwtrevoke_audit (user_id, session_id, jti, reason, ip, user_agent, created_at, keep_until)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), r.UserID, r.SessionID, r.JTI, r.Reason,
				truncate(r.IP, maxIP), truncate(r.UserAgent, maxUserAgent), s.t(r.CreatedAt), s.t(r.AuditUntil)); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	if len(out) > 0 && s.d.AfterRevocations != "" {
		if _, err := tx.ExecContext(ctx, s.d.AfterRevocations); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Blacklist implements jwtrevoke.Store.
func (s *Store) Blacklist(ctx context.Context, t jwtrevoke.OutstandingToken, revs ...jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	var out []jwtrevoke.Revocation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		if err := s.blacklistToken(ctx, tx, t, now); err != nil {
			return err
		}
		var err error
		out, err = s.record(ctx, tx, now, revs, len(revs))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("blacklist token: %w", err)
	}
	return out, nil
}

// errRotationTaken means the rotation row's insert met another's: a
// concurrent Rotate of the same token committed first.
var errRotationTaken = errors.New("rotation recorded concurrently")

const rotationColumns = `old_jti, next_jti, next_token, access_token, session_id, rotated_at, expires_at`

// rotation reads the rotation recorded for the old token jti;
// sql.ErrNoRows if there is none.
func (s *Store) rotation(ctx context.Context, ex execer, jti string) (jwtrevoke.Rotation, error) {
	var (
		r                jwtrevoke.Rotation
		rotated, expires scanTime
	)
	err := ex.QueryRowContext(ctx, s.q(`SELECT `+rotationColumns+` FROM jwtrevoke_rotation WHERE old_jti = ?`), jti).
		Scan(&r.Old.JTI, &r.Next.JTI, &r.Next.Token, &r.Access, &r.SessionID, &rotated, &expires)
	if err != nil {
		return jwtrevoke.Rotation{}, err
	}
	r.RotatedAt, r.Old.ExpiresAt = rotated.t, expires.t
	return r, nil
}

// Rotate implements jwtrevoke.Store. The rotation row's primary key (the
// old jti) is the serialization point: of concurrent rotations of one
// token, one inserts it and the others either see it (a later snapshot)
// or fail on the key once the winner commits; these roll back and read the
// winner's row afresh, so every loser reports ErrRotated with the winner's
// record. Deadlocks and serialization failures rerun the transaction.
func (s *Store) Rotate(ctx context.Context, r jwtrevoke.Rotation) (jwtrevoke.Rotation, error) {
	if r.RotatedAt.IsZero() {
		r.RotatedAt = time.Now()
	}
	r.RotatedAt = r.RotatedAt.UTC()
	keep := r.Old.ExpiresAt // the row lives as long as the old token
	if keep.IsZero() {
		keep = r.Next.ExpiresAt
	}
	rotated := func(rec jwtrevoke.Rotation) (jwtrevoke.Rotation, error) {
		return rec, fmt.Errorf("rotate token %s: %w", r.Old.JTI, jwtrevoke.ErrRotated)
	}
	var err error
	for range maxAttempts {
		var rec jwtrevoke.Rotation
		err = s.tx(ctx, func(tx *sql.Tx) error {
			var err error
			switch rec, err = s.rotation(ctx, tx, r.Old.JTI); {
			case err == nil:
				return jwtrevoke.ErrRotated
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO jwtrevoke_rotation (`+rotationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
				r.Old.JTI, r.Next.JTI, r.Next.Token, r.Access, r.SessionID, s.t(r.RotatedAt), s.t(keep))
			if s.d.IsUnique(err) {
				return errRotationTaken
			}
			if err != nil {
				return err
			}
			if r.BlacklistOld {
				if err := s.blacklistToken(ctx, tx, r.Old, time.Now()); err != nil {
					return err
				}
			}
			if err := s.insertToken(ctx, tx, r.Next); err != nil {
				return err
			}
			exp := s.t(r.SessionExpires)
			_, err = tx.ExecContext(ctx, s.q(`UPDATE jwtrevoke_session SET expires_at = ? WHERE id = ? AND expires_at < ?`), exp, r.SessionID, exp)
			return err
		})
		switch {
		case err == nil:
			return r, nil
		case errors.Is(err, jwtrevoke.ErrRotated):
			return rotated(rec)
		case errors.Is(err, errRotationTaken), errors.Is(err, jwtrevoke.ErrBlacklisted):
			// Rolled back; the winner (if any) has committed. A token both
			// rotated and blacklisted reports the rotation.
			rec, lerr := s.rotation(ctx, s.R, r.Old.JTI)
			switch {
			case lerr == nil:
				return rotated(rec)
			case !errors.Is(lerr, sql.ErrNoRows):
				return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", lerr)
			case errors.Is(err, jwtrevoke.ErrBlacklisted):
				return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
			}
			// The winner's row is gone already (flushed): try again.
		default:
			return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
		}
	}
	return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
}

// RevokeSession implements jwtrevoke.Store.
func (s *Store) RevokeSession(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if rev.SessionID == "" {
		return nil, errors.New("revoke session: no session id")
	}
	var out []jwtrevoke.Revocation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.record(ctx, tx, time.Now(), []jwtrevoke.Revocation{rev}, 1)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("revoke session: %w", err)
	}
	return out, nil
}

// RevokeUser implements jwtrevoke.Store.
func (s *Store) RevokeUser(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	var out []jwtrevoke.Revocation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		ts := s.t(now)
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id)
			SELECT ?, o.id FROM token_blacklist_outstandingtoken o
			WHERE o.user_id = ? AND o.expires_at > ?
			AND NOT EXISTS (SELECT 1 FROM token_blacklist_blacklistedtoken b WHERE b.token_id = o.id)`), ts, rev.UserID, ts); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM jwtrevoke_session WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY id`), rev.UserID, ts)
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
		out, err = s.record(ctx, tx, now, revs, 1) // revs[1:] are derived
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	return out, nil
}

// Revocations implements jwtrevoke.Store.
func (s *Store) Revocations(ctx context.Context, afterSeq int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	rows, err := s.R.QueryContext(ctx, s.q(`SELECT seq, session_id, jti, user_id, not_before, expires_at, reason, created_at
		FROM jwtrevoke_revocation WHERE seq > ? AND expires_at > ? ORDER BY seq`), afterSeq, s.t(now))
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	defer rows.Close()
	var out []jwtrevoke.Revocation
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

// Sessions implements jwtrevoke.Store.
func (s *Store) Sessions(ctx context.Context, userID int64, now time.Time) ([]jwtrevoke.Session, error) {
	rows, err := s.R.QueryContext(ctx, s.q(`SELECT id, user_id, created_at, expires_at, revoked_at, ip, user_agent
		FROM jwtrevoke_session WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id DESC`), userID, s.t(now))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []jwtrevoke.Session
	for rows.Next() {
		var (
			ss                        jwtrevoke.Session
			created, expires, revoked scanTime
		)
		if err := rows.Scan(&ss.ID, &ss.UserID, &created, &expires, &revoked, &ss.IP, &ss.UserAgent); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		ss.CreatedAt, ss.ExpiresAt, ss.RevokedAt = created.t, expires.t, revoked.ptr()
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
		limit = 1 << 62
	}
	query += " ORDER BY o.id DESC LIMIT ? OFFSET ?"
	args = append(args, limit, q.Offset)
	rows, err := s.R.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
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
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		if user.Valid {
			t.UserID = &user.Int64
		}
		t.CreatedAt, t.ExpiresAt, t.BlacklistedAt = created.ptr(), expires.t, blacked.ptr()
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
	ts := s.t(now)
	// The derived table (SELECT ... FROM (...) AS b) lets MySQL use LIMIT
	// in the subquery and delete from the table it selects from.
	expired := `SELECT id FROM (SELECT id FROM token_blacklist_outstandingtoken WHERE expires_at <= ? ORDER BY id LIMIT ?) AS expired`
	for {
		var n int64
		err := s.tx(ctx, func(tx *sql.Tx) error {
			b, err := tx.ExecContext(ctx, s.q(`DELETE FROM token_blacklist_blacklistedtoken WHERE token_id IN (`+expired+`)`), ts, batch)
			if err != nil {
				return err
			}
			o, err := tx.ExecContext(ctx, s.q(`DELETE FROM token_blacklist_outstandingtoken WHERE id IN (`+expired+`)`), ts, batch)
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
		table, key, expires string
		count               *int64
	}{
		{"jwtrevoke_session", "id", "expires_at", &res.Sessions},
		{"jwtrevoke_revocation", "seq", "expires_at", &res.Revocations},
		{"jwtrevoke_rotation", "old_jti", "expires_at", &res.Rotations},
		{"jwtrevoke_audit", "id", "keep_until", &res.Audit},
		{"jwtrevoke_attempt", "k", "expires_at", &res.Attempts},
	} {
		for {
			r, err := s.W.ExecContext(ctx, s.q(`DELETE FROM `+t.table+` WHERE `+t.key+` IN (SELECT `+t.key+` FROM (SELECT `+t.key+` FROM `+t.table+` WHERE `+t.expires+` <= ? ORDER BY `+t.key+` LIMIT ?) AS expired)`), ts, batch)
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
		if _, err := tx.ExecContext(ctx, s.q(s.d.InsertIgnore(`INSERT INTO jwtrevoke_setting (name, value) VALUES (?, ?)`, "name")), key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT value FROM jwtrevoke_setting WHERE name = ?`), key).Scan(&v)
	})
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return v, nil
}

// Column widths of the audit trail's ip and user_agent (MySQL's
// varchar(64) and varchar(512), as for sessions): longer values are cut
// rather than failing the revocation they come with.
const (
	maxIP        = 64
	maxUserAgent = 512
)

// truncate cuts s to at most n characters.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// Audit implements jwtrevoke.Store.
func (s *Store) Audit(ctx context.Context, userID int64, limit int) ([]jwtrevoke.Revocation, error) {
	n := int64(limit)
	if n <= 0 {
		n = 1 << 62
	}
	rows, err := s.R.QueryContext(ctx, s.q(`SELECT user_id, session_id, jti, reason, ip, user_agent, created_at, keep_until
		FROM jwtrevoke_audit WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`), userID, n)
	if err != nil {
		return nil, fmt.Errorf("audit trail: %w", err)
	}
	defer rows.Close()
	var out []jwtrevoke.Revocation
	for rows.Next() {
		var (
			r             jwtrevoke.Revocation
			created, keep scanTime
		)
		if err := rows.Scan(&r.UserID, &r.SessionID, &r.JTI, &r.Reason, &r.IP, &r.UserAgent, &created, &keep); err != nil {
			return nil, fmt.Errorf("audit trail: %w", err)
		}
		r.CreatedAt, r.AuditUntil = created.t, keep.t
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit trail: %w", err)
	}
	return out, nil
}

// maxAttemptKey is the width of jwtrevoke_attempt.k.
const maxAttemptKey = 255

// attemptKey names the counter of key in the window starting at start:
// the key and the window's start in Unix nanoseconds, or a hash of both
// when that would not fit the column.
func attemptKey(key string, start time.Time) string {
	k := key + "@" + strconv.FormatInt(start.UnixNano(), 10)
	if len(k) > maxAttemptKey {
		sum := sha256.Sum256([]byte(k))
		k = "sha256:" + hex.EncodeToString(sum[:])
	}
	return k
}

// CountAttempt implements jwtrevoke.Store. The counter's row is created
// or added to by one upsert, which serializes concurrent calls on the
// row's lock; see Counter for how each dialect reads the new value back.
func (s *Store) CountAttempt(ctx context.Context, key string, windowStart time.Time, window time.Duration, delta int64) (int64, error) {
	k, exp := attemptKey(key, windowStart), s.t(windowStart.Add(window))
	var n int64
	var err error
	switch s.d.Counter {
	case DuplicateKeyThenSelect:
		err = s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO jwtrevoke_attempt (k, n, expires_at) VALUES (?, ?, ?)
				ON DUPLICATE KEY UPDATE n = n + VALUES(n)`), k, delta, exp); err != nil {
				return err
			}
			// A locking read: the latest value, which this transaction's
			// upsert wrote and still holds the lock of.
			return tx.QueryRowContext(ctx, s.q(`SELECT n FROM jwtrevoke_attempt WHERE k = ? FOR UPDATE`), k).Scan(&n)
		})
	default:
		err = s.retry(ctx, func() error {
			return s.W.QueryRowContext(ctx, s.q(`INSERT INTO jwtrevoke_attempt (k, n, expires_at) VALUES (?, ?, ?)
				ON CONFLICT (k) DO UPDATE SET n = jwtrevoke_attempt.n + excluded.n RETURNING n`), k, delta, exp).Scan(&n)
		})
	}
	if err != nil {
		return 0, fmt.Errorf("count attempt: %w", err)
	}
	return n, nil
}
