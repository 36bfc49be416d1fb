package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// Options describe what a store does differently, within the contract.
type Options struct {
	// SelfExpiring stores (Redis, with a TTL per key) forget expired data
	// by themselves, so FlushExpired may find less to delete than was
	// written: the suite then checks only that expired data is gone and
	// live data is kept, not the counts.
	SelfExpiring bool
}

// Run runs the suite against stores made by open: one fresh, empty,
// migrated store per subtest (open registers its own cleanup).
func Run(t *testing.T, open func(t *testing.T) jwtrevoke.Store) {
	RunWith(t, open, Options{})
}

// RunWith is Run for a store described by opts.
func RunWith(t *testing.T, open func(t *testing.T) jwtrevoke.Store, opts Options) {
	selfExpiring = opts.SelfExpiring
	tests := []struct {
		name string
		fn   func(*testing.T, jwtrevoke.Store)
	}{
		{"Users", testUsers},
		{"UserTimes", testUserTimes},
		{"IssueSession", testIssueSession},
		{"Blacklist", testBlacklist},
		{"BlacklistNeverIssued", testBlacklistNeverIssued},
		{"BlacklistRaisesSessionExpiry", testBlacklistSessionExpiry},
		{"BlacklistConcurrent", testBlacklistConcurrent},
		{"Rotate", testRotate},
		{"RotateConcurrent", testRotateConcurrent},
		{"RotationLogged", testRotationLogged},
		{"FeedMarksRotations", testFeedMarksRotations},
		{"RevokeSession", testRevokeSession},
		{"RevocationsConcurrent", testRevocationsConcurrent},
		{"Audit", testAudit},
		{"CountAttempt", testCountAttempt},
		{"RevokeUser", testRevokeUser},
		{"Revocations", testRevocations},
		{"RevocationsPages", testRevocationPages},
		{"RevocationsRanges", testRevocationRanges},
		{"OutstandingTokensQuery", testOutstandingQuery},
		{"TokenListing", testTokenListing},
		{"TokenLookup", testTokenLookup},
		{"Stats", testStats},
		{"FlushExpired", testFlushExpired},
		{"FlushProgress", testFlushProgress},
		{"FlushBatches", FlushBatches},
		{"Setting", testSetting},
		{"SettingConcurrent", testSettingConcurrent},
		{"CancelledContext", testCancelled},
		{"ClosedStoreFailsClosed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// RunReopen checks that acknowledged writes survive closing the store and
// opening it again: open returns a fresh store and a function that reopens
// the same data.
func RunReopen(t *testing.T, open func(t *testing.T) (jwtrevoke.Store, func() jwtrevoke.Store)) {
	ctx := t.Context()
	st, reopen := open(t)
	u := MustUser(t, st, "durable@example.com")
	now := time.Now().UTC()
	tok, sess := MustSession(t, st, u.ID, now, time.Hour)
	revs, err := st.Blacklist(ctx, tok, jwtrevoke.Revocation{SessionID: sess.ID, UserID: u.ID,
		ExpiresAt: now.Add(time.Hour), Reason: "logout", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Setting(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	rotTok, rotSess := MustSession(t, st, u.ID, now, time.Hour)
	rot := rotation(rotTok, true, &u.ID, now, now.Add(time.Hour), rotSess.ID, now.Add(2*time.Hour))
	if _, err := st.Rotate(ctx, rot); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := reopen()
	defer st2.Close()
	if _, err := st2.UserByEmail(ctx, "durable@example.com"); err != nil {
		t.Fatalf("user after reopen: %v", err)
	}
	if b, err := st2.IsBlacklisted(ctx, tok.JTI); err != nil || !b {
		t.Fatalf("IsBlacklisted after reopen = %v, %v; want true", b, err)
	}
	got, err := st2.Revocations(ctx, 0, now)
	// A store whose blacklist is logged has the rotation's revocation too
	// (testRotationLogged).
	got = slices.DeleteFunc(got, func(r jwtrevoke.Revocation) bool { return r.Reason == jwtrevoke.ReasonRotated })
	if err != nil || len(got) != 1 || got[0].Seq != revs[0].Seq || got[0].SessionID != sess.ID {
		t.Fatalf("revocations after reopen = %+v, %v; want the one recorded", got, err)
	}
	if v, err := st2.Setting(ctx, "k", "v2"); err != nil || v != "v1" {
		t.Fatalf("setting after reopen = %q, %v; want v1", v, err)
	}
	if got, err := st2.Rotate(ctx, rotation(rotTok, true, &u.ID, now, now.Add(time.Hour), rotSess.ID, now)); !errors.Is(err, jwtrevoke.ErrRotated) || got.Next.Token != rot.Next.Token || got.Access != rot.Access {
		t.Fatalf("rotating again after reopen = %+v, %v; want ErrRotated with the first rotation", got, err)
	}
}

var (
	seq          int
	selfExpiring bool
)

// MustUser creates an active user.
func MustUser(tb testing.TB, st jwtrevoke.Store, email string) *jwtrevoke.User {
	tb.Helper()
	u := &jwtrevoke.User{Email: email, PasswordHash: "argon2$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", IsActive: true,
		DateJoined: time.Now().UTC()}
	if err := st.CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("create user %s: %v", email, err)
	}
	return u
}

var idMu sync.Mutex

// id returns a unique 32-hex-digit id for tests.
func id() string {
	idMu.Lock()
	defer idMu.Unlock()
	seq++
	return fmt.Sprintf("%016x%016x", time.Now().UnixNano(), seq)
}

// token makes an outstanding token of user expiring at exp.
func token(user *int64, created, exp time.Time) jwtrevoke.OutstandingToken {
	j := id()
	c := created
	return jwtrevoke.OutstandingToken{UserID: user, JTI: j, Token: "header.payload-" + j + ".sig", CreatedAt: &c, ExpiresAt: exp.Truncate(time.Second)}
}

// MustSession records a login of user at now whose refresh token lives for
// life, and returns its token and session.
func MustSession(tb testing.TB, st jwtrevoke.Store, user int64, now time.Time, life time.Duration) (jwtrevoke.OutstandingToken, jwtrevoke.Session) {
	tb.Helper()
	tok := token(&user, now, now.Add(life))
	sess := jwtrevoke.Session{ID: id(), UserID: user, CreatedAt: now, ExpiresAt: tok.ExpiresAt.Add(5 * time.Minute),
		IP: "192.0.2.7", UserAgent: "storetest/1.0"}
	if err := st.IssueSession(context.Background(), tok, sess); err != nil {
		tb.Fatalf("issue session: %v", err)
	}
	return tok, sess
}

func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

func testUsers(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	a := MustUser(t, st, "Ann@Example.com")
	b := MustUser(t, st, "bob@example.com")
	if a.ID <= 0 || b.ID <= 0 || a.ID == b.ID {
		t.Fatalf("ids %d, %d: want distinct positive", a.ID, b.ID)
	}
	dup := &jwtrevoke.User{Email: "ann@EXAMPLE.com", PasswordHash: "x", IsActive: true, DateJoined: time.Now()}
	if err := st.CreateUser(ctx, dup); !errors.Is(err, jwtrevoke.ErrExists) {
		t.Fatalf("duplicate email in other case: err=%v, want ErrExists", err)
	}
	got, err := st.UserByEmail(ctx, "ANN@example.COM")
	if err != nil || got.ID != a.ID || got.Email != "Ann@Example.com" {
		t.Fatalf("UserByEmail = %+v, %v; want user %d with the email as written", got, err, a.ID)
	}
	if _, err := st.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, jwtrevoke.ErrNotFound) {
		t.Fatalf("unknown email: err=%v, want ErrNotFound", err)
	}
	if _, err := st.UserByID(ctx, 999999); !errors.Is(err, jwtrevoke.ErrNotFound) {
		t.Fatalf("unknown id: err=%v, want ErrNotFound", err)
	}
	login := time.Now().UTC()
	a.PasswordHash, a.IsActive, a.IsStaff, a.LastLogin = "pbkdf2_sha256$1$s$h", false, true, &login
	if err := st.UpdateUser(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err = st.UserByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != a.PasswordHash || got.IsActive || !got.IsStaff || got.LastLogin == nil || !sameTime(*got.LastLogin, login) {
		t.Fatalf("after update: %+v", got)
	}
	got.LastLogin = nil
	if err := st.UpdateUser(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _ = st.UserByID(ctx, a.ID); got.LastLogin != nil {
		t.Fatalf("LastLogin = %v after clearing it", got.LastLogin)
	}
	if err := st.UpdateUser(ctx, &jwtrevoke.User{ID: 999999, Email: "x@y.z"}); !errors.Is(err, jwtrevoke.ErrNotFound) {
		t.Fatalf("update unknown user: err=%v, want ErrNotFound", err)
	}
}

func testUserTimes(t *testing.T, st jwtrevoke.Store) {
	zone := time.FixedZone("UTC+5", 5*3600)
	joined := time.Date(2026, 3, 4, 5, 6, 7, 123456000, zone)
	u := &jwtrevoke.User{Email: "tz@example.com", PasswordHash: "x", IsActive: true, DateJoined: joined}
	if err := st.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	got, err := st.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameTime(got.DateJoined, joined) {
		t.Fatalf("DateJoined = %v, want the instant %v", got.DateJoined, joined.UTC())
	}
}

func testIssueSession(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC()
	tok, sess := MustSession(t, st, u.ID, now, time.Hour)
	toks, err := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{})
	if err != nil || len(toks) != 1 {
		t.Fatalf("OutstandingTokens = %d tokens, %v; want 1", len(toks), err)
	}
	g := toks[0]
	if g.ID <= 0 || g.JTI != tok.JTI || g.Token != tok.Token || g.UserID == nil || *g.UserID != u.ID ||
		g.CreatedAt == nil || !sameTime(*g.CreatedAt, now) || !g.ExpiresAt.Equal(tok.ExpiresAt) || g.BlacklistedAt != nil {
		t.Fatalf("outstanding token = %+v, want %+v", g, tok)
	}
	if b, err := st.IsBlacklisted(ctx, tok.JTI); err != nil || b {
		t.Fatalf("IsBlacklisted = %v, %v; want false", b, err)
	}
	ss, err := st.Sessions(ctx, u.ID, now)
	if err != nil || len(ss) != 1 {
		t.Fatalf("Sessions = %v, %v; want 1", ss, err)
	}
	s := ss[0]
	if s.ID != sess.ID || s.UserID != u.ID || !sameTime(s.CreatedAt, now) || !sameTime(s.ExpiresAt, sess.ExpiresAt) ||
		s.RevokedAt != nil || s.IP != sess.IP || s.UserAgent != sess.UserAgent {
		t.Fatalf("session = %+v, want %+v", s, sess)
	}
	if err := st.IssueSession(ctx, tok, jwtrevoke.Session{ID: id(), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, jwtrevoke.ErrExists) {
		t.Fatalf("issuing the same token twice: err=%v, want ErrExists", err)
	}
	if ss, _ := st.Sessions(ctx, u.ID, now); len(ss) != 1 {
		t.Fatalf("a failed IssueSession left %d sessions", len(ss))
	}
}

func testBlacklist(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC()
	tok, sess := MustSession(t, st, u.ID, now, time.Hour)
	rev := jwtrevoke.Revocation{SessionID: sess.ID, UserID: u.ID, ExpiresAt: now.Add(time.Minute), Reason: "logout", CreatedAt: now}
	jrev := jwtrevoke.Revocation{JTI: id(), UserID: u.ID, ExpiresAt: now.Add(time.Minute), Reason: "logout", CreatedAt: now}
	got, err := st.Blacklist(ctx, tok, rev, jrev)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq <= 0 || got[1].Seq <= got[0].Seq {
		t.Fatalf("revocations returned %+v: want 2 with increasing Seq", got)
	}
	if b, err := st.IsBlacklisted(ctx, tok.JTI); err != nil || !b {
		t.Fatalf("IsBlacklisted = %v, %v; want true", b, err)
	}
	toks, _ := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{})
	if len(toks) != 1 || toks[0].BlacklistedAt == nil {
		t.Fatalf("after blacklist: %+v, want 1 token with BlacklistedAt", toks)
	}
	ss, _ := st.Sessions(ctx, u.ID, now)
	if len(ss) != 1 || ss[0].RevokedAt == nil {
		t.Fatalf("session after its revocation: %+v, want RevokedAt set", ss)
	}
	again := jwtrevoke.Revocation{SessionID: "other", UserID: u.ID, ExpiresAt: now.Add(time.Minute), Reason: "logout", CreatedAt: now}
	if _, err := st.Blacklist(ctx, tok, again); !errors.Is(err, jwtrevoke.ErrBlacklisted) {
		t.Fatalf("second blacklist: err=%v, want ErrBlacklisted", err)
	}
	all, err := st.Revocations(ctx, 0, now)
	if err != nil || len(all) != 2 {
		t.Fatalf("Revocations = %d, %v; want 2 (the refused second call records nothing)", len(all), err)
	}
	if all[1].JTI != jrev.JTI || all[0].SessionID != sess.ID || all[0].Reason != "logout" {
		t.Fatalf("revocations = %+v", all)
	}
	if bl, _ := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{BlacklistedOnly: true}); len(bl) != 1 {
		t.Fatalf("%d blacklisted rows, want 1", len(bl))
	}
}

func testBlacklistNeverIssued(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC()
	ghost := int64(424242)
	cases := []struct {
		name   string
		user   *int64
		wantID *int64
	}{
		{"KnownUser", &u.ID, &u.ID},
		{"UnknownUser", &ghost, nil},
		{"NoUser", nil, nil},
	}
	for _, c := range cases {
		tok := token(c.user, now, now.Add(time.Hour))
		tok.CreatedAt = nil
		if _, err := st.Blacklist(ctx, tok); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if b, _ := st.IsBlacklisted(ctx, tok.JTI); !b {
			t.Fatalf("%s: not blacklisted", c.name)
		}
		toks, _ := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{Limit: 1})
		g := toks[0]
		if g.JTI != tok.JTI || (g.UserID == nil) != (c.wantID == nil) || (g.UserID != nil && *g.UserID != *c.wantID) {
			t.Fatalf("%s: row %+v, want user %v", c.name, g, c.wantID)
		}
	}
}

func testBlacklistSessionExpiry(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC().Truncate(time.Second)
	tok, sess := MustSession(t, st, u.ID, now, time.Hour)
	got, err := st.Blacklist(ctx, tok, jwtrevoke.Revocation{SessionID: sess.ID, UserID: u.ID,
		ExpiresAt: now.Add(time.Minute), Reason: "logout", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if !sameTime(got[0].ExpiresAt, sess.ExpiresAt) {
		t.Fatalf("revocation expires %v, want raised to the session's %v", got[0].ExpiresAt, sess.ExpiresAt)
	}
	if all, _ := st.Revocations(ctx, 0, now); len(all) != 1 || !sameTime(all[0].ExpiresAt, sess.ExpiresAt) {
		t.Fatalf("stored revocation %+v, want ExpiresAt %v", all, sess.ExpiresAt)
	}
}

func testBlacklistConcurrent(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC()
	tok, sess := MustSession(t, st, u.ID, now, time.Hour)
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.Blacklist(ctx, tok, jwtrevoke.Revocation{SessionID: sess.ID, UserID: u.ID,
				ExpiresAt: now.Add(time.Hour), Reason: "logout", CreatedAt: now})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, jwtrevoke.ErrBlacklisted):
			t.Fatalf("concurrent blacklist: unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent blacklists succeeded, want exactly 1", ok, n)
	}
	if bl, _ := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{BlacklistedOnly: true}); len(bl) != 1 {
		t.Fatalf("%d blacklisted rows, want 1", len(bl))
	}
	if revs, _ := st.Revocations(ctx, 0, now); len(revs) != 1 {
		t.Fatalf("%d revocations recorded, want 1", len(revs))
	}
}

// rotation makes a Rotation of old to a new token of user expiring at exp.
func rotation(old jwtrevoke.OutstandingToken, blacklistOld bool, user *int64, now, exp time.Time, sid string, sessExp time.Time) jwtrevoke.Rotation {
	next := token(user, now, exp)
	return jwtrevoke.Rotation{Old: old, BlacklistOld: blacklistOld, Next: next, Access: "access-for-" + next.JTI,
		SessionID: sid, SessionExpires: sessExp, RotatedAt: now}
}

func testRotate(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC().Truncate(time.Second)
	old, sess := MustSession(t, st, u.ID, now, time.Hour)
	later := sess.ExpiresAt.Add(time.Hour)
	r := rotation(old, true, &u.ID, now, now.Add(2*time.Hour), sess.ID, later)
	if _, err := st.Rotate(ctx, r); err != nil {
		t.Fatal(err)
	}
	next := r.Next
	if b, _ := st.IsBlacklisted(ctx, old.JTI); !b {
		t.Fatal("old token not blacklisted")
	}
	if b, _ := st.IsBlacklisted(ctx, next.JTI); b {
		t.Fatal("new token blacklisted")
	}
	toks, _ := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{})
	if len(toks) != 2 || toks[0].JTI != next.JTI {
		t.Fatalf("outstanding %+v: want the new token registered, newest first", toks)
	}
	if ss, _ := st.Sessions(ctx, u.ID, now); len(ss) != 1 || !sameTime(ss[0].ExpiresAt, later) {
		t.Fatalf("session %+v: want ExpiresAt raised to %v", ss, later)
	}
	if _, err := st.Rotate(ctx, rotation(next, true, &u.ID, now, now.Add(time.Hour), sess.ID, now)); err != nil {
		t.Fatal(err)
	}
	if ss, _ := st.Sessions(ctx, u.ID, now); !sameTime(ss[0].ExpiresAt, later) {
		t.Fatalf("session expiry lowered to %v", ss[0].ExpiresAt)
	}

	// A second rotation of old is refused with the first one's record.
	again := rotation(old, true, &u.ID, now.Add(time.Second), now.Add(time.Hour), sess.ID, later)
	got, err := st.Rotate(ctx, again)
	if !errors.Is(err, jwtrevoke.ErrRotated) {
		t.Fatalf("rotating a rotated token: err=%v, want ErrRotated", err)
	}
	if got.Next.JTI != next.JTI || got.Next.Token != next.Token || got.Access != r.Access ||
		got.SessionID != sess.ID || !sameTime(got.RotatedAt, now) || got.Old.JTI != old.JTI {
		t.Fatalf("recorded rotation = %+v, want the first one (next %s, access %s, at %v)", got, next.JTI, r.Access, now)
	}
	toks, _ = st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{})
	for _, tk := range toks {
		if tk.JTI == again.Next.JTI {
			t.Fatal("a refused rotation registered its new token")
		}
	}

	// A token blacklisted otherwise (logout) cannot be rotated.
	out, sess3 := MustSession(t, st, u.ID, now, time.Hour)
	if _, err := st.Blacklist(ctx, out); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Rotate(ctx, rotation(out, true, &u.ID, now, now.Add(time.Hour), sess3.ID, later)); !errors.Is(err, jwtrevoke.ErrBlacklisted) {
		t.Fatalf("rotating a blacklisted token: err=%v, want ErrBlacklisted", err)
	}

	// Without blacklisting, the old token stays unblacklisted, but it is
	// still rotated once only.
	keep, sess2 := MustSession(t, st, u.ID, now, time.Hour)
	if _, err := st.Rotate(ctx, rotation(keep, false, &u.ID, now, now.Add(time.Hour), sess2.ID, later)); err != nil {
		t.Fatal(err)
	}
	if b, _ := st.IsBlacklisted(ctx, keep.JTI); b {
		t.Fatal("rotation without BlacklistOld blacklisted the old token")
	}
	if _, err := st.Rotate(ctx, rotation(keep, false, &u.ID, now, now.Add(time.Hour), sess2.ID, later)); !errors.Is(err, jwtrevoke.ErrRotated) {
		t.Fatalf("second rotation without BlacklistOld: err=%v, want ErrRotated", err)
	}
}

