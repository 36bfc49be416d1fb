package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/storekit"
)

var _ jwtrevoke.Store = (*Store)(nil)

// Store implements jwtrevoke.Store over database/sql.
type Store struct {
	d *Dialect
	// W runs writes and R reads; they may be the same pool. SQLite uses a
	// single-connection W so that writers queue in Go instead of failing
	// with "database is locked".
	W, R *sql.DB
	// group, when the dialect asks for group commit, runs the write
	// transactions of write.
	group *groupCommit
	// notify, when the dialect has AfterRevocations, sends it after
	// commits that recorded revocations.
	notify *notifier
	// polls holds the statements of the polls (see pollQuery).
	polls sync.Map // query text: *sql.Stmt
	// feed is BlacklistedAfter's query, made once (see feedQuery).
	feed string
}

// New returns a Store over the given pools.
func New(d *Dialect, w, r *sql.DB) *Store {
	s := &Store{d: d, W: w, R: r}
	s.feed = s.feedQuery()
	if d.GroupCommit {
		s.group = newGroupCommit(w)
	}
	if d.AfterRevocations != "" {
		s.notify = newNotifier(w, d.AfterRevocations)
	}
	return s
}

// Close closes both pools, after sending a notification still pending.
func (s *Store) Close() error {
	if s.notify != nil {
		s.notify.close()
	}
	var errs []error
	s.polls.Range(func(_, st any) bool {
		errs = append(errs, st.(*sql.Stmt).Close())
		return true
	})
	if s.R == s.W {
		return errors.Join(append(errs, s.W.Close())...)
	}
	return errors.Join(append(errs, s.R.Close(), s.W.Close())...)
}

// pollQuery runs query, one of the few that every instance runs ten times
// a second to follow the revocation log and the blacklist, on the read
// pool as a statement prepared once: on SQLite, parsing the SQL again
// each time was two thirds of a poll that found nothing new; MySQL's
// driver would prepare and close it on the server each time. With the
// dialect's PollArgs it is sent unprepared instead, with them.
func (s *Store) pollQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if len(s.d.PollArgs) > 0 {
		return s.R.QueryContext(ctx, query, append(slices.Clip(s.d.PollArgs), args...)...)
	}
	if st, ok := s.polls.Load(query); ok {
		return st.(*sql.Stmt).QueryContext(ctx, args...)
	}
	st, err := s.R.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.polls.LoadOrStore(query, st); loaded {
		_ = st.Close()
		st = prev.(*sql.Stmt)
	}
	return st.QueryContext(ctx, args...)
}

// revoked is called after a commit that recorded revocations: it returns
// once the other instances have been notified (see notifier.announce).
func (s *Store) revoked(ctx context.Context, revs []jwtrevoke.Revocation) {
	if len(revs) > 0 && s.notify != nil {
		s.notify.announce(ctx)
	}
}

// maxAttempts bounds how often a transaction is retried after a deadlock
// or serialization failure.
const maxAttempts = 8

// tx runs fn in a write transaction of its own and commits it, running it
// again after a deadlock or serialization failure. fn uses its caller's
// context, so it never joins a group commit (see write): Migrate and
// FlushExpired, whose work is long or DDL, run this way.
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

// write runs fn in a write transaction and commits it, running it again
// after a deadlock or serialization failure, as tx does; with group
// commit, in a transaction shared with other callers (see groupCommit). fn
// must do all its work through the context and transaction it is given.
func (s *Store) write(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if s.group == nil {
		return s.tx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
	}
	return s.retry(ctx, func() error { return s.group.do(ctx, fn) })
}

// autocommit runs fn, a single statement, on the write pool; with group
// commit, as one caller of a shared transaction, rather than paying a
// commit of its own.
func (s *Store) autocommit(ctx context.Context, fn func(context.Context, execer) error) error {
	if s.group == nil {
		return fn(ctx, s.W)
	}
	return s.group.do(ctx, func(ctx context.Context, tx *sql.Tx) error { return fn(ctx, tx) })
}

