package memory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/storekit"
)

var _ jwtrevoke.Store = (*Store)(nil)

// Store keeps everything in maps behind one mutex.
type Store struct {
	mu          sync.Mutex
	users       map[int64]jwtrevoke.User
	nextUser    int64
	outstanding map[string]*jwtrevoke.OutstandingToken // by jti
	nextToken   int64
	sessions    map[string]*jwtrevoke.Session
	revocations []jwtrevoke.Revocation
	nextSeq     int64
	rotations   map[string]jwtrevoke.Rotation // by the old token's jti
	audit       []jwtrevoke.Revocation        // in the order recorded
	attempts    map[attemptKey]int64
	settings    map[string]string
	closed      bool
}

// New returns an empty store.
func New() *Store {
	return &Store{
		users:       map[int64]jwtrevoke.User{},
		outstanding: map[string]*jwtrevoke.OutstandingToken{},
		sessions:    map[string]*jwtrevoke.Session{},
		settings:    map[string]string{},
		rotations:   map[string]jwtrevoke.Rotation{},
		attempts:    map[attemptKey]int64{},
	}
}

// ErrClosed is returned by every method of a closed store.
var ErrClosed = errors.New("memory store is closed")

// Close makes every later call fail with ErrClosed (and forgets nothing,
// though nothing can read it any more).
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	return nil
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

func cloneUser(u jwtrevoke.User) *jwtrevoke.User {
	u.LastLogin = cloneTime(u.LastLogin)
	return &u
}

// CreateUser implements jwtrevoke.Store.
func (s *Store) CreateUser(ctx context.Context, u *jwtrevoke.User) error {
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	defer s.mu.Unlock()
	for _, o := range s.users {
		if strings.EqualFold(o.Email, u.Email) {
			return fmt.Errorf("create user %q: %w", u.Email, jwtrevoke.ErrExists)
		}
	}
	s.nextUser++
	u.ID = s.nextUser
	s.users[u.ID] = *cloneUser(*u)
	return nil
}

// UserByID implements jwtrevoke.Store.
func (s *Store) UserByID(ctx context.Context, id int64) (*jwtrevoke.User, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("user by id: %w", err)
	}
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return nil, fmt.Errorf("user %d: %w", id, jwtrevoke.ErrNotFound)
	}
	return cloneUser(u), nil
}

// UserByEmail implements jwtrevoke.Store.
func (s *Store) UserByEmail(ctx context.Context, email string) (*jwtrevoke.User, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("user by email: %w", err)
	}
	defer s.mu.Unlock()
	for _, u := range s.users {
		if strings.EqualFold(u.Email, email) {
			return cloneUser(u), nil
		}
	}
	return nil, fmt.Errorf("user %q: %w", email, jwtrevoke.ErrNotFound)
}

// UpdateUser implements jwtrevoke.Store.
func (s *Store) UpdateUser(ctx context.Context, u *jwtrevoke.User) error {
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	defer s.mu.Unlock()
	old, ok := s.users[u.ID]
	if !ok {
		return fmt.Errorf("update user %d: %w", u.ID, jwtrevoke.ErrNotFound)
	}
	old.PasswordHash = u.PasswordHash
	old.IsActive = u.IsActive
	old.IsStaff = u.IsStaff
	old.IsSuperuser = u.IsSuperuser
	old.LastLogin = cloneTime(u.LastLogin)
	s.users[u.ID] = old
	return nil
}

func (s *Store) userRef(id *int64) *int64 {
	if id == nil {
		return nil
	}
	if _, ok := s.users[*id]; !ok {
		return nil
	}
	v := *id
	return &v
}

// getOrCreate returns the outstanding row for t.JTI, creating it if needed.
// The caller holds the lock.
func (s *Store) getOrCreate(t jwtrevoke.OutstandingToken) *jwtrevoke.OutstandingToken {
	if o, ok := s.outstanding[t.JTI]; ok {
		return o
	}
	s.nextToken++
	o := t
	o.ID = s.nextToken
	o.UserID = s.userRef(t.UserID)
	o.CreatedAt = cloneTime(t.CreatedAt)
	o.BlacklistedAt = nil
	s.outstanding[t.JTI] = &o
	return &o
}

// IssueSession implements jwtrevoke.Store.
func (s *Store) IssueSession(ctx context.Context, t jwtrevoke.OutstandingToken, sess jwtrevoke.Session) error {
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("issue session: %w", err)
	}
	defer s.mu.Unlock()
	if _, ok := s.sessions[sess.ID]; ok {
		return fmt.Errorf("issue session %s: %w", sess.ID, jwtrevoke.ErrExists)
	}
	if _, ok := s.outstanding[t.JTI]; ok {
		return fmt.Errorf("issue session: token %s: %w", t.JTI, jwtrevoke.ErrExists)
	}
	s.getOrCreate(t)
	c := sess
	c.RevokedAt = cloneTime(sess.RevokedAt)
	s.sessions[sess.ID] = &c
	return nil
}

