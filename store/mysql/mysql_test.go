package mysql_test

import (
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/mysql"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

func mustOpen(t *testing.T, u string) *mysql.Store {
	t.Helper()
	st, err := mysql.Open(t.Context(), u)
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
		st := mustOpen(t, testdb.MySQL(t))
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T) (jwtrevoke.Store, func() jwtrevoke.Store) {
		u := testdb.MySQL(t)
		return mustOpen(t, u), func() jwtrevoke.Store { return mustOpen(t, u) }
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	st := mustOpen(t, testdb.MySQL(t))
	defer st.Close()
	storetest.MustUser(t, st, "kept@example.com")
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if _, err := st.UserByEmail(t.Context(), "KEPT@example.com"); err != nil {
		t.Fatalf("user lost by a second Migrate: %v", err)
	}
}

func TestDSN(t *testing.T) {
	got, err := mysql.DSN("mysql://app:s%40cret@db.example:3307/auth?tls=false")
	if err != nil {
		t.Fatal(err)
	}
	want := "app:s@cret@tcp(db.example:3307)/auth?parseTime=true&time_zone=%27%2B00%3A00%27&tls=false"
	if got != want {
		t.Fatalf("DSN = %q, want %q", got, want)
	}
	if _, err := mysql.DSN("postgres://x@y/z"); err == nil {
		t.Fatal("DSN accepted a postgres URL")
	}
}
