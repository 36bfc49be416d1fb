package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestSimpleJWTSchema checks that the token_blacklist tables are exactly
// the ones Django's migrations create (shared/reference/schema/sqlite.sql),
// so a Django + SimpleJWT project can use the same file.
func TestSimpleJWTSchema(t *testing.T) {
	ref, err := os.ReadFile("testdata/simplejwt_sqlite.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "test.db")
	st := mustOpen(t, path)
	st.Close()
	got := schemaOf(t, path)
	for _, stmt := range strings.Split(strings.TrimSpace(string(ref)), ";\n") {
		want := strings.TrimSuffix(strings.ReplaceAll(stmt, "IF NOT EXISTS ", ""), ";")
		if !strings.Contains(got, want) {
			t.Errorf("schema lacks Django's statement\n%s\ngot schema:\n%s", want, got)
		}
	}
}

// schemaOf returns the CREATE statements SQLite recorded, one per line.
func schemaOf(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		b.WriteString(strings.ReplaceAll(s, "IF NOT EXISTS ", "") + "\n")
	}
	return b.String()
}

func TestStore(t *testing.T) {
	storetest.RunDatabase(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "test.db") }, func(ctx context.Context, loc string) (storetest.Migrator, error) {
		return sqlite.Open(ctx, loc)
	}, storetest.Options{})
}

func mustOpen(t *testing.T, loc string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func BenchmarkStore(b *testing.B) {
	storetest.BenchDatabase(b, func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "bench.db") },
		func(ctx context.Context, loc string) (storetest.Migrator, error) { return sqlite.Open(ctx, loc) })
}
