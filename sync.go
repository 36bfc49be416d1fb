package jwtrevoke

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/denylist"
)

// Notifier is a store's push channel for revocations (PostgreSQL
// LISTEN/NOTIFY, Redis pub/sub). Stores without one are polled.
type Notifier interface {
	// Notify calls poke soon after any instance records a revocation,
	// until ctx is done (it then returns nil) or the channel breaks (it
	// returns the error; the caller resynchronises from the store and
	// calls it again).
	Notify(ctx context.Context, poke func()) error
}

// NotifierOf returns the push channel of st, or of the store it wraps
// (see storeAs).
func NotifierOf(st Store) (Notifier, bool) { return storeAs[Notifier](st) }

// storeAs returns st as a T, or else the first store it wraps that is a
// T: a *SplitStore wraps its token store (Tokens), and a decorator (for
// example one that measures each call) wraps the store its Unwrap method
// returns. The optional interfaces the service looks for (Notifier,
// BlacklistFeed, RevocationPager, LoggedBlacklist) are found through any
// such layers.
func storeAs[T any](st TokenStore) (T, bool) {
	for st != nil {
		if v, ok := st.(T); ok {
			return v, true
		}
		switch w := st.(type) {
		case interface{ Tokens() TokenStore }:
			st = w.Tokens()
		case interface{ Unwrap() Store }:
			st = w.Unwrap()
		default:
			st = nil
		}
	}
	var none T
	return none, false
}

// BlacklistEntry is one row of SimpleJWT's blacklist (a blacklisted
// outstanding token), as a BlacklistFeed returns it.
type BlacklistEntry struct {
	ID            int64 // the blacklisted row's id, increasing with each insert
	JTI           string
	ExpiresAt     time.Time // the token's expiry
	BlacklistedAt time.Time
	// Rotated is set when the store holds the Rotation that blacklisted
	// the token (ROTATE_REFRESH_TOKENS with BLACKLIST_AFTER_ROTATION).
	// Such a token is kept apart in memory, as the rotation revocations of
	// a LoggedBlacklist: a rotation must still reach the store with it, to
	// answer a retry within REFRESH_REUSE_GRACE with the same pair and to
	// revoke the session on any other reuse.
	Rotated bool
}

// BlacklistFeed is a token store whose blacklist others may write too:
// SimpleJWT sharing the database (its token_blacklist tables), an
// operator's SQL. Maintain loads that blacklist into memory as it loads
// revocations, so that refresh, verify, blacklist and logout need not
// ask the store whether a token is blacklisted while the loaded view is
// current (at most RevocationMaxStaleness old); a blacklist written by
// others is then seen within RevocationPollInterval. Without Maintain,
// or with an out-of-date view, they ask the store (IsBlacklisted) as
// before.
type BlacklistFeed interface {
	// BlacklistedAfter returns, in ID order, at most limit entries with
	// ID > afterID of tokens unexpired at now.
	BlacklistedAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]BlacklistEntry, error)
}

// FeedOf returns the blacklist feed of st, or of the store it wraps (see
// storeAs).
func FeedOf(st Store) (BlacklistFeed, bool) { return storeAs[BlacklistFeed](st) }

// ReasonRotated is the Reason of the token revocation that a store whose
// blacklist is logged (LoggedBlacklist) records with each rotation that
// blacklists the old refresh token: JTI is the old token's, ExpiresAt its
// expiry.
const ReasonRotated = "rotated"

// LoggedBlacklist is a token store that records every blacklisting in
// its revocation log, in the same atomic write (or, without transactions,
// before the blacklisting counts for IsBlacklisted): Rotate a token
// revocation of the old jti (ReasonRotated), Blacklist the revocations
// its caller gives (the Service always gives the token's session
// revocation), and RevokeUser the user's cut-off and a revocation of each
// of its live sessions (and of any token those may miss). A token on its
// blacklist is then refused by the revocations
// Sync loads, so that, as with a BlacklistFeed, refresh, verify,
// blacklist and logout need not ask the store (IsBlacklisted) while
// Maintain keeps the loaded view current (at most RevocationMaxStaleness
// old); otherwise they ask it as before.
//
// The token revocations of rotations are kept in memory apart from the
// others, and consulted only where IsBlacklisted would be asked: a
// rotation with ROTATE_REFRESH_TOKENS must still reach the store with a
// rotated token, which answers a retry within REFRESH_REUSE_GRACE with the
// same pair and revokes the session on any later reuse. Each costs memory
// (about as much as any revocation) until the old token expires.
type LoggedBlacklist interface {
	// BlacklistLogged reports whether the guarantee holds for all the
	// store holds: false until blacklistings written before the store kept
	// it (by an earlier version) have been recorded in the log too.
	BlacklistLogged() bool
}

