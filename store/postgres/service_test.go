package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/password"
)

// TestPushReachesOtherInstance: with polling slowed to 5 s, a logout on
// instance A reaches instance B through LISTEN/NOTIFY within a second, and
// again after B's listening connection is killed on the server.
func TestPushReachesOtherInstance(t *testing.T) {
	u := testdb.Postgres(t) + "&application_name=jwtrevoke-push-test"
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = "postgres-push-test-key-0123456789abcdef"
	s.RevocationPollInterval = 5 * time.Second
	s.RevocationMaxStaleness = time.Minute
	opts := jwtrevoke.Options{Hasher: &password.Hasher{Memory: 64, Time: 1, Threads: 1}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	newService := func() *jwtrevoke.Service {
		svc, err := jwtrevoke.New(t.Context(), mustOpen(t, u), s, opts)
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b := newService(), newService()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go b.Maintain(ctx)
	if _, err := a.CreateUser(t.Context(), "p@example.com", "pw", false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // B's LISTEN is in place

	logoutReaches := func(step string) {
		t.Helper()
		p, err := a.Obtain(t.Context(), "p@example.com", "pw", jwtrevoke.ClientInfo{})
		if err != nil {
			t.Fatal(err)
		}
		_, c, err := b.Authenticate(t.Context(), p.Access)
		if err != nil {
			t.Fatalf("%s: B refuses a fresh token: %v", step, err)
		}
		if err := a.Logout(t.Context(), c, p.Refresh); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for {
			_, _, err := b.Authenticate(t.Context(), p.Access)
			if errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
				t.Logf("%s: B refused the token %v after the logout", step, time.Since(start))
				return
			}
			if time.Since(start) > time.Second {
				t.Fatalf("%s: B still accepts the token 1 s after the logout on A (polling is 5 s, so the push did not arrive)", step)
			}
			time.Sleep(time.Millisecond)
		}
	}
	logoutReaches("push")

	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN jwtrevoke_revocations' AND application_name = 'jwtrevoke-push-test' AND pid <> pg_backend_pid()`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("found no listening connection to kill")
	}
	time.Sleep(300 * time.Millisecond) // B notices and listens again
	logoutReaches("after the listener was killed")
}
