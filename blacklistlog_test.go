package jwtrevoke_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/mongo"
	"github.com/jwtrevoke/jwtrevoke/store/postgres"
	"github.com/jwtrevoke/jwtrevoke/store/redis"
	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
)

// askCounter is a store that counts the IsBlacklisted calls made to it,
// and whose revocation log (or, with all, every call counted) fails while
// down is set. Its Unwrap lets the service find the optional interfaces
// of the store it wraps (LoggedBlacklist, Notifier).
type askCounter struct {
	jwtrevoke.Store
	asked atomic.Int64
	down  atomic.Bool
	all   atomic.Bool // IsBlacklisted fails too while down
}

var errDown = errors.New("store unreachable")

func (s *askCounter) Unwrap() jwtrevoke.Store { return s.Store }

func (s *askCounter) IsBlacklisted(ctx context.Context, jti string) (bool, error) {
	s.asked.Add(1)
	if s.down.Load() && s.all.Load() {
		return false, errDown
	}
	return s.Store.IsBlacklisted(ctx, jti)
}

func (s *askCounter) Revocations(ctx context.Context, after int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.Revocations(ctx, after, now)
}

// RevocationsPage fails while down, and otherwise reads the wrapped
// store's pages, or its whole log as one page.
func (s *askCounter) RevocationsPage(ctx context.Context, after int64, now time.Time, limit int) ([]jwtrevoke.Revocation, int64, error) {
	if s.down.Load() {
		return nil, 0, errDown
	}
	var tokens jwtrevoke.TokenStore = s.Store
	if sp, ok := tokens.(*jwtrevoke.SplitStore); ok {
		tokens = sp.Tokens()
	}
	if p, ok := tokens.(jwtrevoke.RevocationPager); ok {
		return p.RevocationsPage(ctx, after, now, limit)
	}
	revs, err := s.Store.Revocations(ctx, after, now)
	return revs, 0, err
}

