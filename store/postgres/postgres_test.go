package postgres_test

import (
	"context"
	"testing"

	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/postgres"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestNotify checks that a revocation committed through one store reaches a
// listener on another connection (LISTEN/NOTIFY).
func TestNotify(t *testing.T) {
	u := testdb.Postgres(t)
	a, b := mustOpen(t, u), mustOpen(t, u)
	defer a.Close()
	defer b.Close()
	storetest.RunNotify(t, a, b)
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