// IsBlacklisted implements jwtrevoke.Store.
func (s *Store) IsBlacklisted(ctx context.Context, jti string) (bool, error) {
	if err := s.lock(ctx); err != nil {
		return false, fmt.Errorf("is blacklisted: %w", err)
	}
	defer s.mu.Unlock()
	o, ok := s.outstanding[jti]
	return ok && o.BlacklistedAt != nil, nil
}

// record appends revs (the caller holds the lock) and returns them with Seq set.
func (s *Store) record(now time.Time, revs []jwtrevoke.Revocation) []jwtrevoke.Revocation {
	out := make([]jwtrevoke.Revocation, 0, len(revs))
	for _, r := range revs {
		if r.SessionID != "" {
			if sess, ok := s.sessions[r.SessionID]; ok {
				if sess.ExpiresAt.After(r.ExpiresAt) {
					r.ExpiresAt = sess.ExpiresAt
				}
				if sess.RevokedAt == nil {
					t := now
					sess.RevokedAt = &t
				}
			}
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		s.nextSeq++
		r.Seq = s.nextSeq
		s.revocations = append(s.revocations, r)
		if !r.AuditUntil.IsZero() {
			s.audit = append(s.audit, r)
		}
		out = append(out, r)
	}
	return out
}

// Blacklist implements jwtrevoke.Store.
func (s *Store) Blacklist(ctx context.Context, t jwtrevoke.OutstandingToken, revs ...jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("blacklist token: %w", err)
	}
	defer s.mu.Unlock()
	if o, ok := s.outstanding[t.JTI]; ok && o.BlacklistedAt != nil {
		return nil, fmt.Errorf("blacklist token %s: %w", t.JTI, jwtrevoke.ErrBlacklisted)
	}
	now := time.Now().UTC()
	o := s.getOrCreate(t)
	o.BlacklistedAt = &now
	return s.record(now, revs), nil
}

// Rotate implements jwtrevoke.Store.
func (s *Store) Rotate(ctx context.Context, r jwtrevoke.Rotation) (jwtrevoke.Rotation, error) {
	if err := s.lock(ctx); err != nil {
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
	}
	defer s.mu.Unlock()
	now := time.Now().UTC()
	if rec, ok := s.rotations[r.Old.JTI]; ok {
		return rec, fmt.Errorf("rotate token %s: %w", r.Old.JTI, jwtrevoke.ErrRotated)
	}
	if r.BlacklistOld {
		if o, ok := s.outstanding[r.Old.JTI]; ok && o.BlacklistedAt != nil {
			return jwtrevoke.Rotation{}, fmt.Errorf("rotate token %s: %w", r.Old.JTI, jwtrevoke.ErrBlacklisted)
		}
	}
	if _, ok := s.outstanding[r.Next.JTI]; ok {
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: new token %s: %w", r.Next.JTI, jwtrevoke.ErrExists)
	}
	if r.BlacklistOld {
		o := s.getOrCreate(r.Old)
		o.BlacklistedAt = &now
	}
	s.getOrCreate(r.Next)
	if sess, ok := s.sessions[r.SessionID]; ok && r.SessionExpires.After(sess.ExpiresAt) {
		sess.ExpiresAt = r.SessionExpires
	}
	r.RotatedAt = r.RotatedAt.UTC()
	s.rotations[r.Old.JTI] = r
	return r, nil
}

// RevokeSession implements jwtrevoke.Store.
func (s *Store) RevokeSession(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("revoke session: %w", err)
	}
	defer s.mu.Unlock()
	return s.record(time.Now().UTC(), []jwtrevoke.Revocation{rev}), nil
}

// RevokeUser implements jwtrevoke.Store.
func (s *Store) RevokeUser(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	defer s.mu.Unlock()
	now := time.Now().UTC()
	for _, o := range s.outstanding {
		if o.UserID != nil && *o.UserID == rev.UserID && o.BlacklistedAt == nil && o.ExpiresAt.After(now) {
			t := now
			o.BlacklistedAt = &t
		}
	}
	revs := []jwtrevoke.Revocation{rev}
	var ids []string
	for id, sess := range s.sessions {
		if sess.UserID == rev.UserID && sess.RevokedAt == nil && sess.ExpiresAt.After(now) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		revs = append(revs, jwtrevoke.Revocation{
			SessionID: id, UserID: rev.UserID, ExpiresAt: s.sessions[id].ExpiresAt,
			Reason: rev.Reason, CreatedAt: rev.CreatedAt,
		})
	}
	return s.record(now, revs), nil
}

