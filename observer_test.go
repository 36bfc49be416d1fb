package jwtrevoke_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu         sync.Mutex
	revoked    []jwtrevoke.Revocation
	propagated []jwtrevoke.Revocation
	lags       []time.Duration
}

func (r *recorder) Revoked(rev jwtrevoke.Revocation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revoked = append(r.revoked, rev)
}

func (r *recorder) Propagated(rev jwtrevoke.Revocation, lag time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.propagated = append(r.propagated, rev)
	r.lags = append(r.lags, lag)
}

func observed(t *testing.T, st jwtrevoke.Store, obs jwtrevoke.Observer) *jwtrevoke.Service {
	t.Helper()
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = testKey
	svc, err := jwtrevoke.New(t.Context(), st, s, jwtrevoke.Options{Hasher: cheap, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestObserver(t *testing.T) {
	st := memory.New()
	var ra, rb recorder
	a, b := observed(t, st, &ra), observed(t, st, &rb)
	mustUser(t, a, "o@x.io")
	p := mustLogin(t, a, "o@x.io")
	logout := mustLogin(t, a, "o@x.io")
	if err := a.Blacklist(t.Context(), p.Refresh); err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(t.Context(), mustAuth(t, a, logout.Access), logout.Refresh); err != nil {
		t.Fatal(err)
	}
	if len(ra.revoked) < 2 {
		t.Fatalf("A recorded %d revocations, observer told of %v; want the blacklist's and the logout's", len(ra.revoked), ra.revoked)
	}
	reasons := map[string]bool{}
	for _, r := range ra.revoked {
		reasons[r.Reason] = true
	}
	if !reasons["blacklist"] || !reasons["logout"] {
		t.Fatalf("reasons %v, want blacklist and logout", reasons)
	}
	// A's own revocations come back through its Sync: already in effect,
	// so they are not propagations.
	if _, err := a.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(ra.propagated) != 0 {
		t.Fatalf("A's own revocations reported as propagated: %v", ra.propagated)
	}
	if len(rb.propagated) != 0 || len(rb.revoked) != 0 {
		t.Fatalf("B told of revocations before its Sync: %v %v", rb.propagated, rb.revoked)
	}
	before := time.Now()
	if _, err := b.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(rb.propagated) != len(ra.revoked) {
		t.Fatalf("B's Sync reported %d propagations, want %d (one per revocation A recorded)", len(rb.propagated), len(ra.revoked))
	}
	for i, lag := range rb.lags {
		if lag < 0 || lag > time.Since(before)+time.Since(rb.propagated[i].CreatedAt) {
			t.Fatalf("lag %v out of range", lag)
		}
	}
	if _, err := b.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(rb.propagated) != len(ra.revoked) {
		t.Fatalf("a second Sync reported them again: %d", len(rb.propagated))
	}
}

// wrapped is a decorator around a Store, as a metrics layer would be.
type wrapped struct{ jwtrevoke.Store }

func (w wrapped) Unwrap() jwtrevoke.Store { return w.Store }

// feedStore adds a BlacklistFeed to a store.
type feedStore struct {
	jwtrevoke.Store
	asked int
}

func (f *feedStore) BlacklistedAfter(_ context.Context, _ int64, _ time.Time, _ int) ([]jwtrevoke.BlacklistEntry, error) {
	f.asked++
	return nil, nil
}

func TestOptionalInterfacesFoundThroughWrappers(t *testing.T) {
	inner := &feedStore{Store: memory.New()}
	for name, st := range map[string]jwtrevoke.Store{
		"Direct":       inner,
		"Unwrap":       wrapped{inner},
		"Split":        jwtrevoke.Split(memory.New(), inner),
		"UnwrapSplit":  wrapped{jwtrevoke.Split(memory.New(), inner)},
		"UnwrapUnwrap": wrapped{wrapped{inner}},
	} {
		t.Run(name, func(t *testing.T) {
			f, ok := jwtrevoke.FeedOf(st)
			if !ok || f != jwtrevoke.BlacklistFeed(inner) {
				t.Fatalf("FeedOf = %v, %v; want the inner store's feed", f, ok)
			}
		})
	}
	if _, ok := jwtrevoke.FeedOf(wrapped{memory.New()}); ok {
		t.Fatal("FeedOf found a feed in a store that has none")
	}
	if _, ok := jwtrevoke.NotifierOf(wrapped{memory.New()}); ok {
		t.Fatal("NotifierOf found a notifier in a store that has none")
	}
}
