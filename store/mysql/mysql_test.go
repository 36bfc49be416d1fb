package mysql_test

import (
	"context"
	"testing"

	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/mysql"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

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

func TestStore(t *testing.T) {
	storetest.RunDatabase(t, func(t *testing.T) string { return testdb.MySQL(t) }, func(ctx context.Context, loc string) (storetest.Migrator, error) {
		return mysql.Open(ctx, loc)
	}, storetest.Options{})
}

func BenchmarkStore(b *testing.B) {
	storetest.BenchDatabase(b, func(tb testing.TB) string { return testdb.MySQL(tb) },
		func(ctx context.Context, loc string) (storetest.Migrator, error) { return mysql.Open(ctx, loc) })
}
