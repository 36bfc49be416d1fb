package storetest

import (
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// testFeedMarksRotations: a store with a blacklist feed (BlacklistFeed)
// marks the entries of tokens a rotation blacklisted (Rotated), and only
// those: the service keeps them apart, so that a rotation still reaches
// the store with such a token (grace retries, reuse detection).
func testFeedMarksRotations(t *testing.T, st jwtrevoke.Store) {
	f, ok := tokenStore(st).(jwtrevoke.BlacklistFeed)
	if !ok {
		t.Logf("%T has no BlacklistFeed", st)
		return
	}
	ctx := t.Context()
	u := MustUser(t, st, "feedrot@example.com")
	now := time.Now().UTC().Truncate(time.Second)
	rotated, sess := MustSession(t, st, u.ID, now, time.Hour)
	if _, err := st.Rotate(ctx, rotation(rotated, true, &u.ID, now, now.Add(2*time.Hour), sess.ID, now.Add(3*time.Hour))); err != nil {
		t.Fatal(err)
	}
	plain, _ := MustSession(t, st, u.ID, now, time.Hour)
	if _, err := st.Blacklist(ctx, plain); err != nil {
		t.Fatal(err)
	}
	es, err := f.BlacklistedAfter(ctx, 0, now, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range es {
		got[e.JTI] = e.Rotated
	}
	if r, ok := got[rotated.JTI]; !ok || !r {
		t.Errorf("the rotated token's feed entry: present %v, Rotated %v; want present and marked", ok, r)
	}
	if r, ok := got[plain.JTI]; !ok || r {
		t.Errorf("the blacklisted token's feed entry: present %v, Rotated %v; want present and not marked", ok, r)
	}
}