func (s *Store) tryTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.W.BeginTx(ctx, nil)
	return runTx(tx, err, fn)
}

// runTx runs fn in tx, begun with err, and commits it, or rolls it back if
// fn fails.
func runTx(tx *sql.Tx, err error, fn func(*sql.Tx) error) error {
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
	var id int64
	err := s.autocommit(ctx, func(ctx context.Context, ex execer) error {
		var err error
		id, err = s.insertID(ctx, ex, `INSERT INTO users_user (password, last_login, is_superuser, first_name, last_name, is_staff, is_active, date_joined, email)
		VALUES (?, ?, ?, '', '', ?, ?, ?, ?)`, "id",
			u.PasswordHash, s.optT(u.LastLogin), u.IsSuperuser, u.IsStaff, u.IsActive, s.t(u.DateJoined), u.Email)
		return err
	})
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
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
// blacklisted row; ErrBlacklisted if it already has one. The token is
// almost always outstanding already (issued by this store): the
// blacklisted row is inserted first, and the outstanding row only when
// that found none.
func (s *Store) blacklistToken(ctx context.Context, tx *sql.Tx, t jwtrevoke.OutstandingToken, now time.Time) error {
	blacklist := func() (int64, error) {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id)
		SELECT ?, id FROM token_blacklist_outstandingtoken WHERE jti = ?`), s.t(now), t.JTI)
		if s.d.IsUnique(err) {
			return 0, fmt.Errorf("token %s: %w", t.JTI, jwtrevoke.ErrBlacklisted)
		}
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	switch n, err := blacklist(); {
	case err != nil:
		return err
	case n > 0:
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.q(s.d.InsertIgnore(tokenInsert, "jti")),
		t.Token, s.optT(t.CreatedAt), s.t(t.ExpiresAt), optID(t.UserID), t.JTI); err != nil {
		return err
	}
	_, err := blacklist()
	return err
}

// IssueSession implements jwtrevoke.Store.
func (s *Store) IssueSession(ctx context.Context, t jwtrevoke.OutstandingToken, sess jwtrevoke.Session) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
			exp, found, err := s.revokeSessionRow(ctx, tx, r.SessionID, now)
			if err != nil {
				return nil, err
			}
			if found && exp.After(r.ExpiresAt) {
				r.ExpiresAt = exp
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
	return out, nil
}

// revokeSessionRow marks session id revoked at now unless it is already,
// and returns its expiry; found is false when there is no such session.
// One statement where UPDATE ... RETURNING works.
func (s *Store) revokeSessionRow(ctx context.Context, tx *sql.Tx, id string, now time.Time) (exp time.Time, found bool, err error) {
	var st scanTime
	if s.d.UpdateReturning {
		err = tx.QueryRowContext(ctx, s.q(`UPDATE jwtrevoke_session SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING expires_at`),
			s.t(now), id).Scan(&st)
	} else {
		err = tx.QueryRowContext(ctx, s.q(`SELECT expires_at FROM jwtrevoke_session WHERE id = ?`), id).Scan(&st)
		if err == nil {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE jwtrevoke_session SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), s.t(now), id)
		}
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, err
	}
	return st.t, true, nil
}

// recordCommitted runs recordStatement (retried on a serialization
// failure) and, when it wrote, tells the other instances (s.revoked).
func (s *Store) recordCommitted(ctx context.Context, t *jwtrevoke.OutstandingToken, revs []jwtrevoke.Revocation) (out []jwtrevoke.Revocation, ok bool, err error) {
	err = s.retry(ctx, func() error {
		var err error
		out, ok, err = s.recordStatement(ctx, t, time.Now(), revs, len(revs))
		return err
	})
	if err == nil && ok {
		s.revoked(ctx, out)
	}
	return out, ok, err
}

// Blacklist implements jwtrevoke.Store.
func (s *Store) Blacklist(ctx context.Context, t jwtrevoke.OutstandingToken, revs ...jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if s.d.WritableCTE {
		out, ok, err := s.recordCommitted(ctx, &t, revs)
		if err != nil {
			return nil, fmt.Errorf("blacklist token: %w", err)
		}
		if ok {
			return out, nil
		}
		// Not outstanding (nothing was written): the transaction below
		// creates its row.
	}
	var out []jwtrevoke.Revocation
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
	s.revoked(ctx, out)
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
		err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
	if s.d.WritableCTE {
		out, ok, err := s.recordCommitted(ctx, nil, []jwtrevoke.Revocation{rev})
		if err != nil {
			return nil, fmt.Errorf("revoke session: %w", err)
		}
		if ok { // always, with a single revocation
			return out, nil
		}
	}
	var out []jwtrevoke.Revocation
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = s.record(ctx, tx, time.Now(), []jwtrevoke.Revocation{rev}, 1)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("revoke session: %w", err)
	}
	s.revoked(ctx, out)
	return out, nil
}

// RevokeUser implements jwtrevoke.Store.
func (s *Store) RevokeUser(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	var out []jwtrevoke.Revocation
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
	s.revoked(ctx, out)
	return out, nil
}

// Revocations implements jwtrevoke.Store.
func (s *Store) Revocations(ctx context.Context, afterSeq int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	revs, _, err := s.RevocationsPage(ctx, afterSeq, now, 0)
	return revs, err
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

// FlushExpired implements jwtrevoke.Store. Each table is walked in key
// order from where the previous batch ended: a read picks the keys of the
// next batch (the first expired rows after the last key seen, through the
// primary key, so that no batch scans again what earlier batches deleted
// or kept), then a short write transaction deletes exactly those rows,
// checking again that they have expired. Tokens go with their blacklisted
// rows, deleted first (the foreign key) in the same transaction. Counts
// are taken from a transaction only once it has committed, so a retried
// transaction is counted once.
//
// On SQLite, a single writer, the batches are ranges of keys picked inside
// their own transaction instead (see flushRanges), and paced (see
// flushPace) so that the server's writers, waiting for the lock, get it
// between them.
func (s *Store) FlushExpired(ctx context.Context, now time.Time, opts jwtrevoke.FlushOptions) (res jwtrevoke.FlushResult, err error) {
	ts := s.t(now)
	pace, err := s.newFlushPace(ctx, opts.Batch)
	if err != nil {
		return res, fmt.Errorf("flush expired tokens: %w", err)
	}
	pace.progress = func() { storekit.Report(opts, res) }
	defer func() {
		if cerr := pace.close(); cerr != nil && err == nil {
			err = fmt.Errorf("flush expired tokens: %w", cerr)
		}
	}()
	if pace.paced {
		blacklisted := flushBlacklisted
		blacklisted.count = &res.Blacklisted
		err = s.flushRanges(ctx, pace, flushTokens, ts, &res.Outstanding, &blacklisted)
	} else {
		err = s.flushTable(ctx, pace, flushTokens, ts, &res.Outstanding, func(tx *sql.Tx, in string, args []any) (int64, error) {
			r, err := tx.ExecContext(ctx, s.q(`DELETE FROM token_blacklist_blacklistedtoken WHERE token_id IN
				(SELECT id FROM token_blacklist_outstandingtoken WHERE id IN (`+in+`) AND expires_at <= ?)`), args...)
			if err != nil {
				return 0, err
			}
			return r.RowsAffected()
		}, &res.Blacklisted)
	}
	if err != nil {
		return res, fmt.Errorf("flush expired tokens: %w", err)
	}
	for _, t := range []struct {
		flushTable
		count *int64
	}{
		{flushSessions, &res.Sessions},
		{flushRevocations, &res.Revocations},
		{flushRotations, &res.Rotations},
		{flushAudit, &res.Audit},
		{flushAttempts, &res.Attempts},
	} {
		if pace.paced {
			err = s.flushRanges(ctx, pace, t.flushTable, ts, t.count, nil)
		} else {
			err = s.flushTable(ctx, pace, t.flushTable, ts, t.count, nil, nil)
		}
		if err != nil {
			return res, fmt.Errorf("flush expired %s: %w", t.table, err)
		}
	}
	return res, nil
}

// flushTable is a table FlushExpired deletes from: the rows whose expires
// column is at or before the flush's time, found in the order of key, the
// primary key (an integer when intKey, else text).
type flushTable struct {
	table, key, expires string
	intKey              bool
}

// The tables FlushExpired deletes from, in its order: tokens with their
// blacklisted rows first.
var (
	flushTokens      = flushTable{"token_blacklist_outstandingtoken", "id", "expires_at", true}
	flushBlacklisted = flushChild{table: "token_blacklist_blacklistedtoken", key: "token_id"}
	flushSessions    = flushTable{"jwtrevoke_session", "id", "expires_at", false}
	flushRevocations = flushTable{"jwtrevoke_revocation", "seq", "expires_at", true}
	flushRotations   = flushTable{"jwtrevoke_rotation", "old_jti", "expires_at", false}
	flushAudit       = flushTable{"jwtrevoke_audit", "id", "keep_until", true}
	flushAttempts    = flushTable{"jwtrevoke_attempt", "k", "expires_at", false}
)

// flushMaxKeys bounds the rows of one flush transaction whatever the batch:
// their keys are parameters of its statements (SQLite allows 32,766).
const flushMaxKeys = 10_000

// flushTable deletes t's expired rows (at or before ts) in batches, adding
// the count deleted to *count. first, when set, runs in each batch's
// transaction before the rows are deleted, with the same IN list and
// arguments (the keys, then ts), and its count goes to *firstCount.
func (s *Store) flushTable(ctx context.Context, pace *flushPace, t flushTable, ts any, count *int64,
	first func(tx *sql.Tx, in string, args []any) (int64, error), firstCount *int64) error {
	keys, err := s.expiredKeys(ctx, t, ts, nil, pace.rows)
	for err == nil && len(keys) > 0 {
		args := append(append(make([]any, 0, len(keys)+1), keys...), ts)
		in := strings.Repeat("?, ", len(keys)-1) + "?"
		var (
			n, nFirst int64
			locked    time.Time // when the transaction began (SQLite: took the lock)
		)
		err = s.tx(ctx, func(tx *sql.Tx) error {
			n, nFirst, locked = 0, 0, time.Now()
			if first != nil {
				var err error
				if nFirst, err = first(tx, in, args); err != nil {
					return err
				}
			}
			r, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t.table+` WHERE `+t.key+` IN (`+in+`) AND `+t.expires+` <= ?`), args...)
			if err != nil {
				return err
			}
			n, err = r.RowsAffected()
			return err
		})
		if err != nil {
			return err
		}
		released := time.Now()
		*count += n
		if firstCount != nil {
			*firstCount += nFirst
		}
		pace.progress()
		full := len(keys) == pace.rows
		pace.resize(full, released.Sub(locked))
		if full { // the next batch's keys, read while the lock is free
			keys, err = s.expiredKeys(ctx, t, ts, keys[len(keys)-1], pace.rows)
		} else {
			keys = nil
		}
		if perr := pace.pause(ctx, released); err == nil {
			err = perr
		}
	}
	return err
}

// expiredKeys returns the keys of at most limit rows of t expired at ts,
// in key order, after the key after (from the first when nil).
func (s *Store) expiredKeys(ctx context.Context, t flushTable, ts, after any, limit int) ([]any, error) {
	query := `SELECT ` + t.key + ` FROM ` + t.table + ` WHERE ` + t.expires + ` <= ?`
	args := []any{ts}
	if after != nil {
		query += ` AND ` + t.key + ` > ?`
		args = append(args, after)
	}
	query += ` ORDER BY ` + t.key + ` LIMIT ?`
	rows, err := s.R.QueryContext(ctx, s.q(query), append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := make([]any, 0, limit)
	for rows.Next() {
		if t.intKey {
			var k int64
			if err := rows.Scan(&k); err != nil {
				return nil, err
			}
			keys = append(keys, k)
		} else {
			var k string
			if err := rows.Scan(&k); err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	return keys, rows.Err()
}

// Pacing of FlushExpired on SQLite.
const (
	// flushHold is how long each write transaction should hold SQLite's
	// write lock: the rows of the next one are scaled to it.
	flushHold = 20 * time.Millisecond
	// flushFirstRows is the size of the first paced transaction.
	flushFirstRows = 100
	// flushYield is the pause after each paced transaction: longer than
	// the interval at which a jwtrevoke writer polls for the lock (1 ms,
	// see store/sqlite), with room for its wake-up on a busy machine.
	flushYield = 3 * time.Millisecond
	// Every flushBreakEvery, the pause is a break of at least flushBreak,
	// in which the WAL is checkpointed.
	flushBreakEvery = time.Second
	flushBreak      = 110 * time.Millisecond
	// Every flushRestartEvery, the pause waits for a complete checkpoint,
	// so that the next transaction starts the WAL over: the background
	// checkpoints (see flushCheckpointer) alone never catch up with a
	// flush that keeps writing, and the WAL would grow by every page the
	// flush writes.
	flushRestartEvery = 250 * time.Millisecond
	// flushCacheKiB is the write connection's page cache during the
	// flush: the pages of an index in random key order that nearly every
	// batch touches (the jti's of a million tokens fill about 40 MB)
	// are then read once, not again by every batch.
	flushCacheKiB = 64 << 10
)

// flushPace sizes FlushExpired's transactions: batch rows (at most
// flushMaxKeys; DefaultFlushBatch when not given), except on SQLite, where
// they are paced, and batch, when given, only bounds them.
//
// SQLite has one writer at a time. A jwtrevoke server that finds the
// database locked (by a flush, run in another process or on the flush's
// own connection, see below) polls for the lock every millisecond, so each paced transaction is sized to hold the lock
// about flushHold (never more than batch rows when batch is given: a
// fixed 1000, the other stores' default, made a flush of 1e6 expired
// tokens take twice as long, its transactions holding the lock 11 ms on
// average, each paying a commit and a page written again for what the
// next one deletes beside it) and is followed by a pause
// of flushYield, in which the waiting writer takes the lock: it waits at
// most about one transaction. Other programs writing to the same file
// (Django) wait with SQLite's own busy handler, which sleeps up to 100 ms
// between its tries: the break of flushBreak every flushBreakEvery lets
// each of them in within about a second.
//
// The WAL is checkpointed beside the flush's transactions, on another
// connection (see flushCheckpointer), not in the pauses: copying the pages
// a transaction wrote (an index in random order of the key, such as the
// tokens' jti, has a page touched by nearly every deleted row) takes about
// half as long as writing them, time the flush would otherwise spend
// between its transactions.
//
// On SQLite the flush writes through a connection of its own (conn), taken
// from the read pool and closed afterwards, not the store's write
// connection, which the server's requests share when the flush runs in
// serve: the flush's connection has no automatic checkpoints, a larger
// page cache (see flushCacheKiB), and synchronous=NORMAL: its commits do
// not wait for an fsync (a tenth of a flush's time on 1e6 tokens). A power
// cut may then undo its last batches, expired rows that the next flush
// deletes again, never a write the server acknowledged: each commit of the
// server syncs the WAL, the flush's frames written before it included,
// and the flush ends with a checkpoint, which syncs the WAL first.
type flushPace struct {
	s     *Store
	max   int  // the most rows of a transaction, at most flushMaxKeys
	rows  int  // rows of the next transaction
	paced bool // SQLite
	// broke is when the last break ended (or the flush began); restarted,
	// when the WAL was last checkpointed completely.
	broke, restarted time.Time
	// conn is the flush's own connection when paced.
	conn *sql.Conn
	// ckpt checkpoints in the background (see flushCheckpointer).
	ckpt *flushCheckpointer
	// progress reports the running totals after each committed batch.
	progress func()
}

func (s *Store) newFlushPace(ctx context.Context, batch int) (*flushPace, error) {
	p := &flushPace{s: s, paced: s.d.Name == "sqlite", broke: time.Now(), restarted: time.Now()}
	switch {
	case batch > 0:
		p.max = min(batch, flushMaxKeys)
	case p.paced:
		p.max = flushMaxKeys
	default:
		p.max = jwtrevoke.DefaultFlushBatch
	}
	p.rows = p.max
	if !p.paced {
		return p, nil
	}
	p.rows = min(p.max, flushFirstRows)
	conn, err := s.R.Conn(ctx)
	if err != nil {
		return nil, err
	}
	p.conn = conn
	for _, pragma := range []string{`PRAGMA wal_autocheckpoint = 0`, `PRAGMA synchronous = NORMAL`, `PRAGMA cache_size = ` + strconv.Itoa(-flushCacheKiB)} {
		if _, err := conn.ExecContext(ctx, pragma); err != nil {
			return nil, errors.Join(err, p.discard())
		}
	}
	ckpt, err := newFlushCheckpointer(ctx, s.R)
	if err != nil {
		return nil, errors.Join(err, p.discard())
	}
	p.ckpt = ckpt
	return p, nil
}

// tx runs fn in a write transaction of a paced flush, on the flush's own
// connection (BEGIN IMMEDIATE: the read pool's DSN asks for it, and its
// busy handler waits for the lock).
func (p *flushPace) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return p.s.retry(ctx, func() error {
		tx, err := p.conn.BeginTx(ctx, nil)
		return runTx(tx, err, fn)
	})
}

// discard closes the flush's connection instead of giving it back to the
// read pool with the flush's settings.
func (p *flushPace) discard() error {
	_ = p.conn.Raw(func(any) error { return driver.ErrBadConn }) // closes it
	if err := p.conn.Close(); !errors.Is(err, sql.ErrConnDone) {
		return err
	}
	return nil
}

// close stops the background checkpoints and, after a last checkpoint
// (which syncs the WAL, and with it the flush's commits), closes the
// flush's connection.
func (p *flushPace) close() error {
	if !p.paced {
		return nil
	}
	p.ckpt.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(passiveCheckpoint(ctx, p.conn), p.discard())
}

// resize sizes the next transaction after one that held the lock for
// held: when paced, after a full one (of p.rows rows), to flushHold.
func (p *flushPace) resize(full bool, held time.Duration) {
	if !p.paced || !full {
		return
	}
	n := 2 * p.rows
	if held > 0 {
		n = int(float64(p.rows) * float64(flushHold) / float64(held))
	}
	p.rows = max(min(n, 2*p.rows, p.max), p.rows/2, 1)
}

// pause follows each transaction, which released the lock at released:
// when paced, it waits until flushYield after released, or, when a break
// is due, checkpoints and waits until flushBreak after released.
func (p *flushPace) pause(ctx context.Context, released time.Time) error {
	if !p.paced {
		return ctx.Err()
	}
	until, brk := released.Add(flushYield), released.Sub(p.broke) >= flushBreakEvery
	switch {
	case brk:
		if err := p.ckpt.complete(ctx); err != nil {
			return err
		}
		until, p.restarted = released.Add(flushBreak), released
	case released.Sub(p.restarted) >= flushRestartEvery:
		if err := p.ckpt.complete(ctx); err != nil {
			return err
		}
		p.restarted = released
	default:
		p.ckpt.poke()
	}
	wait := time.NewTimer(time.Until(until))
	defer wait.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wait.C:
	}
	if brk {
		p.broke = time.Now()
	}
	return nil
}

// Setting implements jwtrevoke.Store.
func (s *Store) Setting(ctx context.Context, key, value string) (string, error) {
	var v string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
		err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
			return s.autocommit(ctx, func(ctx context.Context, ex execer) error {
				return ex.QueryRowContext(ctx, s.q(`INSERT INTO jwtrevoke_attempt (k, n, expires_at) VALUES (?, ?, ?)
				ON CONFLICT (k) DO UPDATE SET n = jwtrevoke_attempt.n + excluded.n RETURNING n`), k, delta, exp).Scan(&n)
			})
		})
	}
	if err != nil {
		return 0, fmt.Errorf("count attempt: %w", err)
	}
	return n, nil
}
