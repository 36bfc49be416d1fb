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
