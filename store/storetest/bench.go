package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// Bench benchmarks each store operation on the request paths: a login's
// IssueSession, a logout's Blacklist, a refresh's IsBlacklisted and a
// rotation's Rotate, the Revocations poll of every instance (and its
// BlacklistFeed's, where the store has one), a revocation
// without a token (RevokeSession), a login attempt's CountAttempt and a
// user lookup. open returns a fresh store, as for Run.
func Bench(b *testing.B, open func(b *testing.B) jwtrevoke.Store) {
	st := open(b)
	u := MustUser(b, st, "bench@example.com")
	now := time.Now().UTC()
	b.Run("IssueSession", func(b *testing.B) {
		for b.Loop() {
			MustSession(b, st, u.ID, now, time.Hour)
		}
	})
	b.Run("Blacklist", func(b *testing.B) {
		toks := make([]jwtrevoke.OutstandingToken, b.N)
		sess := make([]jwtrevoke.Session, b.N)
		for i := range b.N {
			toks[i], sess[i] = MustSession(b, st, u.ID, now, time.Hour)
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := st.Blacklist(b.Context(), toks[i], jwtrevoke.Revocation{SessionID: sess[i].ID, UserID: u.ID,
				ExpiresAt: now.Add(time.Hour), Reason: "logout", CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
	})
	tok, sess := MustSession(b, st, u.ID, now, time.Hour)
	b.Run("IsBlacklisted", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.IsBlacklisted(b.Context(), tok.JTI); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Rotate", func(b *testing.B) {
		old := tok
		for b.Loop() {
			r := rotation(old, true, &u.ID, now, now.Add(time.Hour), sess.ID, now.Add(2*time.Hour))
			if _, err := st.Rotate(b.Context(), r); err != nil {
				b.Fatal(err)
			}
			old = r.Next
		}
	})
	b.Run("RevokeSession", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.RevokeSession(b.Context(), jwtrevoke.Revocation{SessionID: id(), UserID: u.ID,
				ExpiresAt: now.Add(time.Hour), Reason: "bench", CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RevocationsPoll", func(b *testing.B) {
		// What every instance asks each REVOCATION_POLL_INTERVAL: anything
		// after the newest it has (usually nothing).
		all, err := st.Revocations(b.Context(), 0, now)
		if err != nil || len(all) == 0 {
			b.Fatalf("Revocations: %d, %v", len(all), err)
		}
		last := all[len(all)-1].Seq
		b.ResetTimer()
		for b.Loop() {
			if _, err := st.Revocations(b.Context(), last, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	if f, ok := jwtrevoke.FeedOf(st); ok {
		b.Run("BlacklistPoll", func(b *testing.B) {
			// What every instance asks with the revocation poll, on the
			// stores whose blacklist is SimpleJWT's table: the entries
			// after the newest it has (those of Blacklist above before it).
			all, err := f.BlacklistedAfter(b.Context(), 0, now, 1<<30)
			if err != nil || len(all) == 0 {
				b.Fatalf("BlacklistedAfter: %d, %v", len(all), err)
			}
			last := all[len(all)-1].ID
			b.ResetTimer()
			for b.Loop() {
				if _, err := f.BlacklistedAfter(b.Context(), last, now, 10_000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("CountAttempt", func(b *testing.B) {
		start := now.Truncate(time.Minute)
		i := 0
		for b.Loop() {
			i++
			if _, err := st.CountAttempt(b.Context(), fmt.Sprintf("ip:%d", i%64), start, time.Minute, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UserByID", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.UserByID(b.Context(), u.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchDatabase is Bench for a store kept in a database, opened (and
// migrated) as RunDatabase does.
func BenchDatabase(b *testing.B, fresh func(tb testing.TB) string, open func(ctx context.Context, loc string) (Migrator, error)) {
	Bench(b, func(b *testing.B) jwtrevoke.Store {
		st, err := open(b.Context(), fresh(b))
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Migrate(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	})
}
