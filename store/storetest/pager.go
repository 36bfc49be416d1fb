package storetest

import (
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// testRevocationPages: a store's RevocationPager, if it has one, gives in
// pages exactly what Revocations gives at once, expired revocations
// (mixed in) left out, with next 0 only at the end.
func testRevocationPages(t *testing.T, st jwtrevoke.Store) {
	var tokens jwtrevoke.TokenStore = st
	if sp, ok := st.(interface{ Tokens() jwtrevoke.TokenStore }); ok { // a SplitStore
		tokens = sp.Tokens()
	}
	pager, ok := tokens.(jwtrevoke.RevocationPager)
	if !ok {
		// An optional interface: Sync reads such a store's revocations
		// in one go, which testRevocations covers.
		t.Logf("%T has no RevocationPager", tokens)
		return
	}
	ctx := t.Context()
	now := time.Now().UTC()
	for i := range 23 {
		exp := now.Add(time.Hour)
		if i%4 == 1 {
			exp = now.Add(-time.Minute)
		}
		if _, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: id(), UserID: int64(i + 1),
			ExpiresAt: exp, Reason: "logout", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := st.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 17 {
		t.Fatalf("Revocations: %d unexpired, want 17", len(all))
	}
	for _, limit := range []int{1, 4, 5, 17, 100} {
		var got []jwtrevoke.Revocation
		after, pages := int64(0), 0
		for {
			revs, next, err := pager.RevocationsPage(ctx, after, now, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(revs) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(revs))
			}
			got = append(got, revs...)
			if pages++; pages > 100 {
				t.Fatalf("limit %d: no end after 100 pages", limit)
			}
			if next == 0 {
				break
			}
			if next <= after {
				t.Fatalf("limit %d: next %d after %d", limit, next, after)
			}
			after = next
		}
		if len(got) != len(all) {
			t.Fatalf("limit %d: %d revocations in pages, %d at once", limit, len(got), len(all))
		}
		for i := range got {
			if got[i].Seq != all[i].Seq || got[i].SessionID != all[i].SessionID {
				t.Fatalf("limit %d: #%d is seq %d %s in pages, seq %d %s at once", limit, i, got[i].Seq, got[i].SessionID, all[i].Seq, all[i].SessionID)
			}
		}
	}
}

// testRevocationRanges: a store's RevocationRanger, if it has one, gives
// for any split of the Seqs into ranges exactly what Revocations gives at
// once, expired revocations left out, and LastRevocationSeq is the last
// Seq recorded, expired or not.
func testRevocationRanges(t *testing.T, st jwtrevoke.Store) {
	rg, ok := tokenStore(st).(jwtrevoke.RevocationRanger)
	if !ok {
		t.Logf("%T has no RevocationRanger", tokenStore(st))
		return
	}
	ctx := t.Context()
	if last, err := rg.LastRevocationSeq(ctx); err != nil || last != 0 {
		t.Fatalf("LastRevocationSeq of an empty store = %d, %v; want 0", last, err)
	}
	now := time.Now().UTC()
	var lastSeq int64
	for i := range 23 {
		exp := now.Add(time.Hour)
		if i%4 == 1 || i == 22 { // the last one too: LastRevocationSeq counts it
			exp = now.Add(-time.Minute)
		}
		got, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: id(), UserID: int64(i + 1),
			ExpiresAt: exp, Reason: "logout", CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			lastSeq = max(lastSeq, r.Seq)
		}
	}
	all, err := st.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 16 {
		t.Fatalf("Revocations: %d unexpired, want 16", len(all))
	}
	last, err := rg.LastRevocationSeq(ctx)
	if err != nil || last != lastSeq {
		t.Fatalf("LastRevocationSeq = %d, %v; want %d", last, err, lastSeq)
	}
	for _, span := range []int64{1, 3, 7, last, last + 10} {
		var got []jwtrevoke.Revocation
		for lo := int64(0); lo < last; lo += span {
			revs, err := rg.RevocationsRange(ctx, lo, min(lo+span, last), now)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range revs {
				if r.Seq <= lo || r.Seq > lo+span {
					t.Fatalf("span %d: range (%d, %d] gave seq %d", span, lo, lo+span, r.Seq)
				}
			}
			got = append(got, revs...)
		}
		if len(got) != len(all) {
			t.Fatalf("span %d: %d revocations in ranges, %d at once", span, len(got), len(all))
		}
		for i := range got {
			if got[i].Seq != all[i].Seq || got[i].SessionID != all[i].SessionID || got[i].UserID != all[i].UserID ||
				!got[i].ExpiresAt.Equal(all[i].ExpiresAt) || got[i].Reason != all[i].Reason {
				t.Fatalf("span %d: #%d is %+v in ranges, %+v at once", span, i, got[i], all[i])
			}
		}
	}
	if revs, err := rg.RevocationsRange(ctx, last, last, now); err != nil || len(revs) != 0 {
		t.Fatalf("empty range (%d, %d]: %d revocations, %v", last, last, len(revs), err)
	}
}
