package redis_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/redis"
	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// split is users in SQLite and tokens in Redis, as --token-store redis://
// sets it up.
type split struct {
	*jwtrevoke.SplitStore
	users *sqlite.Store
}

// Migrate migrates both stores, as jwtrevoke serve does.
func (s split) Migrate(ctx context.Context) error {
	if err := s.users.Migrate(ctx); err != nil {
		return err
	}
	return s.Tokens().(*redis.Store).Migrate(ctx)
}

// open opens "REDIS_URL|SQLITE_PATH".
func open(ctx context.Context, loc string) (storetest.Migrator, error) {
	redisURL, path, _ := strings.Cut(loc, "|")
	users, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	tokens, err := redis.Open(ctx, redisURL)
	if err != nil {
		users.Close()
		return nil, err
	}
	return split{jwtrevoke.Split(users, tokens), users}, nil
}

func TestStore(t *testing.T) {
	storetest.RunDatabase(t, func(t *testing.T) string {
		return testdb.Redis(t) + "|" + filepath.Join(t.TempDir(), "users.db")
	}, open, storetest.Options{SelfExpiring: true})
}

// TestKeysExpire checks that Redis itself forgets a revoked session's key
// when the last token of the session expires: its TTL is the remaining
// lifetime, as seed 001 describes.
func TestKeysExpire(t *testing.T) {
	u := testdb.Redis(t)
	st := mustOpen(t, u)
	now := time.Now()
	uid := int64(7)
	exp := now.Add(90 * time.Second).Truncate(time.Second)
	tok := jwtrevoke.OutstandingToken{UserID: &uid, JTI: "0123456789abcdef0123456789abcdef", Token: "h.p.s", CreatedAt: &now, ExpiresAt: exp}
	sess := jwtrevoke.Session{ID: "0190aaaabbbbccccddddeeeeffff0000", UserID: uid, CreatedAt: now, ExpiresAt: exp.Add(5 * time.Minute)}
	if err := st.IssueSession(t.Context(), tok, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Blacklist(t.Context(), tok, jwtrevoke.Revocation{SessionID: sess.ID, UserID: uid, ExpiresAt: exp, Reason: "logout", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := client(t, u)
	prefix := "{jwtrevoke}:" + prefixOf(t, u) + ":"
	for key, want := range map[string]time.Time{
		prefix + "revoked:session:" + sess.ID: sess.ExpiresAt, // raised to the session's expiry
		prefix + "tok:" + tok.JTI:             exp,
	} {
		ttl, err := c.PTTL(t.Context(), key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(want) - ttl; ttl <= 0 || d < -2*time.Second || d > 2*time.Second {
			t.Errorf("TTL of %s = %v, want about %v", key, ttl, time.Until(want))
		}
	}
}

// TestNotify checks that a revocation recorded through one store reaches a
// subscriber on another connection (pub/sub).
func TestNotify(t *testing.T) {
	u := testdb.Redis(t)
	storetest.RunNotify(t, mustOpen(t, u), mustOpen(t, u))
}

// TestRefusesEviction checks that Open refuses a server that may evict
// keys, unless the URL accepts the risk.
func TestRefusesEviction(t *testing.T) {
	u := testdb.Redis(t)
	c := client(t, u)
	old, err := c.ConfigGet(t.Context(), "maxmemory-policy").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(t.Context(), "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	defer c.ConfigSet(context.Background(), "maxmemory-policy", old["maxmemory-policy"])
	if st, err := redis.Open(t.Context(), u); err == nil {
		st.Close()
		t.Fatal("Open accepted a server with maxmemory-policy allkeys-lru")
	} else if !strings.Contains(err.Error(), "noeviction") {
		t.Fatalf("Open error %q does not say what to set", err)
	}
	st, err := redis.Open(t.Context(), u+"&allow_eviction=true")
	if err != nil {
		t.Fatalf("Open with allow_eviction=true: %v", err)
	}
	st.Close()
}

func TestOpenErrors(t *testing.T) {
	for _, u := range []string{"postgres://x/y", "redis://127.0.0.1:1/0", "redis://127.0.0.1:6379/notanumber"} {
		if st, err := redis.Open(t.Context(), u); err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}

func client(t *testing.T, u string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(strings.Split(u, "?")[0])
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func prefixOf(t *testing.T, u string) string {
	t.Helper()
	_, q, _ := strings.Cut(u, "?prefix=")
	if q == "" {
		t.Fatalf("no prefix in %s", u)
	}
	return strings.Split(q, "&")[0]
}

// TestFlushCleansIndexesOfExpiredKeys checks that flushexpiredtokens also
// empties the per-user indexes of tokens and sessions whose own keys Redis
// already dropped at their expiry.
func TestFlushCleansIndexesOfExpiredKeys(t *testing.T) {
	u := testdb.Redis(t)
	st := mustOpen(t, u)
	c := client(t, u)
	prefix := "{jwtrevoke}:" + prefixOf(t, u) + ":"
	now := time.Now()
	uid := int64(42)
	past := now.Add(-time.Minute).Truncate(time.Second)
	created := past.Add(-time.Hour)
	tok := jwtrevoke.OutstandingToken{UserID: &uid, JTI: "cccccccccccccccccccccccccccccccc", Token: "h.p.s", CreatedAt: &created, ExpiresAt: past}
	sess := jwtrevoke.Session{ID: "0190cccccccccccccccccccccccccccc", UserID: uid, CreatedAt: created, ExpiresAt: past}
	if err := st.IssueSession(t.Context(), tok, sess); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(t.Context(), prefix+"tok:"+tok.JTI, prefix+"sess:"+sess.ID).Result(); err != nil || n != 0 {
		t.Fatalf("keys of an expired token and session still exist: %d, %v", n, err)
	}
	res, err := st.FlushExpired(t.Context(), now, jwtrevoke.FlushOptions{Batch: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outstanding != 1 || res.Sessions != 1 {
		t.Errorf("FlushExpired = %+v, want 1 token and 1 session", res)
	}
	for _, key := range []string{"utoks:42", "usess:42", "toks", "toks:exp", "toks:created", "sess:exp"} {
		if n, err := c.ZCard(t.Context(), prefix+key).Result(); err != nil || n != 0 {
			t.Errorf("index %s has %d entries after the flush (%v), want 0", key, n, err)
		}
	}
}

// TestRotationExpires checks that Redis keeps a rotation until the old
// token expires, and no longer.
func TestRotationExpires(t *testing.T) {
	u := testdb.Redis(t)
	st := mustOpen(t, u)
	now := time.Now()
	uid := int64(9)
	exp := now.Add(90 * time.Second).Truncate(time.Second)
	old := jwtrevoke.OutstandingToken{UserID: &uid, JTI: "dddddddddddddddddddddddddddddddd", Token: "h.p.s", CreatedAt: &now, ExpiresAt: exp}
	sess := jwtrevoke.Session{ID: "0190aaaabbbbccccddddeeeeffff0001", UserID: uid, CreatedAt: now, ExpiresAt: exp.Add(5 * time.Minute)}
	if err := st.IssueSession(t.Context(), old, sess); err != nil {
		t.Fatal(err)
	}
	next := jwtrevoke.OutstandingToken{UserID: &uid, JTI: "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", Token: "h.q.s", CreatedAt: &now, ExpiresAt: exp.Add(time.Hour)}
	if _, err := st.Rotate(t.Context(), jwtrevoke.Rotation{Old: old, BlacklistOld: true, Next: next, Access: "a.b.c",
		SessionID: sess.ID, SessionExpires: next.ExpiresAt.Add(5 * time.Minute), RotatedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := client(t, u)
	key := "{jwtrevoke}:" + prefixOf(t, u) + ":rot:" + old.JTI
	ttl, err := c.PTTL(t.Context(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp) - ttl; ttl <= 0 || d < -2*time.Second || d > 2*time.Second {
		t.Errorf("TTL of %s = %v, want about %v (until the old token expires)", key, ttl, time.Until(exp))
	}
}

// TestMigrateIndexesOldData: data written without the indexes that
// listing and Stats read (as versions before schema 2 wrote it) is
// indexed by Migrate, once.
func TestMigrateIndexesOldData(t *testing.T) {
	ctx := t.Context()
	u := testdb.Redis(t)
	st := mustOpen(t, u)
	c := client(t, u)
	prefix := "{jwtrevoke}:" + prefixOf(t, u) + ":"
	now := time.Now().UTC()
	uid := int64(5)
	var toks []jwtrevoke.OutstandingToken
	var sids []string
	for i := range 4 {
		created := now.Add(-time.Duration(i) * time.Minute)
		tok := jwtrevoke.OutstandingToken{UserID: &uid, JTI: fmt.Sprintf("%032x", 0xf00+i), Token: "h.p.s", CreatedAt: &created, ExpiresAt: now.Add(time.Hour).Truncate(time.Second)}
		if i == 3 {
			tok.CreatedAt = nil
		}
		sid := fmt.Sprintf("0190%028x", i)
		if err := st.IssueSession(ctx, tok, jwtrevoke.Session{ID: sid, UserID: uid, CreatedAt: now, ExpiresAt: tok.ExpiresAt}); err != nil {
			t.Fatal(err)
		}
		toks, sids = append(toks, tok), append(sids, sid)
	}
	if _, err := st.Blacklist(ctx, toks[1], jwtrevoke.Revocation{SessionID: sids[1], UserID: uid, ExpiresAt: now.Add(time.Hour), Reason: "logout", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: sids[2], UserID: uid, ExpiresAt: now.Add(time.Hour), Reason: "session_ended", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	queries := []jwtrevoke.TokenQuery{{}, {Ascending: true}, {Sort: jwtrevoke.SortBlacklisted}, {Status: jwtrevoke.TokenBlacklisted}}
	snapshot := func() (jwtrevoke.Stats, [][]jwtrevoke.OutstandingToken) {
		t.Helper()
		stats, err := st.Stats(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		var lists [][]jwtrevoke.OutstandingToken
		for _, q := range queries {
			l, err := st.OutstandingTokens(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			lists = append(lists, l)
		}
		return stats, lists
	}
	wantStats, wantLists := snapshot()
	if wantStats.LiveTokens != 3 || wantStats.BlacklistedTokens != 1 || wantStats.LiveSessions != 2 || wantStats.RevokedLastHour != 2 || len(wantLists[0]) != 4 {
		t.Fatalf("before: %+v, %d tokens", wantStats, len(wantLists[0]))
	}
	if err := c.Del(ctx, prefix+"toks:created", prefix+"btoks:at", prefix+"btoks:exp", prefix+"rsess:exp", prefix+"revs:created").Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := snapshot(); got == wantStats {
		t.Fatal("Stats unchanged without the indexes: the test tests nothing")
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	gotStats, gotLists := snapshot()
	if gotStats != wantStats {
		t.Fatalf("Stats after Migrate = %+v, want %+v", gotStats, wantStats)
	}
	for i := range queries {
		if !reflect.DeepEqual(gotLists[i], wantLists[i]) {
			t.Fatalf("OutstandingTokens(%+v) after Migrate = %+v, want %+v", queries[i], gotLists[i], wantLists[i])
		}
	}
	// Once only: the version is recorded.
	if err := c.Del(ctx, prefix+"toks:created").Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := c.ZCard(ctx, prefix+"toks:created").Result(); err != nil || n != 0 {
		t.Fatalf("a second Migrate indexed %d tokens again (%v), want none", n, err)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.BenchDatabase(b, func(tb testing.TB) string {
		return testdb.Redis(tb) + "|" + filepath.Join(tb.TempDir(), "users.db")
	}, open)
}

// mustOpen opens the Redis store at u, closed when the test ends.
func mustOpen(t *testing.T, u string) *redis.Store {
	t.Helper()
	st, err := redis.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestMigrateLogsOldRotations: a database whose rotations blacklisted the
// old token without recording its revocation (versions before schema 3)
// does not claim BlacklistLogged until Migrate has recorded them, once;
// tokens blacklisted otherwise (with their session's revocation) and
// rotations that left the old token alone get none.
func TestMigrateLogsOldRotations(t *testing.T) {
	ctx := t.Context()
	u := testdb.Redis(t)
	st := mustOpen(t, u)
	if st.BlacklistLogged() {
		t.Fatal("BlacklistLogged before Migrate on a database of no version")
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if !st.BlacklistLogged() {
		t.Fatal("BlacklistLogged false after Migrate")
	}
	now := time.Now().UTC()
	uid := int64(11)
	issue := func(i int) (jwtrevoke.OutstandingToken, string) {
		t.Helper()
		tok := jwtrevoke.OutstandingToken{UserID: &uid, JTI: fmt.Sprintf("%032x", 0xa00+i), Token: "h.p.s", CreatedAt: &now, ExpiresAt: now.Add(time.Hour).Truncate(time.Second)}
		sid := fmt.Sprintf("0191%028x", i)
		if err := st.IssueSession(ctx, tok, jwtrevoke.Session{ID: sid, UserID: uid, CreatedAt: now, ExpiresAt: tok.ExpiresAt.Add(5 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		return tok, sid
	}
	rotate := func(old jwtrevoke.OutstandingToken, sid string, blacklistOld bool, i int) {
		t.Helper()
		next := jwtrevoke.OutstandingToken{UserID: &uid, JTI: fmt.Sprintf("%032x", 0xb00+i), Token: "h.q.s", CreatedAt: &now, ExpiresAt: now.Add(2 * time.Hour).Truncate(time.Second)}
		if _, err := st.Rotate(ctx, jwtrevoke.Rotation{Old: old, BlacklistOld: blacklistOld, Next: next, Access: "a.b.c",
			SessionID: sid, SessionExpires: next.ExpiresAt.Add(5 * time.Minute), RotatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	rotated, s0 := issue(0)
	rotate(rotated, s0, true, 0)
	kept, s1 := issue(1)
	rotate(kept, s1, false, 1)
	loggedOut, s2 := issue(2)
	if _, err := st.Blacklist(ctx, loggedOut, jwtrevoke.Revocation{SessionID: s2, UserID: uid, ExpiresAt: loggedOut.ExpiresAt, Reason: "logout", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

	// As an earlier version left it: no revocation for the rotation.
	c := client(t, u)
	prefix := "{jwtrevoke}:" + prefixOf(t, u) + ":"
	revs, err := st.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range revs {
		if r.JTI != "" {
			seq := strconv.FormatInt(r.Seq, 10)
			if err := errors.Join(c.Del(ctx, prefix+"revoked:token:"+r.JTI).Err(),
				c.ZRemRangeByScore(ctx, prefix+"revlog", seq, seq).Err(), c.ZRem(ctx, prefix+"revs:exp", seq).Err(),
				c.ZRem(ctx, prefix+"revs:created", seq).Err()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.Set(ctx, prefix+"schema", 2, 0).Err(); err != nil {
		t.Fatal(err)
	}
	tokenRevs := func(st *redis.Store) map[string][]jwtrevoke.Revocation {
		t.Helper()
		revs, err := st.Revocations(ctx, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]jwtrevoke.Revocation{}
		for _, r := range revs {
			if r.JTI != "" {
				out[r.JTI] = append(out[r.JTI], r)
			}
		}
		return out
	}
	old := mustOpen(t, u)
	if old.BlacklistLogged() {
		t.Fatal("BlacklistLogged on a database at schema 2")
	}
	if got := tokenRevs(old); len(got) != 0 {
		t.Fatalf("token revocations before Migrate: %+v (the test tests nothing)", got)
	}
	for range 2 { // the second does nothing more
		if err := old.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if !old.BlacklistLogged() {
			t.Fatal("BlacklistLogged false after Migrate")
		}
		got := tokenRevs(old)
		if len(got) != 1 || len(got[rotated.JTI]) != 1 {
			t.Fatalf("token revocations after Migrate: %+v; want one, of the rotated token %s", got, rotated.JTI)
		}
		if r := got[rotated.JTI][0]; r.Reason != jwtrevoke.ReasonRotated || !r.ExpiresAt.Equal(rotated.ExpiresAt) || r.UserID != uid {
			t.Fatalf("revocation of the rotated token %+v: want reason %q, expiry %v, user %d", r, jwtrevoke.ReasonRotated, rotated.ExpiresAt, uid)
		}
	}
	if v, err := c.Get(ctx, prefix+"schema").Int(); err != nil || v != 4 {
		t.Fatalf("schema %d (%v) after Migrate, want 4", v, err)
	}
	if again := mustOpen(t, u); !again.BlacklistLogged() {
		t.Fatal("Open of a migrated database: BlacklistLogged false")
	}
}

// TestLongRevocationPage: a page of thousands of revocations comes back
// whole, in Seq order, without those that have expired at the time asked
// for.
func TestLongRevocationPage(t *testing.T) {
	st := mustOpen(t, testdb.Redis(t))
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	base := time.Now().Add(time.Hour).Truncate(time.Second)
	for i := range n {
		// every other one expires first
		exp := base.Add(time.Duration(i%2*n+i) * time.Second)
		rev := jwtrevoke.Revocation{SessionID: fmt.Sprintf("%032x", i), UserID: 1, ExpiresAt: exp, Reason: "logout", CreatedAt: time.Now()}
		if _, err := st.RevokeSession(t.Context(), rev); err != nil {
			t.Fatal(err)
		}
	}
	at := base.Add(n * time.Second) // the even ones have expired
	revs, next, err := st.RevocationsPage(t.Context(), 0, at, 0)
	if err != nil {
		t.Fatal(err)
	}
	if next != 0 || len(revs) != n/2 {
		t.Fatalf("got %d revocations (next %d), want %d (next 0)", len(revs), next, n/2)
	}
	for k, r := range revs {
		if want := fmt.Sprintf("%032x", 2*k+1); r.SessionID != want || (k > 0 && r.Seq <= revs[k-1].Seq) {
			t.Fatalf("revocation %d: session %s seq %d (previous seq %d), want session %s in seq order", k, r.SessionID, r.Seq, revs[max(k-1, 0)].Seq, want)
		}
	}
}

// TestMigrateMovesRevocationsToLog: revocations kept a key each, as
// versions before schema 4 kept them (rev:<seq>, indexed by revs), are
// refused by Open (reading without them would let revoked sessions in)
// and moved by Migrate into the revocation log, in order; a member of
// revs whose key Redis has dropped is dropped too.
func TestMigrateMovesRevocationsToLog(t *testing.T) {
	ctx := t.Context()
	u := testdb.Redis(t)
	st := mustOpen(t, u)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 5 {
		if _, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: fmt.Sprintf("0190%028x", i), UserID: 7,
			ExpiresAt: now.Add(time.Duration(i+1) * time.Hour), Reason: "logout", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := st.Revocations(ctx, 0, now)
	if err != nil || len(want) != 5 {
		t.Fatalf("Revocations = %d, %v; want 5", len(want), err)
	}
	wantStats, err := st.Stats(ctx, now)
	if err != nil {
		t.Fatal(err)
	}

	// Back to the layout of schema 3.
	c := client(t, u)
	prefix := "{jwtrevoke}:" + prefixOf(t, u) + ":"
	members, err := c.ZRangeWithScores(ctx, prefix+"revlog", 0, -1).Result()
	if err != nil || len(members) != 5 {
		t.Fatalf("revlog holds %d members (%v), want 5", len(members), err)
	}
	for i, m := range members {
		seq := strconv.FormatInt(int64(m.Score), 10)
		if err := c.Set(ctx, prefix+"rev:"+seq, m.Member, time.Until(want[i].ExpiresAt)).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.ZAdd(ctx, prefix+"revs", goredis.Z{Score: m.Score, Member: seq}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A revocation whose key has expired: its member of revs is left.
	if err := c.ZAdd(ctx, prefix+"revs", goredis.Z{Score: 99, Member: "99"}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(c.Del(ctx, prefix+"revlog").Err(), c.Set(ctx, prefix+"schema", 3, 0).Err()); err != nil {
		t.Fatal(err)
	}

	old := mustOpen(t, u)
	if _, err := old.Revocations(ctx, 0, now); err == nil || !strings.Contains(err.Error(), "jwtrevoke migrate") {
		t.Fatalf("Revocations before Migrate: %v, want an error asking for jwtrevoke migrate", err)
	}
	if _, err := old.LastRevocationSeq(ctx); err == nil {
		t.Fatal("LastRevocationSeq before Migrate: no error")
	}
	// A service (serve --no-migrate) does not start on it.
	users, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer users.Close()
	if err := users.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	set := jwtrevoke.DefaultSettings()
	set.SigningKey = strings.Repeat("k", 32)
	if _, err := jwtrevoke.New(ctx, jwtrevoke.Split(users, old), set, jwtrevoke.Options{Hasher: &password.Hasher{Memory: 64, Time: 1, Threads: 1}}); err == nil || !strings.Contains(err.Error(), "jwtrevoke migrate") {
		t.Fatalf("New before Migrate: %v, want an error asking for jwtrevoke migrate", err)
	}
	if err := old.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := old.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Revocations after Migrate:\n%+v\nwant\n%+v", got, want)
	}
	page, next, err := old.RevocationsPage(ctx, 0, now, 2)
	if err != nil || len(page) != 2 || page[1].Seq != want[1].Seq || next != want[1].Seq {
		t.Fatalf("RevocationsPage(0, limit 2) = %+v, next %d, %v; want the first two, next %d", page, next, err, want[1].Seq)
	}
	if last, err := old.LastRevocationSeq(ctx); err != nil || last != want[4].Seq {
		t.Fatalf("LastRevocationSeq = %d, %v; want %d", last, err, want[4].Seq)
	}
	if gotStats, err := old.Stats(ctx, now); err != nil || gotStats != wantStats {
		t.Fatalf("Stats after Migrate = %+v, %v; want %+v", gotStats, err, wantStats)
	}
	left, err := c.Keys(ctx, prefix+"rev:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, prefix+"revs").Result(); err != nil || n != 0 || len(left) != 0 {
		t.Fatalf("after Migrate: revs exists %d (%v), rev: keys %v; want none", n, err, left)
	}
	if !old.BlacklistLogged() {
		t.Fatal("BlacklistLogged false after Migrate")
	}
	// A second open finds the version: it reads at once.
	if _, err := mustOpen(t, u).Revocations(ctx, 0, now); err != nil {
		t.Fatal(err)
	}
}
