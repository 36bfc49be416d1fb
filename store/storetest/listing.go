package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/storekit"
)

// Every time the tests below give a store lies ahead of the real clock, so
// that a self-expiring store keeps all of it: expiry is judged at an
// explicit instant hours from now.

// listingFixture is a mix of tokens for the listing tests: their
// CreatedAt out of ID order with ties, ExpiresAt with ties on both sides
// of now, some blacklisted, two without a CreatedAt (one also without a
// user, never issued).
type listingFixture struct {
	a, b   *jwtrevoke.User
	now    time.Time                    // the instant TokenQuery.Now judges expiry at
	tokens []jwtrevoke.OutstandingToken // as the store lists them, in ID order
}

func newListingFixture(t *testing.T, st jwtrevoke.Store) listingFixture {
	ctx := t.Context()
	base := time.Now().UTC().Truncate(time.Second)
	f := listingFixture{a: MustUser(t, st, "a@example.com"), b: MustUser(t, st, "b@example.com"), now: base.Add(10 * time.Hour)}
	var written []jwtrevoke.OutstandingToken
	blacklisted := map[string]bool{}
	for i := range 14 {
		user := &f.a.ID
		if i%2 == 1 {
			user = &f.b.ID
		}
		tk := token(user, base.Add(-time.Duration(i*7%5)*time.Minute), base.Add(8*time.Hour+time.Duration(i*5%6)*time.Hour))
		if err := st.IssueSession(ctx, tk, jwtrevoke.Session{ID: id(), UserID: *user, CreatedAt: base, ExpiresAt: tk.ExpiresAt}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := st.Blacklist(ctx, tk); err != nil {
				t.Fatal(err)
			}
			blacklisted[tk.JTI] = true
		}
		written = append(written, tk)
	}
	foreign := token(nil, base, base.Add(12*time.Hour))
	foreign.CreatedAt = nil
	if _, err := st.Blacklist(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	blacklisted[foreign.JTI] = true
	undated := token(&f.b.ID, base, base.Add(11*time.Hour))
	undated.CreatedAt = nil
	if err := st.IssueSession(ctx, undated, jwtrevoke.Session{ID: id(), UserID: f.b.ID, CreatedAt: base, ExpiresAt: undated.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	written = append(written, foreign, undated)

	all, err := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	byJTI := map[string]jwtrevoke.OutstandingToken{}
	for _, tk := range all {
		byJTI[tk.JTI] = tk
	}
	if len(all) != len(written) || len(byJTI) != len(written) {
		t.Fatalf("OutstandingTokens = %d tokens (%d distinct), want the %d written", len(all), len(byJTI), len(written))
	}
	for _, w := range written {
		g, ok := byJTI[w.JTI]
		switch {
		case !ok:
			t.Fatalf("token %s not listed", w.JTI)
		case (g.CreatedAt == nil) != (w.CreatedAt == nil) || (g.CreatedAt != nil && !sameTime(*g.CreatedAt, *w.CreatedAt)):
			t.Fatalf("token %s created %v, want %v", w.JTI, g.CreatedAt, w.CreatedAt)
		case !g.ExpiresAt.Equal(w.ExpiresAt):
			t.Fatalf("token %s expires %v, want %v", w.JTI, g.ExpiresAt, w.ExpiresAt)
		case (g.BlacklistedAt != nil) != blacklisted[w.JTI]:
			t.Fatalf("token %s blacklisted at %v, want blacklisted %v", w.JTI, g.BlacklistedAt, blacklisted[w.JTI])
		case (g.UserID == nil) != (w.UserID == nil) || (g.UserID != nil && *g.UserID != *w.UserID):
			t.Fatalf("token %s of user %v, want %v", w.JTI, g.UserID, w.UserID)
		}
		f.tokens = append(f.tokens, g)
	}
	for i := 1; i < len(f.tokens); i++ {
		if f.tokens[i].ID <= f.tokens[i-1].ID {
			t.Fatalf("token IDs %d then %d: want them increasing in the order issued", f.tokens[i-1].ID, f.tokens[i].ID)
		}
	}
	return f
}

// want is what the store should list for q: the fixture's tokens that q
// selects, in q's order.
func (f listingFixture) want(q jwtrevoke.TokenQuery) []string {
	var sel []jwtrevoke.OutstandingToken
	for _, tk := range f.tokens {
		if storekit.Selects(q, tk, f.now) {
			sel = append(sel, tk)
		}
	}
	slices.SortFunc(sel, storekit.Compare(q))
	return jtis(sel)
}

func jtis(toks []jwtrevoke.OutstandingToken) []string {
	out := make([]string, len(toks))
	for i, tk := range toks {
		out[i] = tk.JTI
	}
	return out
}

// testTokenListing: every status, order and direction, for all users and
// for one, as a whole and page by page.
func testTokenListing(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	f := newListingFixture(t, st)
	tk := f.tokens
	// The reference order itself, on a few cases worked out by hand
	// (tokens 0, 5 and 10 share the latest CreatedAt; 0, 6 and 12 the
	// earliest ExpiresAt, 4 and 10 the latest one at or before now; 14 and
	// 15 have no CreatedAt; 0, 3, 6, 9, 12 and 14 are blacklisted, in that
	// order).
	for _, c := range []struct {
		q           jwtrevoke.TokenQuery
		first, last int
	}{
		{jwtrevoke.TokenQuery{}, 10, 14},
		{jwtrevoke.TokenQuery{Ascending: true}, 14, 10},
		{jwtrevoke.TokenQuery{Sort: jwtrevoke.SortExpires, Status: jwtrevoke.TokenExpired, Ascending: true}, 0, 10},
		{jwtrevoke.TokenQuery{Sort: jwtrevoke.SortBlacklisted}, 14, 1},
		{jwtrevoke.TokenQuery{Sort: jwtrevoke.SortBlacklisted, Ascending: true}, 0, 15},
	} {
		c.q.Now = f.now
		w := f.want(c.q)
		if w[0] != tk[c.first].JTI || w[len(w)-1] != tk[c.last].JTI {
			t.Fatalf("reference order of %+v: first %s, last %s; want tokens %d and %d", c.q, w[0], w[len(w)-1], c.first, c.last)
		}
	}
	statuses := []jwtrevoke.TokenStatus{jwtrevoke.TokenAll, jwtrevoke.TokenLive, jwtrevoke.TokenExpired, jwtrevoke.TokenBlacklisted}
	sorts := []jwtrevoke.TokenSort{"", jwtrevoke.SortCreated, jwtrevoke.SortExpires, jwtrevoke.SortBlacklisted}
	for _, user := range []*int64{nil, &f.a.ID, &f.b.ID} {
		for _, status := range statuses {
			for _, sort := range sorts {
				for _, asc := range []bool{false, true} {
					q := jwtrevoke.TokenQuery{UserID: user, Status: status, Sort: sort, Ascending: asc, Now: f.now}
					want := f.want(q)
					if status == jwtrevoke.TokenAll && user == nil && len(want) != len(tk) {
						t.Fatalf("%+v: reference lists %d of %d tokens", q, len(want), len(tk))
					}
					checkListing(t, st, q, want)
					if status == jwtrevoke.TokenBlacklisted {
						q.Status, q.BlacklistedOnly = "", true
						checkListing(t, st, q, want)
					}
				}
			}
		}
	}
	// Now defaults to the current time: every token is live then but the
	// blacklisted ones.
	got, err := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{Status: jwtrevoke.TokenLive})
	if err != nil || len(got) != 10 {
		t.Fatalf("live tokens now = %d, %v; want 10", len(got), err)
	}
	for _, q := range []jwtrevoke.TokenQuery{{Status: "revoked"}, {Sort: "user"}} {
		if got, err := st.OutstandingTokens(ctx, q); err == nil {
			t.Fatalf("OutstandingTokens(%+v) = %d tokens, nil; want an error", q, len(got))
		}
	}
}

// checkListing checks that st lists want for q, and the same in pages of
// 3 (and of 4 from offset 1), each full but the last.
func checkListing(t *testing.T, st jwtrevoke.Store, q jwtrevoke.TokenQuery, want []string) {
	t.Helper()
	got, err := st.OutstandingTokens(t.Context(), q)
	if err != nil {
		t.Fatalf("OutstandingTokens(%+v): %v", q, err)
	}
	if g := jtis(got); !slices.Equal(g, want) {
		t.Fatalf("OutstandingTokens(%+v):\n got %s\nwant %s", q, strings.Join(g, " "), strings.Join(want, " "))
	}
	for _, p := range []struct{ size, start int }{{3, 0}, {4, 1}} {
		var pages []string
		for off := p.start; ; off += p.size {
			pq := q
			pq.Limit, pq.Offset = p.size, off
			page, err := st.OutstandingTokens(t.Context(), pq)
			if err != nil {
				t.Fatalf("OutstandingTokens(%+v): %v", pq, err)
			}
			if len(page) > p.size || (len(page) < p.size && off+len(page) < len(want)) {
				t.Fatalf("OutstandingTokens(%+v) = %d tokens, with %d selected", pq, len(page), len(want))
			}
			pages = append(pages, jtis(page)...)
			if len(page) < p.size {
				break
			}
		}
		if w := want[min(p.start, len(want)):]; !slices.Equal(pages, w) {
			t.Fatalf("pages of %d from %d of %+v:\n got %s\nwant %s", p.size, p.start, q, strings.Join(pages, " "), strings.Join(w, " "))
		}
	}
}

// testTokenLookup: a token by its jti, alone or with other conditions.
func testTokenLookup(t *testing.T, st jwtrevoke.Store) {
	f := newListingFixture(t, st)
	tk := f.tokens[3] // user b's, blacklisted, live
	for _, c := range []struct {
		q    jwtrevoke.TokenQuery
		want bool
	}{
		{jwtrevoke.TokenQuery{JTI: tk.JTI}, true},
		{jwtrevoke.TokenQuery{JTI: tk.JTI, UserID: &f.b.ID, Status: jwtrevoke.TokenBlacklisted}, true},
		{jwtrevoke.TokenQuery{JTI: tk.JTI, Sort: jwtrevoke.SortBlacklisted, Ascending: true}, true},
		{jwtrevoke.TokenQuery{JTI: tk.JTI, UserID: &f.a.ID}, false},
		{jwtrevoke.TokenQuery{JTI: tk.JTI, Status: jwtrevoke.TokenLive}, false},
		{jwtrevoke.TokenQuery{JTI: tk.JTI, Offset: 1}, false},
		{jwtrevoke.TokenQuery{JTI: tk.JTI[:len(tk.JTI)-1]}, false},
		{jwtrevoke.TokenQuery{JTI: "no-such-jti"}, false},
	} {
		c.q.Now = f.now
		got, err := st.OutstandingTokens(t.Context(), c.q)
		if err != nil {
			t.Fatalf("OutstandingTokens(%+v): %v", c.q, err)
		}
		if c.want && (len(got) != 1 || got[0].JTI != tk.JTI || got[0].ID != tk.ID || got[0].Token != tk.Token) {
			t.Fatalf("OutstandingTokens(%+v) = %+v, want token %s", c.q, got, tk.JTI)
		}
		if !c.want && len(got) != 0 {
			t.Fatalf("OutstandingTokens(%+v) = %+v, want none", c.q, got)
		}
	}
}

// statsFixture writes a mix of live, expired and blacklisted tokens,
// live, revoked and expired sessions, revocations made 30 minutes, 1 hour,
// 5 hours and 2 days before now (and one after), a rotation, audit entries
// and attempt counters, and returns the instant to count them at and what
// Stats should count then.
func statsFixture(t *testing.T, st jwtrevoke.Store) (time.Time, jwtrevoke.Stats) {
	ctx := t.Context()
	u := MustUser(t, st, "stats@example.com")
	now := time.Now().UTC().Truncate(time.Second).Add(10 * time.Hour)
	issue := func(exp time.Duration) (jwtrevoke.OutstandingToken, string) {
		t.Helper()
		tk := token(&u.ID, now.Add(-3*time.Hour), now.Add(exp))
		sid := id()
		if err := st.IssueSession(ctx, tk, jwtrevoke.Session{ID: sid, UserID: u.ID, CreatedAt: now.Add(-3 * time.Hour), ExpiresAt: tk.ExpiresAt}); err != nil {
			t.Fatal(err)
		}
		return tk, sid
	}
	for range 3 {
		issue(time.Hour) // live, with live sessions
	}
	_, e1 := issue(-time.Hour) // expired: their sessions too
	e2, e2s := issue(-time.Hour)
	issue(0) // expires exactly at now
	bl, bls := issue(2 * time.Hour)
	be, _ := issue(-2 * time.Hour)
	rev := func(r jwtrevoke.Revocation) jwtrevoke.Revocation {
		r.UserID, r.Reason = u.ID, "stats"
		if r.JTI == "" && r.SessionID == "" {
			r.JTI = id()
		}
		return r
	}
	if _, err := st.Blacklist(ctx, bl, rev(jwtrevoke.Revocation{SessionID: bls, ExpiresAt: now.Add(time.Hour),
		CreatedAt: now.Add(-30 * time.Minute), AuditUntil: now.Add(-time.Minute)})); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Blacklist(ctx, be,
		rev(jwtrevoke.Revocation{JTI: be.JTI, ExpiresAt: now.Add(-2 * time.Hour), CreatedAt: now.Add(-5 * time.Hour), AuditUntil: now.Add(time.Hour)}),
		rev(jwtrevoke.Revocation{ExpiresAt: now.Add(time.Hour), CreatedAt: now.Add(-time.Hour)}),
		rev(jwtrevoke.Revocation{ExpiresAt: now.Add(time.Hour), CreatedAt: now.Add(time.Minute)})); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeSession(ctx, rev(jwtrevoke.Revocation{SessionID: e1, ExpiresAt: now.Add(-time.Hour), CreatedAt: now.Add(-48 * time.Hour)})); err != nil {
		t.Fatal(err)
	}
	// A rotation kept until its old token expired (before now), to a live
	// token.
	if _, err := st.Rotate(ctx, rotation(e2, false, &u.ID, now.Add(-2*time.Hour), now.Add(time.Hour), e2s, e2.ExpiresAt)); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		key          string
		start        time.Time
		window       time.Duration
		times        int
		endedByStats bool
	}{
		{"stats:a", now.Add(-time.Hour), 30 * time.Minute, 2, true},
		{"stats:b", now.Add(-30 * time.Minute), 30 * time.Minute, 1, true}, // ends at now
		{"stats:c", now, time.Minute, 1, false},
	} {
		for range a.times {
			if _, err := st.CountAttempt(ctx, a.key, a.start, a.window, 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	return now, jwtrevoke.Stats{
		LiveTokens: 4, ExpiredTokens: 4, BlacklistedTokens: 2, // live: 3 issued and the rotation's
		LiveSessions: 3,
		Revocations:  5, RevokedLastHour: 1, RevokedLastDay: 3,
		Expired: jwtrevoke.FlushResult{Outstanding: 4, Blacklisted: 1, Sessions: 4, Revocations: 2, Rotations: 1, Audit: 1, Attempts: 2},
	}
}

func testStats(t *testing.T, st jwtrevoke.Store) {
	if got, err := st.Stats(t.Context(), time.Now()); err != nil || got != (jwtrevoke.Stats{}) {
		t.Fatalf("Stats of an empty store = %+v, %v; want zeros", got, err)
	}
	now, want := statsFixture(t, st)
	got, err := st.Stats(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Stats =\n %+v\nwant\n %+v", got, want)
	}
}

// testFlushProgress: Stats.Expired is what the next FlushExpired deletes,
// and FlushExpired reports its running totals after each batch.
func testFlushProgress(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	now, want := statsFixture(t, st)
	before, err := st.Stats(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	var seen []jwtrevoke.FlushResult
	res, err := st.FlushExpired(ctx, now, jwtrevoke.FlushOptions{Batch: 2, Progress: func(done jwtrevoke.FlushResult) { seen = append(seen, done) }})
	if err != nil {
		t.Fatal(err)
	}
	if res != before.Expired || res != want.Expired {
		t.Fatalf("FlushExpired = %+v; Stats.Expired before it %+v; want %+v", res, before.Expired, want.Expired)
	}
	if len(seen) == 0 || seen[len(seen)-1] != res {
		t.Fatalf("Progress calls %+v: want the last to be the result %+v", seen, res)
	}
	var prev jwtrevoke.FlushResult
	for i, p := range seen {
		if p.Outstanding < prev.Outstanding || p.Blacklisted < prev.Blacklisted || p.Sessions < prev.Sessions || p.Revocations < prev.Revocations ||
			p.Rotations < prev.Rotations || p.Audit < prev.Audit || p.Attempts < prev.Attempts {
			t.Fatalf("Progress call %d = %+v after %+v: totals went down", i, p, prev)
		}
		prev = p
	}
	if len(seen) < 2 {
		t.Fatalf("Progress called %d times for %+v deleted in batches of 2, want once per batch", len(seen), res)
	}
	after, err := st.Stats(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	wantAfter := jwtrevoke.Stats{LiveTokens: 4, BlacklistedTokens: 1, LiveSessions: 3, Revocations: 3, RevokedLastHour: 1, RevokedLastDay: 2}
	if after != wantAfter {
		t.Fatalf("Stats after the flush =\n %+v\nwant\n %+v", after, wantAfter)
	}
	seen = nil
	if res, err := st.FlushExpired(ctx, now, jwtrevoke.FlushOptions{Progress: func(done jwtrevoke.FlushResult) { seen = append(seen, done) }}); err != nil || res != (jwtrevoke.FlushResult{}) {
		t.Fatalf("second flush = %+v, %v; want zeros", res, err)
	}
	for _, p := range seen {
		if p != (jwtrevoke.FlushResult{}) {
			t.Fatalf("second flush reported %+v, deleting nothing", p)
		}
	}
}