// Revocations implements jwtrevoke.Store.
func (s *Store) Revocations(ctx context.Context, afterSeq int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	defer s.mu.Unlock()
	// s.revocations is in Seq order (appended as numbered).
	after := s.revocations[sort.Search(len(s.revocations), func(i int) bool { return s.revocations[i].Seq > afterSeq }):]
	if len(after) == 0 {
		return nil, nil
	}
	out := make([]jwtrevoke.Revocation, 0, len(after))
	for _, r := range after {
		if r.ExpiresAt.After(now) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Sessions implements jwtrevoke.Store.
func (s *Store) Sessions(ctx context.Context, userID int64, now time.Time) ([]jwtrevoke.Session, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer s.mu.Unlock()
	var out []jwtrevoke.Session
	for _, sess := range s.sessions {
		if sess.UserID == userID && sess.ExpiresAt.After(now) {
			c := *sess
			c.RevokedAt = cloneTime(sess.RevokedAt)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

func cloneID(id *int64) *int64 {
	if id == nil {
		return nil
	}
	v := *id
	return &v
}

// FlushExpired implements jwtrevoke.Store: each batch holds the lock once,
// deleting at most opts.Batch rows.
func (s *Store) FlushExpired(ctx context.Context, now time.Time, opts jwtrevoke.FlushOptions) (jwtrevoke.FlushResult, error) {
	var res jwtrevoke.FlushResult
	batch := storekit.BatchSize(opts)
	for {
		if err := s.lock(ctx); err != nil {
			return res, fmt.Errorf("flush expired: %w", err)
		}
		n := s.expire(now, batch, true)
		s.mu.Unlock()
		rows := n.Outstanding + n.Sessions + n.Revocations + n.Rotations + n.Audit + n.Attempts
		if rows == 0 {
			return res, nil
		}
		res = storekit.Add(res, n)
		storekit.Report(opts, res)
		if rows < int64(batch) {
			return res, nil
		}
	}
}

// expire counts, and deletes when del is set, what has expired at now: at
// most limit rows (blacklistings go with their tokens uncounted), all of
// them when limit is 0. The caller holds the lock.
func (s *Store) expire(now time.Time, limit int, del bool) jwtrevoke.FlushResult {
	var res jwtrevoke.FlushResult
	unlimited := limit == 0
	take := func() bool {
		if unlimited {
			return true
		}
		if limit == 0 {
			return false
		}
		limit--
		return true
	}
	sweepMap(s.outstanding, func(_ string, o *jwtrevoke.OutstandingToken) bool {
		if o.ExpiresAt.After(now) || !take() {
			return false
		}
		if o.BlacklistedAt != nil {
			res.Blacklisted++
		}
		res.Outstanding++
		return del
	})
	sweepMap(s.sessions, func(_ string, sess *jwtrevoke.Session) bool {
		return !sess.ExpiresAt.After(now) && count(take, &res.Sessions) && del
	})
	s.revocations = sweep(s.revocations, func(r jwtrevoke.Revocation) bool {
		return !r.ExpiresAt.After(now) && count(take, &res.Revocations) && del
	})
	sweepMap(s.rotations, func(_ string, r jwtrevoke.Rotation) bool {
		return !r.Old.ExpiresAt.After(now) && count(take, &res.Rotations) && del
	})
	s.audit = sweep(s.audit, func(r jwtrevoke.Revocation) bool {
		return !r.AuditUntil.After(now) && count(take, &res.Audit) && del
	})
	sweepMap(s.attempts, func(k attemptKey, _ int64) bool {
		return !k.end.After(now) && count(take, &res.Attempts) && del
	})
	return res
}

// count adds one to *n when take allows another row.
func count(take func() bool, n *int64) bool {
	if !take() {
		return false
	}
	*n++
	return true
}

// sweepMap deletes the entries of m for which drop is true.
func sweepMap[K comparable, V any](m map[K]V, drop func(K, V) bool) {
	for k, v := range m {
		if drop(k, v) {
			delete(m, k)
		}
	}
}

// sweep returns rows without those for which drop is true, in order.
func sweep[T any](rows []T, drop func(T) bool) []T {
	kept := rows[:0]
	for _, r := range rows {
		if !drop(r) {
			kept = append(kept, r)
		}
	}
	return kept
}

// Setting implements jwtrevoke.Store.
func (s *Store) Setting(ctx context.Context, key, value string) (string, error) {
	if err := s.lock(ctx); err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	defer s.mu.Unlock()
	if v, ok := s.settings[key]; ok {
		return v, nil
	}
	s.settings[key] = value
	return value, nil
}

// attemptKey is one counter of CountAttempt: a key in one window.
type attemptKey struct {
	key        string
	start, end time.Time
}

// Audit implements jwtrevoke.Store.
func (s *Store) Audit(ctx context.Context, userID int64, limit int) ([]jwtrevoke.Revocation, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer s.mu.Unlock()
	var out []jwtrevoke.Revocation
	for i := len(s.audit) - 1; i >= 0; i-- {
		if s.audit[i].UserID == userID {
			out = append(out, s.audit[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CountAttempt implements jwtrevoke.Store.
func (s *Store) CountAttempt(ctx context.Context, key string, windowStart time.Time, window time.Duration, delta int64) (int64, error) {
	if err := s.lock(ctx); err != nil {
		return 0, fmt.Errorf("count attempt: %w", err)
	}
	defer s.mu.Unlock()
	k := attemptKey{key: key, start: windowStart.UTC(), end: windowStart.Add(window).UTC()}
	s.attempts[k] += delta
	return s.attempts[k], nil
}
