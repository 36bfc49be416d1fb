package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/postgres"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestNotify checks that a revocation committed through one store reaches a
// listener on another connection.
func TestNotify(t *testing.T) {
	u := testdb.Postgres(t)
	a, b := mustOpen(t, u), mustOpen(t, u)
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	poked := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() { done <- b.Notify(ctx, func() { poked <- struct{}{} }) }()
	select {
	case <-poked: // the initial poke, once LISTEN is in place
	case err := <-done:
		t.Fatalf("Notify: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no initial poke")
	}
	u1 := storetest.MustUser(t, a, "n@example.com")
	now := time.Now()
	tok, sess := storetest.MustSession(t, a, u1.ID, now, time.Hour)
	if _, err := a.Blacklist(t.Context(), tok, jwtrevoke.Revocation{SessionID: sess.ID, UserID: u1.ID, ExpiresAt: now.Add(time.Hour), Reason: "logout", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-poked:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10 s of a committed revocation")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Notify after cancel returned %v, want nil", err)
	}
}

func TestStore(t *testing.T) {
	storetest.RunDatabase(t, func(t *testing.T) string { return testdb.Postgres(t) }, func(ctx context.Context, loc string) (storetest.Migrator, error) {
		return postgres.Open(ctx, loc)
	}, storetest.Options{})
}

func mustOpen(t *testing.T, loc string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func BenchmarkStore(b *testing.B) {
	storetest.BenchDatabase(b, func(tb testing.TB) string { return testdb.Postgres(tb) },
		func(ctx context.Context, loc string) (storetest.Migrator, error) { return postgres.Open(ctx, loc) })
}
