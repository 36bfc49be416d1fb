package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jwtrevoke/jwtrevoke"
)

// Store operations, as the operation label names them.
const (
	opCreateUser = iota
	opUserByID
	opUserByEmail
	opUpdateUser
	opIssueSession
	opIsBlacklisted
	opBlacklist
	opRotate
	opRevokeSession
	opRevokeUser
	opRevocations
	opSessions
	opOutstandingTokens
	opStats
	opFlushExpired
	opAudit
	opCountAttempt
	opSetting
	opRevocationsPage
	opBlacklistedAfter
	numOps
)

var opNames = [numOps]string{
	"create_user", "user_by_id", "user_by_email", "update_user", "issue_session", "is_blacklisted",
	"blacklist", "rotate", "revoke_session", "revoke_user", "revocations", "sessions",
	"outstanding_tokens", "stats", "flush_expired", "audit", "count_attempt", "setting",
	"revocations_page", "blacklisted_after",
}

type storeMetrics struct {
	duration [numOps]prometheus.Observer
	errors   [numOps]prometheus.Counter
}

// storeBuckets span an in-memory lookup to a slow transaction.
var storeBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

func newStoreMetrics(reg prometheus.Registerer) *storeMetrics {
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "jwtrevoke_store_operation_duration_seconds",
		Help: "Duration of store operations, by operation.", Buckets: storeBuckets}, []string{"operation"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_store_errors_total",
		Help: "Store operations that failed (not counting answers such as not found or already blacklisted), by operation."}, []string{"operation"})
	reg.MustRegister(dur, errs)
	s := &storeMetrics{}
	for i, name := range opNames {
		s.duration[i] = dur.WithLabelValues(name)
		s.errors[i] = errs.WithLabelValues(name)
	}
	return s
}

// answer reports whether err is one of the store's answers rather than a
// failure.
func answer(err error) bool {
	return errors.Is(err, jwtrevoke.ErrNotFound) || errors.Is(err, jwtrevoke.ErrExists) ||
		errors.Is(err, jwtrevoke.ErrBlacklisted) || errors.Is(err, jwtrevoke.ErrRotated)
}

// instrumented times every operation of a Store.
type instrumented struct {
	inner jwtrevoke.Store
	m     *storeMetrics
}

// Store returns st with the duration of each operation recorded, and its
// failures counted, by operation. When st (or the token store of a
// SplitStore, or a store it wraps) pages its revocations or has a
// blacklist feed, the result does too, timed as well. Other optional
// interfaces (the push channel, migrations, a SplitStore's Tokens) are not
// those of the result: the service finds them through its Unwrap method.
func (m *Metrics) Store(st jwtrevoke.Store) jwtrevoke.Store {
	in := &instrumented{inner: st, m: m.store}
	pager, paged := find[jwtrevoke.RevocationPager](st)
	feed, fed := find[jwtrevoke.BlacklistFeed](st)
	switch {
	case paged && fed:
		return &instrumentedPagerFeed{instrumentedPager{in, pager}, feed}
	case paged:
		return &instrumentedPager{in, pager}
	case fed:
		return &instrumentedFeed{in, feed}
	}
	return in
}

// find returns st as a T, or the first store it wraps that is one (a
// SplitStore's token store, a decorator's Unwrap), as the service looks
// for its optional interfaces.
func find[T any](st jwtrevoke.TokenStore) (T, bool) {
	for st != nil {
		if v, ok := st.(T); ok {
			return v, true
		}
		switch w := st.(type) {
		case interface{ Tokens() jwtrevoke.TokenStore }:
			st = w.Tokens()
		case interface{ Unwrap() jwtrevoke.Store }:
			st = w.Unwrap()
		default:
			st = nil
		}
	}
	var none T
	return none, false
}

// instrumentedPager is a store that pages its revocations.
type instrumentedPager struct {
	*instrumented
	pager jwtrevoke.RevocationPager
}

// RevocationsPage implements jwtrevoke.RevocationPager.
func (s *instrumentedPager) RevocationsPage(ctx context.Context, afterSeq int64, now time.Time, limit int) ([]jwtrevoke.Revocation, int64, error) {
	start := time.Now()
	revs, next, err := s.pager.RevocationsPage(ctx, afterSeq, now, limit)
	s.done(opRevocationsPage, start, err)
	return revs, next, err
}

// instrumentedFeed is a store with a blacklist feed.
type instrumentedFeed struct {
	*instrumented
	feed jwtrevoke.BlacklistFeed
}

// BlacklistedAfter implements jwtrevoke.BlacklistFeed.
func (s *instrumentedFeed) BlacklistedAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]jwtrevoke.BlacklistEntry, error) {
	return s.blacklistedAfter(ctx, s.feed, afterID, now, limit)
}

// instrumentedPagerFeed is a store with both.
type instrumentedPagerFeed struct {
	instrumentedPager
	feed jwtrevoke.BlacklistFeed
}

// BlacklistedAfter implements jwtrevoke.BlacklistFeed.
func (s *instrumentedPagerFeed) BlacklistedAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]jwtrevoke.BlacklistEntry, error) {
	return s.blacklistedAfter(ctx, s.feed, afterID, now, limit)
}