func testRotateConcurrent(t *testing.T, st jwtrevoke.Store) {
	for _, blacklistOld := range []bool{true, false} {
		t.Run(fmt.Sprintf("BlacklistOld=%v", blacklistOld), func(t *testing.T) {
			ctx := t.Context()
			u := MustUser(t, st, fmt.Sprintf("a%v@example.com", blacklistOld))
			now := time.Now().UTC()
			old, sess := MustSession(t, st, u.ID, now, time.Hour)
			const n = 50
			errs := make([]error, n)
			got := make([]jwtrevoke.Rotation, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[i], errs[i] = st.Rotate(ctx, rotation(old, blacklistOld, &u.ID, now, now.Add(time.Hour), sess.ID, now.Add(2*time.Hour)))
				}()
			}
			wg.Wait()
			ok, winner := 0, ""
			for i, err := range errs {
				if err == nil {
					ok++
				}
				if err != nil && !errors.Is(err, jwtrevoke.ErrRotated) {
					t.Fatalf("concurrent rotate: unexpected error %v", err)
				}
				_ = i
			}
			if ok != 1 {
				t.Fatalf("%d of %d concurrent rotations succeeded, want exactly 1", ok, n)
			}
			toks, _ := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{UserID: &u.ID})
			if len(toks) != 2 {
				t.Fatalf("%d outstanding tokens, want 2 (old + one child)", len(toks))
			}
			for _, tk := range toks {
				if tk.JTI != old.JTI {
					winner = tk.JTI
				}
			}
			for i, err := range errs {
				if err != nil && got[i].Next.JTI != winner {
					t.Fatalf("a refused rotation reported child %q, want the winner %q", got[i].Next.JTI, winner)
				}
			}
		})
	}
}

