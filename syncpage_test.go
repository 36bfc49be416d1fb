package jwtrevoke_test

import (
	"context"
	"fmt"
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
