package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestGroupCommitLogouts: concurrent logins and logouts through the one
// writer, where every session is logged out twice at once and some logins
// reuse a session id, so that batches mix successes and unique-key
// failures. Every session is blacklisted exactly once, every failed call
// left nothing behind, and everything acknowledged is in the file when it
// is opened again.
func TestGroupCommitLogouts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	st := mustOpen(t, path)
	ctx := t.Context()
	u := storetest.MustUser(t, st, "a@example.com")
	now := time.Now().UTC()
	const n = 40
	toks := make([]jwtrevoke.OutstandingToken, n)
	sess := make([]jwtrevoke.Session, n)
	for i := range n {
		toks[i], sess[i] = storetest.MustSession(t, st, u.ID, now, time.Hour)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		logout = make([][]error, n)
		seqs   = map[int64]bool{}
		dups   = make([]error, n)
	)
	for i := range n {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := st.Blacklist(ctx, toks[i], jwtrevoke.Revocation{SessionID: sess[i].ID, UserID: u.ID,
					ExpiresAt: now.Add(time.Minute), Reason: "logout", CreatedAt: now, AuditUntil: now.Add(time.Hour)})
				mu.Lock()
				defer mu.Unlock()
				logout[i] = append(logout[i], err)
				for _, r := range got {
					if seqs[r.Seq] {
						t.Errorf("Seq %d given twice", r.Seq)
					}
					seqs[r.Seq] = true
				}
			}()
		}
		wg.Add(1)
		go func() { // a login reusing session i's id: ErrExists
			defer wg.Done()
			c := now
			tok := jwtrevoke.OutstandingToken{UserID: &u.ID, JTI: fmt.Sprintf("dup-%d", i), Token: "t", CreatedAt: &c, ExpiresAt: now.Add(time.Hour)}
			dups[i] = st.IssueSession(ctx, tok, jwtrevoke.Session{ID: sess[i].ID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		}()
	}
	wg.Wait()
	for i := range n {
		ok := 0
		for _, err := range logout[i] {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, jwtrevoke.ErrBlacklisted):
				t.Errorf("logout %d: %v", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("session %d: %d of 2 concurrent logouts succeeded, want 1", i, ok)
		}
		if !errors.Is(dups[i], jwtrevoke.ErrExists) {
			t.Errorf("login reusing session %d's id: %v, want ErrExists", i, dups[i])
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = mustOpen(t, path)
	defer st.Close()
	toksNow, err := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{})
	if err != nil {
		t.Fatal(err)
	}
	blacklisted := 0
	for _, tok := range toksNow {
		if len(tok.JTI) > 4 && tok.JTI[:4] == "dup-" {
			t.Errorf("the failed login's token %s was kept", tok.JTI)
		}
		if tok.BlacklistedAt != nil {
			blacklisted++
		}
	}
	if len(toksNow) != n || blacklisted != n {
		t.Errorf("after reopening: %d tokens, %d blacklisted; want %d, %d", len(toksNow), blacklisted, n, n)
	}
	revs, err := st.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != n {
		t.Errorf("%d revocations, want %d", len(revs), n)
	}
	for _, r := range revs {
		if !seqs[r.Seq] {
			t.Errorf("revocation %d was not reported to a caller", r.Seq)
		}
		if r.ExpiresAt.Before(now.Add(time.Hour)) {
			t.Errorf("revocation of session %s expires %v, before its session", r.SessionID, r.ExpiresAt)
		}
	}
	sessions, err := st.Sessions(ctx, u.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if s.RevokedAt == nil {
			t.Errorf("session %s not marked revoked", s.ID)
		}
	}
	if audit, err := st.Audit(ctx, u.ID, 0); err != nil || len(audit) != n {
		t.Errorf("audit trail: %d rows, %v; want %d", len(audit), err, n)
	}
}