// loggedStores opens, migrated, each store whose blacklist the service
// can hold in memory and whose server the environment names: Redis (users
// in SQLite) and MongoDB, which claim LoggedBlacklist, and SQLite and
// PostgreSQL, whose BlacklistFeed marks the rotated tokens.
func loggedStores(t *testing.T) map[string]func(t *testing.T) jwtrevoke.Store {
	return map[string]func(t *testing.T) jwtrevoke.Store{
		"redis": func(t *testing.T) jwtrevoke.Store {
			u := testdb.Redis(t)
			users, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "users.db"))
			if err != nil {
				t.Fatal(err)
			}
			if err := users.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			tokens, err := redis.Open(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			if err := tokens.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			st := jwtrevoke.Split(users, tokens)
			t.Cleanup(func() { st.Close() })
			return st
		},
		// The SQL stores hold rotated tokens in their blacklist feed
		// (BlacklistFeed), marked as rotated: the same semantics.
		"sqlite": func(t *testing.T) jwtrevoke.Store {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "rot.db"))
			return migrated(t, st, err)
		},
		"postgres": func(t *testing.T) jwtrevoke.Store {
			st, err := postgres.Open(t.Context(), testdb.Postgres(t))
			return migrated(t, st, err)
		},
		"mongo": func(t *testing.T) jwtrevoke.Store {
			st, err := mongo.Open(t.Context(), testdb.Mongo(t))
			if err != nil {
				t.Fatal(err)
			}
			st.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			if err := st.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

// migrated returns st, opened with err, migrated and closed when the test
// ends.
func migrated[S interface {
	jwtrevoke.Store
	Migrate(context.Context) error
}](t *testing.T, st S, err error) jwtrevoke.Store {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRotatedTokenRefusedFromMemory: on the stores whose blacklist is in
// the revocation log (Redis, MongoDB) or in a feed (SQLite, PostgreSQL), an instance without rotation
// refuses a token that another instance rotated away (and blacklisted)
// without asking the store, once its Maintain has loaded the rotation;
// refreshes of live tokens do not ask it either. With the view stale, or
// Maintain stopped, the store is asked again, and a store error refuses.
// The instance that rotates still answers a retry within
// REFRESH_REUSE_GRACE with the same pair, and another one without grace
// treats a reuse as one, revoking the session.
func TestRotatedTokenRefusedFromMemory(t *testing.T) {
	for name, open := range loggedStores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			newService := func(st jwtrevoke.Store, mod func(*jwtrevoke.Settings)) *jwtrevoke.Service {
				t.Helper()
				s := jwtrevoke.DefaultSettings()
				s.SigningKey = testKey
				s.RevocationPollInterval = 20 * time.Millisecond
				s.RevocationMaxStaleness = 500 * time.Millisecond
				s.RevocationFailMode = jwtrevoke.FailOpen // Refresh is what is tested, not Authenticate's refusal
				if mod != nil {
					mod(&s)
				}
				svc, err := jwtrevoke.New(t.Context(), st, s, jwtrevoke.Options{Hasher: cheap,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					t.Fatal(err)
				}
				return svc
			}
			rotating := func(grace time.Duration) func(*jwtrevoke.Settings) {
				return func(s *jwtrevoke.Settings) {
					s.RotateRefreshTokens, s.BlacklistAfterRotation, s.RefreshReuseGrace = true, true, grace
				}
			}
			ctx, stop := context.WithCancel(t.Context())
			defer stop()
			a := newService(st, rotating(time.Minute))
			go a.Maintain(ctx)
			counted := &askCounter{Store: st}
			b := newService(counted, nil)
			bctx, stopB := context.WithCancel(ctx)
			defer stopB()
			go b.Maintain(bctx)

			mustUser(t, a, "rot@example.com")
			p := mustLogin(t, a, "rot@example.com")
			p2, err := a.Refresh(t.Context(), p.Refresh)
			if err != nil || p2.Refresh == "" {
				t.Fatalf("rotation on A: %+v, %v", p2, err)
			}

			// B learns of the rotation from the revocation log.
			deadline := time.Now().Add(5 * time.Second)
			for {
				counted.asked.Store(0)
				_, err := b.Refresh(t.Context(), p.Refresh)
				if errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
					if n := counted.asked.Load(); n != 0 {
						t.Fatalf("B asked the store %d times to refuse the rotated token, want 0", n)
					}
					break
				}
				if err != nil {
					t.Fatalf("B refreshing the rotated token: %v, want ErrTokenBlacklisted", err)
				}
				if time.Now().After(deadline) {
					t.Fatal("B still refreshes the rotated token 5 s after the rotation")
				}
				time.Sleep(5 * time.Millisecond)
			}
			counted.asked.Store(0)
			if err := b.Verify(t.Context(), p.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
				t.Fatalf("B verifying the rotated token: %v, want ErrTokenBlacklisted", err)
			}
			if _, err := b.Refresh(t.Context(), p2.Refresh); err != nil {
				t.Fatalf("B refreshing the live token: %v", err)
			}
			if n := counted.asked.Load(); n != 0 {
				t.Fatalf("B asked the store %d times (verify, live refresh), want 0", n)
			}

			// The rotation's own instance keeps its rotation semantics: a
			// retry within the grace window gets the same pair...
			again, err := a.Refresh(t.Context(), p.Refresh)
			if err != nil || again != p2 {
				t.Fatalf("retry within the grace window on A: %+v, %v; want the same pair", again, err)
			}
			// ...and, on an instance without grace, a reuse revokes the
			// session (the rotated token's revocation must not short-cut
			// the store's answer).
			strict := newService(st, rotating(0))
			go strict.Maintain(ctx)
			// Once strict has loaded the rotation (a Sync begun after it):
			// its memory, not only the store, knows the token.
			for loaded := time.Now(); !strict.LastSync().After(loaded); time.Sleep(5 * time.Millisecond) {
				if time.Since(loaded) > 5*time.Second {
					t.Fatal("the strict instance did not sync within 5 s")
				}
			}
			if _, err := strict.Refresh(t.Context(), p.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
				t.Fatalf("reuse: %v, want ErrTokenBlacklisted", err)
			}
			if _, _, err := strict.Authenticate(t.Context(), p2.Access); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
				t.Fatalf("access token of the reused session after the reuse: %v, want ErrTokenBlacklisted (session revoked)", err)
			}

			// A fresh login and rotation for the stale checks.
			q := mustLogin(t, a, "rot@example.com")
			q2, err := a.Refresh(t.Context(), q.Refresh)
			if err != nil {
				t.Fatal(err)
			}
			// With the log unreachable the view goes stale: B asks the store.
			counted.down.Store(true)
			time.Sleep(700 * time.Millisecond) // past RevocationMaxStaleness
			counted.asked.Store(0)
			if _, err := b.Refresh(t.Context(), q.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
				t.Fatalf("B with a stale view refreshing a rotated token: %v, want ErrTokenBlacklisted", err)
			}
			if n := counted.asked.Load(); n != 1 {
				t.Fatalf("B with a stale view asked the store %d times, want 1", n)
			}
			// And refuses when the store cannot answer either.
			counted.all.Store(true)
			if _, err := b.Refresh(t.Context(), q2.Refresh); err == nil {
				t.Fatal("B with a stale view and the store down refreshed a token, want an error")
			}
			counted.all.Store(false)
			counted.down.Store(false)

			// Current again: not asked; Maintain stopped: asked.
			deadline = time.Now().Add(5 * time.Second)
			for {
				counted.asked.Store(0)
				if _, err := b.Refresh(t.Context(), q2.Refresh); err != nil {
					t.Fatal(err)
				}
				if counted.asked.Load() == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("B still asks the store 5 s after the log came back")
				}
				time.Sleep(10 * time.Millisecond)
			}
			stopB()
			time.Sleep(50 * time.Millisecond) // Maintain returns
			counted.asked.Store(0)
			if _, err := b.Refresh(t.Context(), q.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
				t.Fatalf("B without Maintain refreshing a rotated token: %v, want ErrTokenBlacklisted", err)
			}
			if n := counted.asked.Load(); n != 1 {
				t.Fatalf("B without Maintain asked the store %d times, want 1", n)
			}
		})
	}
}

