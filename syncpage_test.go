package jwtrevoke_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// pagerStore gives a memory store a RevocationPager and counts its pages.
type pagerStore struct {
	*memory.Store
	pages int
}

func (p *pagerStore) RevocationsPage(ctx context.Context, afterSeq int64, now time.Time, limit int) ([]jwtrevoke.Revocation, int64, error) {
	p.pages++
	revs, err := p.Revocations(ctx, afterSeq, now)
	var next int64
	if len(revs) > limit {
		revs = revs[:limit]
		next = revs[limit-1].Seq
	}
	return revs, next, err
}

// TestSyncPages: a store with a RevocationPager is read a page at a time,
// and every revocation of every page is loaded, at start and after.
func TestSyncPages(t *testing.T) {
	defer jwtrevoke.SetRevocationPage(10)()
	ctx := t.Context()
	st := &pagerStore{Store: memory.New()}
	now := time.Now()
	next := 0
	revoke := func(n int) {
		for range n {
			next++
			i := next
			if _, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: fmt.Sprintf("%032x", i), UserID: 1,
				ExpiresAt: now.Add(time.Hour), Reason: "logout", CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	revoke(25)
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = "sync-pages-test-signing-key-0123456789abcdef"
	svc, err := jwtrevoke.New(ctx, st, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.RevocationCount(); got != 25 {
		t.Fatalf("loaded %d revocations at start, want 25", got)
	}
	if st.pages < 3 {
		t.Fatalf("25 revocations in pages of 10 read in %d pages", st.pages)
	}
	revoke(12)
	n, err := svc.Sync(ctx)
	if err != nil || n != 12 || svc.RevocationCount() != 37 {
		t.Fatalf("Sync after 12 more: %d new, %v; %d held, want 37", n, err, svc.RevocationCount())
	}
}

// rangerStore is a pagerStore that also reads ranges of Seqs, counting
// them, and fails the range holding failSeq when set.
type rangerStore struct {
	pagerStore
	mu       sync.Mutex
	ranges   int
	inFlight int
	most     int // the most ranges read at once
	failSeq  int64
	lasts    int // calls of LastRevocationSeq
}

func (r *rangerStore) LastRevocationSeq(ctx context.Context) (int64, error) {
	r.mu.Lock()
	r.lasts++
	r.mu.Unlock()
	revs, err := r.Revocations(ctx, 0, time.Time{})
	if err != nil || len(revs) == 0 {
		return 0, err
	}
	return revs[len(revs)-1].Seq, nil
}

func (r *rangerStore) RevocationsRange(ctx context.Context, from, to int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	r.mu.Lock()
	r.ranges++
	r.inFlight++
	r.most = max(r.most, r.inFlight)
	fail := r.failSeq > from && r.failSeq <= to
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
	}()
	// Wait a little for another reader, so that the test sees them overlap.
	for deadline := time.Now().Add(100 * time.Millisecond); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r.mu.Lock()
		n := r.inFlight
		r.mu.Unlock()
		if n > 1 {
			break
		}
	}
	if fail {
		return nil, errors.New("range unreadable")
	}
	revs, err := r.Revocations(ctx, from, now)
	var out []jwtrevoke.Revocation
	for _, rev := range revs {
		if rev.Seq <= to {
			out = append(out, rev)
		}
	}
	return out, err
}

// TestSyncRanges: a store with a RevocationRanger is read in ranges of
// Seqs at start, several at once, and everything unexpired is loaded, in
// Seq order (the last Seq loaded is the last one recorded); what is
// recorded after is read page by page. A range that cannot be read fails
// the load, after every reader has returned.
func TestSyncRanges(t *testing.T) {
	defer jwtrevoke.SetRevocationPage(10)()
	ctx := t.Context()
	st := &rangerStore{pagerStore: pagerStore{Store: memory.New()}}
	now := time.Now()
	revoke := func(n int) {
		for i := range n {
			exp := now.Add(time.Hour)
			if i%3 == 0 {
				exp = now.Add(-time.Minute) // expired: left out
			}
			if _, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: fmt.Sprintf("%032x", rand.Uint64()), UserID: 1,
				ExpiresAt: exp, Reason: "logout", CreatedAt: now.Add(-time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	revoke(300) // 200 unexpired
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = "sync-ranges-test-signing-key-0123456789abcdef"
	svc, err := jwtrevoke.New(ctx, st, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.RevocationCount(); got != 200 {
		t.Fatalf("loaded %d revocations at start, want 200", got)
	}
	if st.ranges != 30 || st.most < 2 || st.pages != 2 {
		t.Fatalf("300 Seqs read in %d ranges, at most %d at once, and %d pages; want 30 of 10, several at once, then two pages (the empty tail, read on from the last Seq of the ranges, and the second Sync of New)", st.ranges, st.most, st.pages)
	}
	pages := st.pages
	revoke(6)
	if n, err := svc.Sync(ctx); err != nil || n != 4 || svc.RevocationCount() != 204 {
		t.Fatalf("Sync after 6 more: %d new, %v; %d held, want 204", n, err, svc.RevocationCount())
	}
	if st.ranges != 30 || st.pages != pages+1 { // one page: read on from the last Seq of the ranges
		t.Fatalf("a tail of 6 read in %d ranges and %d pages, want one page", st.ranges-30, st.pages-pages)
	}

	st.failSeq = 155
	before := runtime.NumGoroutine()
	if _, err := jwtrevoke.New(ctx, st, s, jwtrevoke.Options{Hasher: cheap}); err == nil || !strings.Contains(err.Error(), "range unreadable") {
		t.Fatalf("New with an unreadable range: %v, want its error", err)
	}
	// Every reader has delivered its range when New returns; a goroutine
	// may still be between its last send and its end for a moment.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines 5 s after a failed load, %d before", runtime.NumGoroutine(), before)
		}
	}
}

// TestSyncRangesEmptyLog: only the first load asks a RevocationRanger
// for its last Seq, also while the log stays empty (the polls then read
// from Seq 0 like the first load, but need no ranges).
func TestSyncRangesEmptyLog(t *testing.T) {
	ctx := t.Context()
	st := &rangerStore{pagerStore: pagerStore{Store: memory.New()}}
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = "sync-ranges-test-signing-key-0123456789abcdef"
	svc, err := jwtrevoke.New(ctx, st, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if n, err := svc.Sync(ctx); err != nil || n != 0 {
			t.Fatalf("Sync of an empty log: %d new, %v", n, err)
		}
	}
	if st.lasts != 1 || st.ranges != 0 {
		t.Fatalf("an empty log synced 6 times asked for its last Seq %d times and read %d ranges; want once and none", st.lasts, st.ranges)
	}
}