// rotatedToken reports whether r is the token revocation of a rotation
// (see LoggedBlacklist).
func rotatedToken(r *Revocation) bool {
	return r.Reason == ReasonRotated && r.JTI != "" && r.SessionID == "" && r.NotBefore.IsZero()
}

// RevocationPager is a token store that can return Revocations a page at
// a time, so that loading a million revocations at start holds one page
// in memory, not all of them.
type RevocationPager interface {
	// RevocationsPage is Revocations from a page of at most limit
	// revocations (limit > 0) with Seq > afterSeq, expired ones included
	// in the count; next is the Seq to read on after, 0 when that page
	// was the last.
	RevocationsPage(ctx context.Context, afterSeq int64, now time.Time, limit int) (revs []Revocation, next int64, err error)
}

// RevocationRanger is a RevocationPager that can also read the
// revocations of a range of Seqs. A long load (a restart with a million
// revocations) then reads several ranges at once, each on a connection of
// its own, instead of one page after another: the store's reading and
// decoding, most of the work, is spread over the cores.
type RevocationRanger interface {
	RevocationPager
	// LastRevocationSeq returns the highest Seq recorded so far, 0 when
	// there is none.
	LastRevocationSeq(ctx context.Context) (int64, error)
	// RevocationsRange returns the revocations with from < Seq <= to
	// that have not expired at now, in Seq order.
	RevocationsRange(ctx context.Context, from, to int64, now time.Time) ([]Revocation, error)
}

// revocationPage is how many revocations one page of a RevocationPager
// holds, and how many Seqs one range of a RevocationRanger spans.
var revocationPage = 10_000

// rangeReaders bounds the ranges of a RevocationRanger read ahead of the
// one being applied (each of them by a goroutine of its own).
var rangeReaders = 2

// feedPage is how many blacklist entries one query of the feed reads.
const feedPage = 10_000

// gapTimeout is how long a hole in the revocation sequence is waited for:
// a transaction that took a sequence number may commit after one that
// took a later number, or roll back and leave the hole for ever.
const gapTimeout = 10 * time.Second

// syncState is how far this instance has read the revocation log.
type syncState struct {
	mu sync.Mutex
	// low: every revocation with Seq <= low is loaded, or its hole timed
	// out. Sync reads from there, so late commits are not missed.
	low     int64
	maxSeen int64
	// feedLow is low for the BlacklistFeed's ids.
	feedLow int64
	// synced is set by the first successful Sync: the load at start,
	// the only one that may be long enough to be read in ranges.
	synced bool
	fresh  atomic.Int64 // Unix nanoseconds of the last successful Sync
	// blacklistLive is set while Maintain keeps the whole blacklist
	// loaded: the store has a BlacklistFeed, or its LoggedBlacklist holds.
	blacklistLive atomic.Bool
	// rotated holds the token revocations of rotations (ReasonRotated),
	// which revoked must not see (see LoggedBlacklist); nil until the
	// first is loaded.
	rotated atomic.Pointer[denylist.Set]
	stale   atomic.Bool // set by Maintain in fail-closed mode
}

// Sync loads into memory the revocations recorded in the store (by this
// or any other instance) that it has not loaded yet, and returns how many
// were new.
func (s *Service) Sync(ctx context.Context) (int, error) {
	st := &s.sync
	st.mu.Lock()
	defer st.mu.Unlock()
	now := s.now()
	n, holes := 0, false
	err := s.revocationPages(ctx, st.low, !st.synced, now, func(revs []Revocation) {
		s.applyLoaded(s.keepRotated(revs), s.now())
		for _, r := range revs { // in Seq order
			if r.Seq > st.maxSeen {
				n++
				st.maxSeen = r.Seq
			}
			if holes || r.Seq != st.low+1 && now.Sub(r.CreatedAt) < gapTimeout {
				holes = true // a hole that may still fill
			} else {
				st.low = r.Seq
			}
		}
	})
	if err != nil {
		return 0, err
	}
	if f, ok := FeedOf(s.store); ok {
		if err := s.syncFeed(ctx, f, now); err != nil {
			return 0, err
		}
	}
	st.synced = true
	st.fresh.Store(now.UnixNano())
	return n, nil
}