func testRevokeSession(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC()
	_, sess := MustSession(t, st, u.ID, now, time.Hour)
	_, other := MustSession(t, st, u.ID, now, time.Hour)
	revs, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: sess.ID, UserID: u.ID,
		ExpiresAt: now.Add(time.Minute), Reason: "rotation_reuse", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 1 || revs[0].Seq == 0 || revs[0].SessionID != sess.ID || !sameTime(revs[0].ExpiresAt, sess.ExpiresAt) {
		t.Fatalf("RevokeSession = %+v, want one revocation with Seq and ExpiresAt raised to the session's %v", revs, sess.ExpiresAt)
	}
	all, err := st.Revocations(ctx, 0, now)
	if err != nil || len(all) != 1 || all[0].Reason != "rotation_reuse" {
		t.Fatalf("Revocations = %+v, %v; want the one recorded", all, err)
	}
	ss, err := st.Sessions(ctx, u.ID, now)
	if err != nil || len(ss) != 2 {
		t.Fatalf("Sessions = %+v, %v", ss, err)
	}
	for _, s := range ss {
		if (s.RevokedAt != nil) != (s.ID == sess.ID) {
			t.Fatalf("session %s revoked at %v; want only %s revoked (other %s)", s.ID, s.RevokedAt, sess.ID, other.ID)
		}
	}
}

