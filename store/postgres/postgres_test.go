package postgres_test

import (
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/postgres"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

func mustOpen(t *testing.T, u string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) jwtrevoke.Store {
		st := mustOpen(t, testdb.Postgres(t))
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T) (jwtrevoke.Store, func() jwtrevoke.Store) {
		u := testdb.Postgres(t)
		return mustOpen(t, u), func() jwtrevoke.Store { return mustOpen(t, u) }
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	st := mustOpen(t, testdb.Postgres(t))
	defer st.Close()
	storetest.MustUser(t, st, "kept@example.com")
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if _, err := st.UserByEmail(t.Context(), "kept@example.com"); err != nil {
		t.Fatalf("user lost by a second Migrate: %v", err)
	}
}
