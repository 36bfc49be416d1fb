package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// tokenStore returns the token store of st: st itself, or the token store
// of a SplitStore.
func tokenStore(st jwtrevoke.Store) jwtrevoke.TokenStore {
	if sp, ok := st.(interface{ Tokens() jwtrevoke.TokenStore }); ok {
		return sp.Tokens()
	}
	return st
}

// testRotationLogged: a store that claims its blacklist is entirely in
// its revocation log (LoggedBlacklist) records, with each rotation that
// blacklists the old token, a token revocation of the old jti until it
// expires, which Revocations and RevocationsPage return, and none for a
// rotation that leaves the old token alone. Concurrent rotations of one
// token record it once: the loser's writes are nothing.
func testRotationLogged(t *testing.T, st jwtrevoke.Store) {
	l, ok := tokenStore(st).(jwtrevoke.LoggedBlacklist)
	if !ok {
		t.Logf("%T has no LoggedBlacklist: the service asks its IsBlacklisted", st)
		return
	}
	if !l.BlacklistLogged() {
		t.Fatal("BlacklistLogged is false on a fresh, migrated store")
	}
	ctx := t.Context()
	u := MustUser(t, st, "rotor@example.com")
	now := time.Now().UTC().Truncate(time.Second)
	old, sess := MustSession(t, st, u.ID, now, time.Hour)
	r := rotation(old, true, &u.ID, now, now.Add(2*time.Hour), sess.ID, now.Add(3*time.Hour))
	if _, err := st.Rotate(ctx, r); err != nil {
		t.Fatal(err)
	}
	kept, keptSess := MustSession(t, st, u.ID, now, time.Hour)
	if _, err := st.Rotate(ctx, rotation(kept, false, &u.ID, now, now.Add(2*time.Hour), keptSess.ID, now.Add(3*time.Hour))); err != nil {
		t.Fatal(err)
	}
	raced, racedSess := MustSession(t, st, u.ID, now, time.Hour)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, _ = st.Rotate(ctx, rotation(raced, true, &u.ID, now, now.Add(2*time.Hour), racedSess.ID, now.Add(3*time.Hour)))
		})
	}
	wg.Wait()

	check := func(how string, revs []jwtrevoke.Revocation) {
		t.Helper()
		n := map[string]int{}
		for _, rv := range revs {
			if rv.JTI == "" {
				continue
			}
			n[rv.JTI]++
			if rv.Reason != jwtrevoke.ReasonRotated || rv.SessionID != "" || !rv.NotBefore.IsZero() || rv.Seq <= 0 {
				t.Errorf("%s: token revocation %+v: want reason %q, a Seq, no session or cut-off", how, rv, jwtrevoke.ReasonRotated)
			}
			if rv.JTI == old.JTI && !sameTime(rv.ExpiresAt, old.ExpiresAt) {
				t.Errorf("%s: revocation of the rotated token expires %v, want the token's expiry %v", how, rv.ExpiresAt, old.ExpiresAt)
			}
		}
		if n[old.JTI] != 1 || n[raced.JTI] != 1 {
			t.Errorf("%s: %d revocations of the rotated token, %d of the one rotated concurrently; want 1 each", how, n[old.JTI], n[raced.JTI])
		}
		if n[kept.JTI] != 0 {
			t.Errorf("%s: a rotation without BlacklistOld recorded a revocation of its token", how)
		}
		if n[r.Next.JTI] != 0 {
			t.Errorf("%s: the new token was revoked", how)
		}
	}
	all, err := st.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	check("Revocations", all)
	if pager, ok := tokenStore(st).(jwtrevoke.RevocationPager); ok {
		var paged []jwtrevoke.Revocation
		for after := int64(0); ; {
			revs, next, err := pager.RevocationsPage(ctx, after, now, 1)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, revs...)
			if next == 0 {
				break
			}
			after = next
		}
		check("RevocationsPage", paged)
	}
	// It stops mattering with the token.
	later, err := st.Revocations(ctx, 0, old.ExpiresAt.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, rv := range later {
		if rv.JTI == old.JTI {
			t.Errorf("the revocation of the rotated token is listed after the token expired: %+v", rv)
		}
	}
	// The tokens stay blacklisted as before.
	for _, jti := range []string{old.JTI, raced.JTI} {
		if b, err := st.IsBlacklisted(ctx, jti); err != nil || !b {
			t.Errorf("IsBlacklisted(rotated %s) = %v, %v; want true", jti, b, err)
		}
	}
}
