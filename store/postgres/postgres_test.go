package postgres_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/postgres"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// freshSchema creates an empty schema on the server named by
// JWTREVOKE_TEST_POSTGRES and returns a URL whose search_path is it; the
// schema is dropped when the test ends.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("JWTREVOKE_TEST_POSTGRES")
	if base == "" {
		t.Skip("JWTREVOKE_TEST_POSTGRES not set; skipping PostgreSQL store tests (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "jwtrevoke_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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
		st := mustOpen(t, freshSchema(t))
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T) (jwtrevoke.Store, func() jwtrevoke.Store) {
		u := freshSchema(t)
		return mustOpen(t, u), func() jwtrevoke.Store { return mustOpen(t, u) }
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	st := mustOpen(t, freshSchema(t))
	defer st.Close()
	storetest.MustUser(t, st, "kept@example.com")
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if _, err := st.UserByEmail(t.Context(), "kept@example.com"); err != nil {
		t.Fatalf("user lost by a second Migrate: %v", err)
	}
}
