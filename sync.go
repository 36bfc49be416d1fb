package jwtrevoke

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
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

// NotifierOf returns the push channel of st, or of its token store when st
// is a SplitStore.
func NotifierOf(st Store) (Notifier, bool) {
	if sp, ok := st.(*SplitStore); ok {
		n, ok := sp.TokenStore.(Notifier)
		return n, ok
	}
	n, ok := st.(Notifier)
	return n, ok
}

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
	fresh   atomic.Int64 // Unix nanoseconds of the last successful Sync
	stale   atomic.Bool  // set by Maintain in fail-closed mode
}

// Sync loads into memory the revocations recorded in the store (by this
// or any other instance) that it has not loaded yet, and returns how many
// were new.
func (s *Service) Sync(ctx context.Context) (int, error) {
	st := &s.sync
	st.mu.Lock()
	defer st.mu.Unlock()
	now := s.now()
	revs, err := s.store.Revocations(ctx, st.low, now)
	if err != nil {
		return 0, err
	}
	s.apply(revs)
	st.fresh.Store(now.UnixNano())
	n := 0
	for _, r := range revs {
		if r.Seq > st.maxSeen {
			n++
			st.maxSeen = r.Seq
		}
	}
	for _, r := range revs { // in Seq order
		if r.Seq != st.low+1 && now.Sub(r.CreatedAt) < gapTimeout {
			break // a hole that may still fill
		}
		st.low = r.Seq
	}
	return n, nil
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