func testRevokeUser(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	a := MustUser(t, st, "a@example.com")
	b := MustUser(t, st, "b@example.com")
	now := time.Now().UTC()
	t1, s1 := MustSession(t, st, a.ID, now, time.Hour)
	t2, s2 := MustSession(t, st, a.ID, now, 2*time.Hour)
	expired := token(&a.ID, now.Add(-2*time.Hour), now.Add(-time.Hour))
	if err := st.IssueSession(ctx, expired, jwtrevoke.Session{ID: id(), UserID: a.ID, CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tb, _ := MustSession(t, st, b.ID, now, time.Hour)
	rev := jwtrevoke.Revocation{UserID: a.ID, NotBefore: now, ExpiresAt: now.Add(3 * time.Hour), Reason: "logout_all", CreatedAt: now}
	got, err := st.RevokeUser(ctx, rev)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("RevokeUser returned %d revocations, want 3 (user + 2 live sessions): %+v", len(got), got)
	}
	var user int
	sessions := map[string]bool{}
	for _, r := range got {
		if r.Seq <= 0 || r.UserID != a.ID {
			t.Fatalf("revocation %+v: want Seq and user %d", r, a.ID)
		}
		if !r.NotBefore.IsZero() {
			user++
			if !sameTime(r.NotBefore, now) {
				t.Fatalf("NotBefore %v, want %v", r.NotBefore, now)
			}
		}
		if r.SessionID != "" {
			sessions[r.SessionID] = true
		}
	}
	if user != 1 || !sessions[s1.ID] || !sessions[s2.ID] || len(sessions) != 2 {
		t.Fatalf("revocations %+v: want one user cut-off and sessions %s, %s", got, s1.ID, s2.ID)
	}
	for _, tk := range []jwtrevoke.OutstandingToken{t1, t2} {
		if bl, _ := st.IsBlacklisted(ctx, tk.JTI); !bl {
			t.Fatalf("token %s of the user not blacklisted", tk.JTI)
		}
	}
	if bl, _ := st.IsBlacklisted(ctx, tb.JTI); bl {
		t.Fatal("another user's token was blacklisted")
	}
	if all, _ := st.Revocations(ctx, 0, now); len(all) != 3 {
		t.Fatalf("Revocations lists %d, want 3", len(all))
	}
}

func testRevocations(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC()
	var seqs []int64
	for i, exp := range []time.Duration{-time.Minute, time.Minute, 2 * time.Minute, 0} {
		tok := token(&u.ID, now, now.Add(time.Hour))
		got, err := st.Blacklist(ctx, tok, jwtrevoke.Revocation{JTI: fmt.Sprintf("jti-%d", i), UserID: u.ID,
			ExpiresAt: now.Add(exp), Reason: "r", CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, got[0].Seq)
	}
	all, err := st.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].JTI != "jti-1" || all[1].JTI != "jti-2" {
		t.Fatalf("Revocations(0, now) = %+v, want jti-1, jti-2 (expired ones and exp == now left out)", all)
	}
	r := all[0]
	if r.Seq != seqs[1] || r.UserID != u.ID || r.Reason != "r" || !sameTime(r.CreatedAt, now) || !sameTime(r.ExpiresAt, now.Add(time.Minute)) || !r.NotBefore.IsZero() || r.SessionID != "" {
		t.Fatalf("revocation round trip: %+v", r)
	}
	after, _ := st.Revocations(ctx, seqs[1], now)
	if len(after) != 1 || after[0].JTI != "jti-2" {
		t.Fatalf("Revocations(after %d) = %+v, want jti-2 only", seqs[1], after)
	}
}

func testOutstandingQuery(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	a := MustUser(t, st, "a@example.com")
	b := MustUser(t, st, "b@example.com")
	now := time.Now().UTC()
	var aTok []jwtrevoke.OutstandingToken
	for range 5 {
		tk, _ := MustSession(t, st, a.ID, now, time.Hour)
		aTok = append(aTok, tk)
	}
	MustSession(t, st, b.ID, now, time.Hour)
	if _, err := st.Blacklist(ctx, aTok[1]); err != nil {
		t.Fatal(err)
	}
	got, _ := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{UserID: &a.ID})
	if len(got) != 5 || got[0].JTI != aTok[4].JTI || got[4].JTI != aTok[0].JTI {
		t.Fatalf("user a's tokens: %d, first %s; want 5 newest first", len(got), got[0].JTI)
	}
	got, _ = st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{UserID: &a.ID, Limit: 2, Offset: 1})
	if len(got) != 2 || got[0].JTI != aTok[3].JTI || got[1].JTI != aTok[2].JTI {
		t.Fatalf("limit 2 offset 1: %+v", got)
	}
	got, _ = st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{BlacklistedOnly: true})
	if len(got) != 1 || got[0].JTI != aTok[1].JTI {
		t.Fatalf("blacklisted only: %+v", got)
	}
	if got, _ = st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{}); len(got) != 6 {
		t.Fatalf("all tokens: %d, want 6", len(got))
	}
}