// revocationPages calls apply with the revocations with Seq > after that
// have not expired at now, in Seq order: all at once, or page by page
// from a RevocationPager. While apply works on a full page, the next one
// is read (a long load, at start: the store's reading and decoding then
// overlap with building the revocation set); at the first load, a
// RevocationRanger's long log is read in ranges, several at once (see
// revocationRanges) when first is set.
func (s *Service) revocationPages(ctx context.Context, after int64, first bool, now time.Time, apply func([]Revocation)) error {
	pager, paged := storeAs[RevocationPager](s.store)
	if !paged {
		revs, err := s.store.Revocations(ctx, after, now)
		if err != nil {
			return err
		}
		apply(revs)
		return nil
	}
	// Only the first load (at start) can be long enough for ranges: the
	// polls after it (after == 0 too while the log is empty) would pay a
	// LastRevocationSeq each for nothing.
	if rg, ok := storeAs[RevocationRanger](s.store); ok && first {
		var err error
		if after, err = s.revocationRanges(ctx, rg, after, now, apply); err != nil {
			return err
		}
	}
	revs, next, err := pager.RevocationsPage(ctx, after, now, revocationPage)
	if err != nil {
		return err
	}
	type page struct {
		revs []Revocation
		next int64
		err  error
	}
	ahead := make(chan page, 1)
	for next != 0 {
		go func(after int64) {
			revs, next, err := pager.RevocationsPage(ctx, after, now, revocationPage)
			ahead <- page{revs, next, err}
		}(next)
		apply(revs)
		p := <-ahead // received before returning: no reader outlives the call
		if p.err != nil {
			return p.err
		}
		revs, next = p.revs, p.next
	}
	apply(revs)
	return nil
}

// revocationRanges reads, when more than a few pages of Seqs were
// recorded after after, the revocations up to the last Seq recorded, in
// ranges of revocationPage Seqs, up to rangeReaders+1 of them at once,
// and calls apply with each range's in Seq order. It returns the Seq it
// has read up to: after itself when it read nothing, the caller reading
// on page by page from there (what was recorded meanwhile). Every reader
// has returned when it returns.
func (s *Service) revocationRanges(ctx context.Context, rg RevocationRanger, after int64, now time.Time, apply func([]Revocation)) (int64, error) {
	last, err := rg.LastRevocationSeq(ctx)
	if err != nil {
		return after, err
	}
	span := int64(revocationPage)
	if last-after <= 2*span {
		return after, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		revs []Revocation
		err  error
	}
	// Each range's result arrives on a channel of its own, queued in Seq
	// order: the queue's capacity bounds the reads ahead.
	queue := make(chan chan result, rangeReaders)
	go func() {
		defer close(queue)
		for lo := after; lo < last; lo += span {
			res := make(chan result, 1)
			select {
			case queue <- res:
			case <-ctx.Done():
				return
			}
			go func(lo, hi int64) {
				revs, err := rg.RevocationsRange(ctx, lo, hi, now)
				res <- result{revs, err}
			}(lo, min(lo+span, last))
		}
	}()
	var first error
	for res := range queue {
		r := <-res
		switch {
		case first != nil:
		case r.err != nil:
			first = r.err
			cancel()
		default:
			apply(r.revs)
		}
	}
	if first != nil {
		return after, first
	}
	return last, nil
}

// keepRotated moves the token revocations of rotations among revs to
// st.rotated and returns the others (revs itself when there are none);
// st.mu is held.
func (s *Service) keepRotated(revs []Revocation) []Revocation {
	i := 0
	for i < len(revs) && !rotatedToken(&revs[i]) {
		i++
	}
	if i == len(revs) {
		return revs
	}
	set := s.rotatedSet()
	rest := append(make([]Revocation, 0, len(revs)-1), revs[:i]...)
	for _, r := range revs[i:] {
		if rotatedToken(&r) {
			set.AddToken(r.JTI, r.ExpiresAt.Unix())
		} else {
			rest = append(rest, r)
		}
	}
	return rest
}

// rotatedSet returns st.rotated, made on first use (by Sync, or by a
// rotation of this instance: see noteRotated).
func (s *Service) rotatedSet() *denylist.Set {
	if set := s.sync.rotated.Load(); set != nil {
		return set
	}
	s.sync.rotated.CompareAndSwap(nil, denylist.New())
	return s.sync.rotated.Load()
}

// noteRotated adds to the rotated set the refresh token c that a
// rotation of this instance has just blacklisted: this instance refuses
// it from memory at once, rather than from its next Sync (the other
// instances, from theirs).
func (s *Service) noteRotated(c *Claims) {
	s.rotatedSet().AddToken(c.JTI, c.ExpiresAt)
}

