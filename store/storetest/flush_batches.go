package storetest

import (
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// FlushBatches checks FlushExpired over many small batches: expired and
// live tokens, sessions and revocations interleaved in key order (so that
// a batch spans rows it must keep), blacklisted tokens among both, batch
// sizes that do and do not divide the expired counts, each flush followed
// by one that finds nothing. Each round adds rows to what the earlier
// rounds kept. The counts must be exact (at most, for a self-expiring
// store).
func FlushBatches(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "batches@example.com")
	now := time.Now().UTC().Truncate(time.Second)
	var live []jwtrevoke.OutstandingToken
	liveBlacklisted := map[string]bool{}
	for round, batch := range []int{1, 2, 3, 4, 1000, 0} {
		const n = 12
		for i := range n {
			exp := now.Add(-time.Duration(i) * time.Minute) // i == 0: expires exactly now
			if i%2 == 1 {
				exp = now.Add(time.Duration(i) * time.Minute)
			}
			tk := token(&u.ID, now.Add(-time.Hour), exp)
			if err := st.IssueSession(ctx, tk, jwtrevoke.Session{ID: id(), UserID: u.ID, CreatedAt: now.Add(-time.Hour), ExpiresAt: tk.ExpiresAt}); err != nil {
				t.Fatal(err)
			}
			if i%2 == 1 {
				live = append(live, tk)
			}
			if i%3 == 0 {
				if _, err := st.Blacklist(ctx, tk, jwtrevoke.Revocation{JTI: tk.JTI, UserID: u.ID, ExpiresAt: tk.ExpiresAt, Reason: "r", CreatedAt: now}); err != nil {
					t.Fatal(err)
				}
				if i%2 == 1 {
					liveBlacklisted[tk.JTI] = true
				}
			}
		}
		// Expired: the even i (6 tokens, their 6 sessions), of which i = 0
		// and 6 are blacklisted, with their revocations.
		want := jwtrevoke.FlushResult{Outstanding: 6, Blacklisted: 2, Sessions: 6, Revocations: 2}
		res, err := st.FlushExpired(ctx, now, jwtrevoke.FlushOptions{Batch: batch})
		if err != nil {
			t.Fatalf("round %d, batch %d: %v", round, batch, err)
		}
		if selfExpiring {
			if res.Outstanding > want.Outstanding || res.Blacklisted > want.Blacklisted || res.Sessions > want.Sessions || res.Revocations > want.Revocations {
				t.Fatalf("round %d, batch %d: FlushExpired = %+v, more than the %+v expired rows", round, batch, res, want)
			}
		} else if res != want {
			t.Fatalf("round %d, batch %d: FlushExpired = %+v, want %+v", round, batch, res, want)
		}
		if res, err := st.FlushExpired(ctx, now, jwtrevoke.FlushOptions{Batch: batch}); err != nil || res != (jwtrevoke.FlushResult{}) {
			t.Fatalf("round %d, batch %d: second flush = %+v, %v; want zeros", round, batch, res, err)
		}
		toks, err := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{})
		if err != nil {
			t.Fatal(err)
		}
		left := map[string]bool{}
		for _, tk := range toks {
			left[tk.JTI] = true
			if (tk.BlacklistedAt != nil) != liveBlacklisted[tk.JTI] {
				t.Fatalf("round %d, batch %d: token %s blacklisted at %v, want blacklisted %v", round, batch, tk.JTI, tk.BlacklistedAt, liveBlacklisted[tk.JTI])
			}
		}
		if len(toks) != len(live) {
			t.Fatalf("round %d, batch %d: %d tokens left, want the %d live ones", round, batch, len(toks), len(live))
		}
		for _, tk := range live {
			if !left[tk.JTI] {
				t.Fatalf("round %d, batch %d: live token %s flushed", round, batch, tk.JTI)
			}
		}
		if ss, err := st.Sessions(ctx, u.ID, now.Add(-24*time.Hour)); err != nil || len(ss) != len(live) {
			t.Fatalf("round %d, batch %d: %d sessions left, %v; want the %d live ones", round, batch, len(ss), err, len(live))
		}
		if revs, err := st.Revocations(ctx, 0, now.Add(-24*time.Hour)); err != nil || len(revs) != len(liveBlacklisted) {
			t.Fatalf("round %d, batch %d: %d revocations left, %v; want %d", round, batch, len(revs), err, len(liveBlacklisted))
		}
	}
}