func testFlushExpired(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC().Truncate(time.Second)
	var live []jwtrevoke.OutstandingToken
	for i := range 7 {
		exp := now.Add(-time.Duration(i) * time.Minute) // i == 0: expires exactly now
		tk := token(&u.ID, now.Add(-time.Hour), exp)
		if err := st.IssueSession(ctx, tk, jwtrevoke.Session{ID: id(), UserID: u.ID, CreatedAt: now.Add(-time.Hour), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := st.Blacklist(ctx, tk, jwtrevoke.Revocation{JTI: tk.JTI, UserID: u.ID, ExpiresAt: exp, Reason: "r", CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var liveRot jwtrevoke.Rotation
	for i := range 4 {
		tk, sess := MustSession(t, st, u.ID, now, time.Hour)
		live = append(live, tk)
		if i == 0 {
			if _, err := st.Blacklist(ctx, tk, jwtrevoke.Revocation{SessionID: sess.ID, UserID: u.ID, ExpiresAt: now.Add(time.Hour), Reason: "r", CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if i == 1 { // a live rotation, kept by the flush
			liveRot = rotation(tk, false, &u.ID, now, now.Add(time.Hour), sess.ID, now.Add(2*time.Hour))
			if _, err := st.Rotate(ctx, liveRot); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range 2 { // expired rotations of expired tokens, to expired ones
		old, exp := token(&u.ID, now.Add(-time.Hour), now.Add(-time.Minute)), now.Add(-time.Minute)
		sid := id()
		if err := st.IssueSession(ctx, old, jwtrevoke.Session{ID: sid, UserID: u.ID, CreatedAt: now.Add(-time.Hour), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Rotate(ctx, rotation(old, false, &u.ID, now.Add(-time.Hour), exp, sid, exp)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.FlushExpired(ctx, now, jwtrevoke.FlushOptions{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := jwtrevoke.FlushResult{Outstanding: 11, Blacklisted: 4, Sessions: 9, Revocations: 4, Rotations: 2}
	if selfExpiring {
		if res.Outstanding > want.Outstanding || res.Blacklisted > want.Blacklisted || res.Sessions > want.Sessions || res.Revocations > want.Revocations || res.Rotations > want.Rotations {
			t.Fatalf("FlushExpired = %+v, more than the %+v expired rows", res, want)
		}
	} else if res != want {
		t.Fatalf("FlushExpired = %+v, want %+v", res, want)
	}
	toks, _ := st.OutstandingTokens(ctx, jwtrevoke.TokenQuery{})
	if len(toks) != 5 {
		t.Fatalf("%d tokens left, want the 5 live ones", len(toks))
	}
	if _, err := st.Rotate(ctx, rotation(liveRot.Old, false, &u.ID, now, now.Add(time.Hour), liveRot.SessionID, now)); !errors.Is(err, jwtrevoke.ErrRotated) {
		t.Fatalf("rotating again after the flush: err=%v, want ErrRotated (a live rotation was flushed)", err)
	}
	if b, _ := st.IsBlacklisted(ctx, live[0].JTI); !b {
		t.Fatal("a live blacklisted token lost its blacklisting")
	}
	if ss, _ := st.Sessions(ctx, u.ID, now.Add(-24*time.Hour)); len(ss) != 4 {
		t.Fatalf("%d sessions left, want 4", len(ss))
	}
	if revs, _ := st.Revocations(ctx, 0, now.Add(-24*time.Hour)); len(revs) != 1 {
		t.Fatalf("%d revocations left, want 1", len(revs))
	}
	if res, err := st.FlushExpired(ctx, now, jwtrevoke.FlushOptions{Batch: 2}); err != nil || res != (jwtrevoke.FlushResult{}) {
		t.Fatalf("second flush = %+v, %v; want zeros", res, err)
	}
}

func testSetting(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	if v, err := st.Setting(ctx, "signing_key", "first"); err != nil || v != "first" {
		t.Fatalf("first Setting = %q, %v", v, err)
	}
	if v, err := st.Setting(ctx, "signing_key", "second"); err != nil || v != "first" {
		t.Fatalf("second Setting = %q, %v; want first", v, err)
	}
	if v, _ := st.Setting(ctx, "other", "x"); v != "x" {
		t.Fatalf("other key = %q", v)
	}
}

func testSettingConcurrent(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	const n = 20
	vals := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals[i], errs[i] = st.Setting(ctx, "race", fmt.Sprint(i))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || vals[i] != vals[0] {
			t.Fatalf("caller %d got %q, %v; caller 0 got %q", i, vals[i], errs[i], vals[0])
		}
	}
}

func testCancelled(t *testing.T, st jwtrevoke.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	u := &jwtrevoke.User{Email: "c@example.com", PasswordHash: "x", IsActive: true, DateJoined: time.Now()}
	if err := st.CreateUser(ctx, u); err == nil {
		t.Fatal("CreateUser with a cancelled context succeeded")
	}
	if _, err := st.UserByEmail(t.Context(), "c@example.com"); !errors.Is(err, jwtrevoke.ErrNotFound) {
		t.Fatalf("the cancelled CreateUser wrote a user: %v", err)
	}
	now := time.Now().UTC()
	if _, err := st.Blacklist(ctx, token(nil, now, now.Add(time.Hour))); err == nil {
		t.Fatal("Blacklist with a cancelled context succeeded")
	}
	if toks, _ := st.OutstandingTokens(t.Context(), jwtrevoke.TokenQuery{}); len(toks) != 0 {
		t.Fatal("the cancelled Blacklist wrote a token")
	}
	if _, err := st.Revocations(ctx, 0, now); err == nil {
		t.Fatal("Revocations with a cancelled context succeeded")
	}
}

// testClosed: a store that cannot reach its data (here: closed) answers
// with errors, never with "not blacklisted" or "no revocations".
func testClosed(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC()
	tok, _ := MustSession(t, st, u.ID, now, time.Hour)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if b, err := st.IsBlacklisted(ctx, tok.JTI); err == nil {
		t.Fatalf("IsBlacklisted on a closed store = %v, nil; want an error", b)
	}
	if _, err := st.Revocations(ctx, 0, now); err == nil {
		t.Fatal("Revocations on a closed store succeeded")
	}
	if _, err := st.UserByID(ctx, u.ID); err == nil || errors.Is(err, jwtrevoke.ErrNotFound) {
		t.Fatalf("UserByID on a closed store: %v, want an error other than ErrNotFound", err)
	}
	if _, err := st.Blacklist(ctx, tok); err == nil {
		t.Fatal("Blacklist on a closed store succeeded")
	}
	if n, err := st.CountAttempt(ctx, "k", now.Truncate(time.Minute), time.Minute, 1); err == nil {
		t.Fatalf("CountAttempt on a closed store = %d, nil; want an error", n)
	}
	if _, err := st.Audit(ctx, u.ID, 0); err == nil {
		t.Fatal("Audit on a closed store succeeded")
	}
}

func testAudit(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	other := MustUser(t, st, "b@example.com")
	now := time.Now().UTC().Truncate(time.Second)
	keep := now.Add(90 * 24 * time.Hour)
	tok1, s1 := MustSession(t, st, u.ID, now, time.Hour)
	_, s2 := MustSession(t, st, u.ID, now, time.Hour)
	MustSession(t, st, u.ID, now, time.Hour) // a third, revoked by RevokeUser only
	otherTok, otherSess := MustSession(t, st, other.ID, now, time.Hour)
	if _, err := st.Blacklist(ctx, tok1, jwtrevoke.Revocation{SessionID: s1.ID, UserID: u.ID, ExpiresAt: now.Add(time.Hour),
		Reason: "logout", CreatedAt: now.Add(-2 * time.Second), IP: "192.0.2.1", UserAgent: "ua/1", AuditUntil: keep}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: s2.ID, UserID: u.ID, ExpiresAt: now.Add(time.Hour),
		Reason: "session_ended", CreatedAt: now.Add(-time.Second), IP: "2001:db8::2", UserAgent: "ua/2", AuditUntil: keep}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeUser(ctx, jwtrevoke.Revocation{UserID: u.ID, NotBefore: now, ExpiresAt: now.Add(2 * time.Hour),
		Reason: "password_change", CreatedAt: now, IP: "192.0.2.3", UserAgent: "ua/3", AuditUntil: keep}); err != nil {
		t.Fatal(err)
	}
	// Not audited: no AuditUntil.
	if _, err := st.Blacklist(ctx, otherTok, jwtrevoke.Revocation{SessionID: otherSess.ID, UserID: other.ID, ExpiresAt: now.Add(time.Hour),
		Reason: "blacklist", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Audit(ctx, u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Audit = %+v, want 3 entries (RevokeUser's derived session revocations are not audited)", got)
	}
	want := []struct{ reason, sid, ip, ua string }{
		{"password_change", "", "192.0.2.3", "ua/3"},
		{"session_ended", s2.ID, "2001:db8::2", "ua/2"},
		{"logout", s1.ID, "192.0.2.1", "ua/1"},
	}
	for i, w := range want {
		g := got[i]
		if g.Reason != w.reason || g.SessionID != w.sid || g.IP != w.ip || g.UserAgent != w.ua || g.UserID != u.ID ||
			!sameTime(g.CreatedAt, now.Add(-time.Duration(i)*time.Second)) {
			t.Fatalf("Audit[%d] = %+v, want reason %s, session %q, ip %s, user agent %s, newest first", i, g, w.reason, w.sid, w.ip, w.ua)
		}
	}
	if g, err := st.Audit(ctx, u.ID, 2); err != nil || len(g) != 2 || g[0].Reason != "password_change" {
		t.Fatalf("Audit(limit 2) = %+v, %v", g, err)
	}
	if g, err := st.Audit(ctx, other.ID, 0); err != nil || len(g) != 0 {
		t.Fatalf("Audit of a user with no audited revocation = %+v, %v; want none", g, err)
	}
	// The audit trail outlives the revocations, until AuditUntil.
	if _, err := st.FlushExpired(ctx, now.Add(24*time.Hour), jwtrevoke.FlushOptions{Batch: 2}); err != nil {
		t.Fatal(err)
	}
	if g, err := st.Audit(ctx, u.ID, 0); err != nil || len(g) != 3 {
		t.Fatalf("Audit after the revocations expired and were flushed = %d entries, %v; want 3", len(g), err)
	}
	res, err := st.FlushExpired(ctx, keep, jwtrevoke.FlushOptions{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if (!selfExpiring && res.Audit != 3) || res.Audit > 3 {
		t.Fatalf("FlushExpired at AuditUntil: Audit = %d, want 3", res.Audit)
	}
	if g, err := st.Audit(ctx, u.ID, 0); err != nil || len(g) != 0 {
		t.Fatalf("Audit after AuditUntil and a flush = %+v, %v; want none", g, err)
	}
}

func testCountAttempt(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	const w = time.Minute
	start := time.Now().UTC().Truncate(w)
	count := func(key string, at time.Time, delta int64) int64 {
		t.Helper()
		n, err := st.CountAttempt(ctx, key, at, w, delta)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i, c := range []struct {
		key   string
		at    time.Time
		delta int64
		want  int64
	}{
		{"ip:192.0.2.1", start, 1, 1},
		{"ip:192.0.2.1", start, 1, 2},
		{"ip:192.0.2.1", start, -1, 1},
		{"ip:192.0.2.1", start, 1, 2},
		{"account:a@example.com", start, 1, 1}, // keys are apart
		{"ip:192.0.2.1", start.Add(w), 1, 1},   // and so are windows
	} {
		if got := count(c.key, c.at, c.delta); got != c.want {
			t.Fatalf("step %d: CountAttempt(%s, %v, %+d) = %d, want %d", i, c.key, c.at, c.delta, got, c.want)
		}
	}
	// Concurrent attempts all count, each seeing a distinct value.
	const n = 50
	seen := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := st.CountAttempt(ctx, "account:busy@example.com", start, w, 1)
			if err != nil {
				t.Error(err)
			}
			seen[i] = v
		}()
	}
	wg.Wait()
	slices.Sort(seen)
	for i, v := range seen {
		if v != int64(i+1) {
			t.Fatalf("concurrent CountAttempt values %v, want 1..%d each once", seen, n)
		}
	}
	// At the end of the first window its counters are flushed; the next
	// window's stays.
	res, err := st.FlushExpired(ctx, start.Add(w), jwtrevoke.FlushOptions{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if (!selfExpiring && res.Attempts != 3) || res.Attempts > 3 {
		t.Fatalf("FlushExpired: Attempts = %d, want 3 (the first window's counters)", res.Attempts)
	}
	if got := count("ip:192.0.2.1", start.Add(w), 1); got != 2 {
		t.Fatalf("the second window's counter after the flush = %d, want 2", got)
	}
}

// testRevocationsConcurrent: revocations recorded at once by many callers
// (instances) all survive, each with its own Seq.
func testRevocationsConcurrent(t *testing.T, st jwtrevoke.Store) {
	ctx := t.Context()
	u := MustUser(t, st, "a@example.com")
	now := time.Now().UTC()
	const n = 30
	sessions := make([]jwtrevoke.Session, n)
	for i := range sessions {
		_, sessions[i] = MustSession(t, st, u.ID, now, time.Hour)
	}
	seqs := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: sessions[i].ID, UserID: u.ID,
				ExpiresAt: now.Add(time.Hour), Reason: "r", CreatedAt: now})
			if err != nil {
				t.Error(err)
				return
			}
			seqs[i] = got[0].Seq
		}()
	}
	wg.Wait()
	all, err := st.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("%d revocations stored after %d concurrent RevokeSession calls, want all %d", len(all), n, n)
	}
	got := map[string]bool{}
	for _, r := range all {
		got[r.SessionID] = true
	}
	for _, s := range sessions {
		if !got[s.ID] {
			t.Fatalf("the revocation of session %s was lost", s.ID)
		}
	}
	slices.Sort(seqs)
	for i := 1; i < n; i++ {
		if seqs[i] == seqs[i-1] {
			t.Fatalf("two revocations got Seq %d", seqs[i])
		}
	}
}
