package jwtrevoke_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// scriptedLog is a store whose revocation log the test writes by hand, to
// play transactions that commit out of sequence order. Everything else is
// a memory store.
type scriptedLog struct {
	*memory.Store
	mu   sync.Mutex
	revs []jwtrevoke.Revocation
	down atomic.Bool
}

func (s *scriptedLog) add(r jwtrevoke.Revocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revs = append(s.revs, r)
	// keep Seq order, as a store's query returns them
	for i := len(s.revs) - 1; i > 0 && s.revs[i].Seq < s.revs[i-1].Seq; i-- {
		s.revs[i], s.revs[i-1] = s.revs[i-1], s.revs[i]
	}
}

func (s *scriptedLog) Revocations(_ context.Context, after int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	if s.down.Load() {
		return nil, errors.New("connection refused")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []jwtrevoke.Revocation
	for _, r := range s.revs {
		if r.Seq > after && r.ExpiresAt.After(now) {
			out = append(out, r)
		}
	}
	return out, nil
}

func sessionRev(seq int64, sid string, created time.Time) jwtrevoke.Revocation {
	return jwtrevoke.Revocation{Seq: seq, SessionID: sid, UserID: 1, ExpiresAt: time.Now().Add(time.Hour), Reason: "logout", CreatedAt: created}
}

// TestSyncLateCommit: revocation 2 commits after revocation 3 (its
// transaction took its number first). Sync must still load it.
func TestSyncLateCommit(t *testing.T) {
	st := &scriptedLog{Store: memory.New()}
	svc := mustService(t, st)
	mustUser(t, svc, "a@x.io")
	p1, p2, p3 := mustLogin(t, svc, "a@x.io"), mustLogin(t, svc, "a@x.io"), mustLogin(t, svc, "a@x.io")
	sid := func(p jwtrevoke.TokenPair) string { return mustAuth(t, svc, p.Access).SessionID }
	now := time.Now()
	st.add(sessionRev(1, sid(p1), now))
	st.add(sessionRev(3, sid(p3), now))
	if n, err := svc.Sync(t.Context()); n != 2 || err != nil {
		t.Fatalf("Sync = %d, %v; want 2", n, err)
	}
	mustAuth(t, svc, p2.Access)
	st.add(sessionRev(2, sid(p2), now)) // the late commit
	if n, err := svc.Sync(t.Context()); n != 0 || err != nil {
		t.Fatalf("Sync = %d new, %v; want 0 new (2 is below the highest seen)", n, err)
	}
	wantRevoked(t, svc, p2.Access)
	wantRevoked(t, svc, p3.Access)
}

// TestSyncGivesUpOnOldHoles: a hole older than the gap timeout (a rolled
// back transaction) does not make Sync re-read the log for ever; a revocation
// filling it later than that would be missed, which is why the timeout is
// far longer than any transaction.
func TestSyncGivesUpOnOldHoles(t *testing.T) {
	st := &scriptedLog{Store: memory.New()}
	svc := mustService(t, st)
	mustUser(t, svc, "a@x.io")
	p := mustLogin(t, svc, "a@x.io")
	old := time.Now().Add(-time.Minute)
	st.add(sessionRev(5, "gone-1", old))
	st.add(sessionRev(9, mustAuth(t, svc, p.Access).SessionID, old))
	if n, _ := svc.Sync(t.Context()); n != 2 {
		t.Fatalf("Sync loaded %d, want 2", n)
	}
	wantRevoked(t, svc, p.Access)
	// Seq 7 shows up now: below the low-water mark, so it is not read.
	st.add(sessionRev(7, "late", time.Now()))
	if n, _ := svc.Sync(t.Context()); n != 0 {
		t.Fatalf("Sync loaded %d, want 0", n)
	}
}

func TestFailClosedWhenStoreUnreachable(t *testing.T) {
	for _, mode := range []string{jwtrevoke.FailClosed, jwtrevoke.FailOpen} {
		t.Run(mode, func(t *testing.T) {
			st := &scriptedLog{Store: memory.New()}
			s := jwtrevoke.DefaultSettings()
			s.SigningKey = testKey
			s.RevocationFailMode = mode
			s.RevocationMaxStaleness = 200 * time.Millisecond
			s.RevocationPollInterval = 20 * time.Millisecond
			svc, err := jwtrevoke.New(t.Context(), st, s, jwtrevoke.Options{Hasher: cheap,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go svc.Maintain(ctx)
			mustUser(t, svc, "a@x.io")
			p := mustLogin(t, svc, "a@x.io")
			mustAuth(t, svc, p.Access)
			st.down.Store(true)
			deadline := time.Now().Add(5 * time.Second)
			for mode == jwtrevoke.FailClosed {
				_, _, err := svc.Authenticate(t.Context(), p.Access)
				if errors.Is(err, jwtrevoke.ErrRevocationsStale) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("still authenticating 5 s after the store went away: %v", err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if mode == jwtrevoke.FailOpen {
				time.Sleep(400 * time.Millisecond)
				mustAuth(t, svc, p.Access)
			}
			st.down.Store(false)
			deadline = time.Now().Add(5 * time.Second)
			for {
				if _, _, err := svc.Authenticate(t.Context(), p.Access); err == nil {
					break
				} else if time.Now().After(deadline) {
					t.Fatalf("not authenticating 5 s after the store came back: %v", err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