// syncFeed loads the blacklist entries of f not loaded yet as token
// revocations; st.mu is held.
func (s *Service) syncFeed(ctx context.Context, f BlacklistFeed, now time.Time) error {
	st := &s.sync
	after, holes := st.feedLow, false
	for {
		es, err := f.BlacklistedAfter(ctx, after, now, feedPage)
		if err != nil {
			return fmt.Errorf("load blacklist: %w", err)
		}
		for _, e := range es {
			if e.Rotated {
				s.rotatedSet().AddToken(e.JTI, e.ExpiresAt.Unix())
			} else {
				s.deny.AddToken(e.JTI, e.ExpiresAt.Unix())
			}
			// As Sync's low: ids are taken before commit, so a later id
			// may commit first; a hole younger than gapTimeout is read
			// again next time. (Expired tokens are not returned, so their
			// ids read as holes too, old ones at once.)
			if !holes && (e.ID == st.feedLow+1 || now.Sub(e.BlacklistedAt) >= gapTimeout) {
				st.feedLow = e.ID
			} else {
				holes = true
			}
			after = e.ID
		}
		if len(es) < feedPage {
			return nil
		}
	}
}

// blacklistCurrent reports whether Maintain keeps the store's whole
// blacklist in memory (a BlacklistFeed, or a LoggedBlacklist's revocation
// log) and the last successful Sync began at most RevocationMaxStaleness
// ago.
func (s *Service) blacklistCurrent() bool {
	return s.sync.blacklistLive.Load() &&
		s.now().Sub(time.Unix(0, s.sync.fresh.Load())) <= s.settings.RevocationMaxStaleness
}

// storeBlacklisted reports whether the store's blacklist holds jti: it
// asks the store unless the loaded view is current (blacklistCurrent),
// where revoked has already answered for every blacklisted token but the
// rotated ones, which the rotated set holds. A store error is returned,
// for the caller to refuse the token.
func (s *Service) storeBlacklisted(ctx context.Context, jti string) (bool, error) {
	if s.blacklistCurrent() {
		set := s.sync.rotated.Load()
		return set != nil && set.HoldsToken(jti), nil
	}
	black, err := s.store.IsBlacklisted(ctx, jti)
	if err != nil {
		return false, fmt.Errorf("check blacklist: %w", err)
	}
	return black, nil
}

// Maintain keeps this instance's revocations current until ctx is done:
// it listens to the store's push channel if it has one, loads new
// revocations on every push and every RevocationPollInterval, forgets
// expired ones every minute, and, in fail-closed mode, refuses
// authentication (ErrRevocationsStale) while the last successful load is
// older than RevocationMaxStaleness. Errors are logged, not returned.
func (s *Service) Maintain(ctx context.Context) {
	if n, ok := NotifierOf(s.store); ok {
		go s.listen(ctx, n)
	}
	go s.watchStaleness(ctx)
	_, fed := FeedOf(s.store)
	// LoggedBlacklist is asked once: a store claims it after migrating,
	// before serving.
	l, logged := storeAs[LoggedBlacklist](s.store)
	if fed || logged && l.BlacklistLogged() {
		s.sync.blacklistLive.Store(true)
		defer s.sync.blacklistLive.Store(false)
	}
	poll := time.NewTicker(s.settings.RevocationPollInterval)
	defer poll.Stop()
	gc := time.NewTicker(time.Minute)
	defer gc.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-gc.C:
			s.deny.GC(s.now().Unix())
			if set := s.sync.rotated.Load(); set != nil {
				set.GC(s.now().Unix())
			}
			continue
		case <-poll.C:
		case <-s.kick:
		}
		sctx, cancel := context.WithTimeout(ctx, s.settings.RevocationMaxStaleness)
		_, err := s.Sync(sctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.log.Error("load revocations", "err", err)
		}
	}
}

// poke asks Maintain for a Sync now.
func (s *Service) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// listen runs the store's push channel, reconnecting with backoff; after
// every break it asks for a Sync so nothing sent meanwhile is missed.
func (s *Service) listen(ctx context.Context, n Notifier) {
	backoff := 50 * time.Millisecond
	for {
		start := time.Now()
		err := n.Notify(ctx, s.poke)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("revocation push channel broke; resynchronising from the store", "err", err)
		s.poke()
		if time.Since(start) > 10*time.Second {
			backoff = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// watchStaleness flips the stale flag that Authenticate reads, so the
// per-request check is one atomic load.
func (s *Service) watchStaleness(ctx context.Context) {
	t := time.NewTicker(min(50*time.Millisecond, s.settings.RevocationMaxStaleness/4))
	defer t.Stop()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		age := s.now().Sub(time.Unix(0, s.sync.fresh.Load()))
		stale := age > s.settings.RevocationMaxStaleness
		if s.settings.RevocationFailMode == FailOpen {
			if stale && !warned {
				s.log.Warn("revocations are out of date; REVOCATION_FAIL_MODE=open accepts tokens anyway", "age", age)
			}
			warned = stale
			continue
		}
		if was := s.sync.stale.Swap(stale); was != stale {
			if stale {
				s.log.Error("revocations are out of date; refusing authentication until the store answers (REVOCATION_FAIL_MODE=closed)", "age", age)
			} else {
				s.log.Info("revocations are current again")
			}
		}
	}
}