// TestRotatedTokenRefusedAtOnce: the instance that rotates a refresh
// token away (blacklisting it) refuses it from memory at once, before any
// Sync has loaded the rotation: with a poll interval of an hour, verify
// answers blacklisted without asking the store, and a retry within the
// grace window still gets the same pair.
func TestRotatedTokenRefusedAtOnce(t *testing.T) {
	for name, open := range loggedStores(t) {
		t.Run(name, func(t *testing.T) {
			counted := &askCounter{Store: open(t)}
			s := jwtrevoke.DefaultSettings()
			s.SigningKey = testKey
			s.RevocationPollInterval = time.Hour
			s.RevocationMaxStaleness = 2 * time.Hour
			s.RotateRefreshTokens, s.BlacklistAfterRotation, s.RefreshReuseGrace = true, true, time.Minute
			svc, err := jwtrevoke.New(t.Context(), counted, s, jwtrevoke.Options{Hasher: cheap,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(t.Context())
			defer stop()
			go svc.Maintain(ctx)
			mustUser(t, svc, "once@example.com")
			p := mustLogin(t, svc, "once@example.com")
			// Once Maintain runs, a verify of a live refresh token asks
			// the store nothing.
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				counted.asked.Store(0)
				if err := svc.Verify(t.Context(), p.Refresh); err != nil {
					t.Fatalf("verify of a live refresh token: %v", err)
				}
				if counted.asked.Load() == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("verify still asks the store 5 s after Maintain started")
				}
			}
			p2, err := svc.Refresh(t.Context(), p.Refresh)
			if err != nil || p2.Refresh == "" {
				t.Fatalf("rotation: %+v, %v", p2, err)
			}
			counted.asked.Store(0)
			if err := svc.Verify(t.Context(), p.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
				t.Fatalf("verify of the token just rotated away: %v, want ErrTokenBlacklisted", err)
			}
			if n := counted.asked.Load(); n != 0 {
				t.Fatalf("verify of the token just rotated away asked the store %d times, want 0", n)
			}
			if again, err := svc.Refresh(t.Context(), p.Refresh); err != nil || again != p2 {
				t.Fatalf("retry within the grace window: %+v, %v; want the same pair", again, err)
			}
		})
	}
}
