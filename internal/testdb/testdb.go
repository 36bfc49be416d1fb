// Package testdb gives tests a fresh, empty database on the real servers
// named by JWTREVOKE_TEST_POSTGRES, JWTREVOKE_TEST_MYSQL,
// JWTREVOKE_TEST_REDIS and JWTREVOKE_TEST_MONGO, and skips the
// test with a clear message when the variable is unset.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	mongoopts "go.mongodb.org/mongo-driver/v2/mongo/options"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/jwtrevoke/jwtrevoke/store/mysql"
)

// Skip skips the test for a missing server, or fails it when
// JWTREVOKE_TEST_REQUIRE_ALL=1 (as .ci/run sets it): CI must run every test.
func Skip(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("JWTREVOKE_TEST_REQUIRE_ALL") == "1" {
		t.Fatal(msg + " (JWTREVOKE_TEST_REQUIRE_ALL=1: every test must run)")
	}
	t.Skip(msg)
}

func name() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "jwtrevoke_test_" + hex.EncodeToString(b[:])
}

// Postgres creates an empty schema and returns a URL whose search_path is
// it; the schema is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv("JWTREVOKE_TEST_POSTGRES")
	if base == "" {
		Skip(t, "JWTREVOKE_TEST_POSTGRES not set; skipping PostgreSQL tests (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	schema := name()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema on %s: %v", redact(base), err)
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

// MySQL creates an empty database and returns its URL; it is dropped when
// the test ends.
func MySQL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("JWTREVOKE_TEST_MYSQL")
	if base == "" {
		Skip(t, "JWTREVOKE_TEST_MYSQL not set; skipping MySQL/MariaDB tests (e.g. mysql://root@127.0.0.1:3306/test)")
	}
	dsn, err := mysql.DSN(base)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := name()
	if _, err := admin.Exec("CREATE DATABASE " + db + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatalf("create database on %s: %v", redact(base), err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE " + db)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	return u.String()
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// Mongo returns the URL of a fresh database on the MongoDB wire-protocol
// server named by JWTREVOKE_TEST_MONGO; it is dropped when the test ends.
func Mongo(t testing.TB) string {
	t.Helper()
	base := os.Getenv("JWTREVOKE_TEST_MONGO")
	if base == "" {
		Skip(t, "JWTREVOKE_TEST_MONGO not set; skipping MongoDB tests (e.g. mongodb://127.0.0.1:27017/ with FerretDB from tools/ferretdb)")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	db := name()
	u.Path = "/" + db
	client, err := mongodrv.Connect(mongoopts.Client().ApplyURI(base))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_ = client.Database(db).Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	return u.String()
}

// Redis returns the URL of the Redis server named by JWTREVOKE_TEST_REDIS
// with a fresh key prefix (the store's prefix parameter); the keys under
// it are deleted when the test ends.
func Redis(t testing.TB) string {
	t.Helper()
	base := os.Getenv("JWTREVOKE_TEST_REDIS")
	if base == "" {
		Skip(t, "JWTREVOKE_TEST_REDIS not set; skipping Redis tests (e.g. redis://127.0.0.1:6379/15)")
	}
	opts, err := goredis.ParseURL(base)
	if err != nil {
		t.Fatalf("JWTREVOKE_TEST_REDIS: %v", err)
	}
	prefix := name()
	t.Cleanup(func() {
		c := goredis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, "{jwtrevoke}:"+prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String()
}
