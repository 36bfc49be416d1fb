package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestRotateAcrossStores: two stores on one file (as two processes would
// be: each with its own writer connection, so SQLite's file lock, not Go,
// queues them) rotate one token concurrently. Exactly one rotation
// succeeds; every other one reports ErrRotated with the winner's record,
// never a busy or locked error.
func TestRotateAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	stores := []*sqlite.Store{mustOpen(t, path), mustOpen(t, path)}
	for _, st := range stores {
		defer st.Close()
	}
	u := storetest.MustUser(t, stores[0], "a@example.com")
	now := time.Now().UTC()
	old, sess := storetest.MustSession(t, stores[0], u.ID, now, time.Hour)
	const n = 50
	var (
		wg   sync.WaitGroup
		errs = make([]error, n)
		got  = make([]jwtrevoke.Rotation, n)
		sent = make([]jwtrevoke.Rotation, n)
	)
	for i := range n {
		exp := now.Add(time.Hour).Truncate(time.Second)
		jti := fmt.Sprintf("%s-next-%d", old.JTI, i)
		sent[i] = jwtrevoke.Rotation{Old: old, BlacklistOld: i%2 == 0,
			Next:   jwtrevoke.OutstandingToken{UserID: &u.ID, JTI: jti, Token: "t." + jti + ".s", CreatedAt: &now, ExpiresAt: exp},
			Access: "access-" + jti, SessionID: sess.ID, SessionExpires: exp.Add(5 * time.Minute), RotatedAt: now}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = stores[i%2].Rotate(t.Context(), sent[i])
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("rotations %d and %d both succeeded", winner, i)
			}
			winner = i
		case !errors.Is(err, jwtrevoke.ErrRotated):
			t.Fatalf("rotation %d: unexpected error %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no rotation succeeded")
	}
	w := sent[winner]
	for i, err := range errs {
		if err != nil && (got[i].Next.JTI != w.Next.JTI || got[i].Next.Token != w.Next.Token || got[i].Access != w.Access ||
			got[i].SessionID != sess.ID || got[i].Old.JTI != old.JTI || !got[i].Old.ExpiresAt.Equal(old.ExpiresAt)) {
			t.Fatalf("rotation %d reported %+v, want the winner's %+v", i, got[i], w)
		}
	}
	toks, err := stores[1].OutstandingTokens(t.Context(), jwtrevoke.TokenQuery{UserID: &u.ID})
	if err != nil || len(toks) != 2 {
		t.Fatalf("%d outstanding tokens, %v; want 2 (old + the winner's)", len(toks), err)
	}
}