func (s *instrumented) blacklistedAfter(ctx context.Context, f jwtrevoke.BlacklistFeed, afterID int64, now time.Time, limit int) ([]jwtrevoke.BlacklistEntry, error) {
	return measure(s, opBlacklistedAfter, func() ([]jwtrevoke.BlacklistEntry, error) { return f.BlacklistedAfter(ctx, afterID, now, limit) })
}

// Unwrap returns the store it instruments.
func (s *instrumented) Unwrap() jwtrevoke.Store { return s.inner }

func (s *instrumented) done(op int, start time.Time, err error) {
	s.m.duration[op].Observe(time.Since(start).Seconds())
	if err != nil && !answer(err) {
		s.m.errors[op].Inc()
	}
}

// measure runs one operation of s, timing it as op.
func measure[T any](s *instrumented, op int, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	s.done(op, start, err)
	return v, err
}

func (s *instrumented) CreateUser(ctx context.Context, u *jwtrevoke.User) error {
	_, err := measure(s, opCreateUser, func() (struct{}, error) { return struct{}{}, s.inner.CreateUser(ctx, u) })
	return err
}

func (s *instrumented) UserByID(ctx context.Context, id int64) (*jwtrevoke.User, error) {
	return measure(s, opUserByID, func() (*jwtrevoke.User, error) { return s.inner.UserByID(ctx, id) })
}

func (s *instrumented) UserByEmail(ctx context.Context, email string) (*jwtrevoke.User, error) {
	return measure(s, opUserByEmail, func() (*jwtrevoke.User, error) { return s.inner.UserByEmail(ctx, email) })
}

func (s *instrumented) UpdateUser(ctx context.Context, u *jwtrevoke.User) error {
	_, err := measure(s, opUpdateUser, func() (struct{}, error) { return struct{}{}, s.inner.UpdateUser(ctx, u) })
	return err
}

func (s *instrumented) IssueSession(ctx context.Context, t jwtrevoke.OutstandingToken, ses jwtrevoke.Session) error {
	_, err := measure(s, opIssueSession, func() (struct{}, error) { return struct{}{}, s.inner.IssueSession(ctx, t, ses) })
	return err
}

func (s *instrumented) IsBlacklisted(ctx context.Context, jti string) (bool, error) {
	return measure(s, opIsBlacklisted, func() (bool, error) { return s.inner.IsBlacklisted(ctx, jti) })
}

func (s *instrumented) Blacklist(ctx context.Context, t jwtrevoke.OutstandingToken, revs ...jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	return measure(s, opBlacklist, func() ([]jwtrevoke.Revocation, error) { return s.inner.Blacklist(ctx, t, revs...) })
}

func (s *instrumented) Rotate(ctx context.Context, r jwtrevoke.Rotation) (jwtrevoke.Rotation, error) {
	return measure(s, opRotate, func() (jwtrevoke.Rotation, error) { return s.inner.Rotate(ctx, r) })
}

func (s *instrumented) RevokeSession(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	return measure(s, opRevokeSession, func() ([]jwtrevoke.Revocation, error) { return s.inner.RevokeSession(ctx, rev) })
}

func (s *instrumented) RevokeUser(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	return measure(s, opRevokeUser, func() ([]jwtrevoke.Revocation, error) { return s.inner.RevokeUser(ctx, rev) })
}

func (s *instrumented) Revocations(ctx context.Context, afterSeq int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	return measure(s, opRevocations, func() ([]jwtrevoke.Revocation, error) { return s.inner.Revocations(ctx, afterSeq, now) })
}

func (s *instrumented) Sessions(ctx context.Context, userID int64, now time.Time) ([]jwtrevoke.Session, error) {
	return measure(s, opSessions, func() ([]jwtrevoke.Session, error) { return s.inner.Sessions(ctx, userID, now) })
}

func (s *instrumented) OutstandingTokens(ctx context.Context, q jwtrevoke.TokenQuery) ([]jwtrevoke.OutstandingToken, error) {
	return measure(s, opOutstandingTokens, func() ([]jwtrevoke.OutstandingToken, error) { return s.inner.OutstandingTokens(ctx, q) })
}

func (s *instrumented) Stats(ctx context.Context, now time.Time) (jwtrevoke.Stats, error) {
	return measure(s, opStats, func() (jwtrevoke.Stats, error) { return s.inner.Stats(ctx, now) })
}

func (s *instrumented) FlushExpired(ctx context.Context, now time.Time, opts jwtrevoke.FlushOptions) (jwtrevoke.FlushResult, error) {
	return measure(s, opFlushExpired, func() (jwtrevoke.FlushResult, error) { return s.inner.FlushExpired(ctx, now, opts) })
}

func (s *instrumented) Audit(ctx context.Context, userID int64, limit int) ([]jwtrevoke.Revocation, error) {
	return measure(s, opAudit, func() ([]jwtrevoke.Revocation, error) { return s.inner.Audit(ctx, userID, limit) })
}

func (s *instrumented) CountAttempt(ctx context.Context, key string, windowStart time.Time, window time.Duration, delta int64) (int64, error) {
	return measure(s, opCountAttempt, func() (int64, error) { return s.inner.CountAttempt(ctx, key, windowStart, window, delta) })
}

func (s *instrumented) Setting(ctx context.Context, key, value string) (string, error) {
	return measure(s, opSetting, func() (string, error) { return s.inner.Setting(ctx, key, value) })
}

// Close closes the store it instruments.
func (s *instrumented) Close() error { return s.inner.Close() }
