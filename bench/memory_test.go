package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/mysql"
	"github.com/jwtrevoke/jwtrevoke/store/postgres"
	"github.com/jwtrevoke/jwtrevoke/store/redis"
	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
)

// The memory scenario's bulk inserts must give what the stores load:
// checked by loading them back through each store's own Revocations.

const bulkN = 120_000 // two batches of the SQL inserts, six of Redis's

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func checkBulk(t *testing.T, revs []jwtrevoke.Revocation, uid int64, expires time.Time) {
	t.Helper()
	if len(revs) != bulkN {
		t.Fatalf("%d revocations loaded, want %d", len(revs), bulkN)
	}
	ids := map[string]bool{}
	jtis := 0
	for i, r := range revs {
		id := r.SessionID
		if r.JTI != "" {
			id = r.JTI
			jtis++
			if r.SessionID != "" {
				t.Fatalf("revocation %d has both a session and a jti: %+v", i, r)
			}
		}
		if !hex32.MatchString(id) || ids[id] {
			t.Fatalf("revocation %d: id %q not 32 hex digits or repeated", i, id)
		}
		ids[id] = true
		if r.UserID != uid || !r.ExpiresAt.Equal(expires) || r.Reason != "logout" || !r.NotBefore.IsZero() {
			t.Fatalf("revocation %d: %+v", i, r)
		}
		if i > 0 && r.Seq != revs[i-1].Seq+1 {
			t.Fatalf("revocation %d: seq %d after %d (a hole)", i, r.Seq, revs[i-1].Seq)
		}
	}
	if jtis != bulkN/10 {
		t.Errorf("%d token revocations, want %d", jtis, bulkN/10)
	}
}

func bulkTimes() (now, created, expires time.Time) {
	now = time.Now().UTC().Truncate(time.Second)
	return now, now.Add(-time.Minute), now.Add(24 * time.Hour)
}

// checkInserted runs insert, one bulk insert of bulkN revocations of user
// 7, and checks what st then loads back.
func checkInserted(t *testing.T, st jwtrevoke.TokenStore, insert func(ctx context.Context, created, expires time.Time) error) {
	t.Helper()
	ctx := context.Background()
	now, created, expires := bulkTimes()
	if err := insert(ctx, created, expires); err != nil {
		t.Fatal(err)
	}
	revs, err := st.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	checkBulk(t, revs, 7, expires)
}

// migrated opens a SQL store (closed when the test ends) and migrates it.
func migrated[S interface {
	jwtrevoke.TokenStore
	Migrate(context.Context) error
	Close() error
}](t *testing.T, open func(context.Context) (S, error)) S {
	t.Helper()
	st, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestBulkRevocationsSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.db")
	st := migrated(t, func(ctx context.Context) (*sqlite.Store, error) { return sqlite.Open(ctx, path) })
	checkInserted(t, st, func(ctx context.Context, created, expires time.Time) error {
		return bulkSQLRevocations(ctx, "sqlite", path, "sqlite", bulkN, 7, created, expires)
	})
}

func TestBulkRevocationsPostgres(t *testing.T) {
	base := os.Getenv("JWTREVOKE_TEST_POSTGRES")
	if base == "" {
		t.Skip("JWTREVOKE_TEST_POSTGRES not set")
	}
	t.Cleanup(runCleanups)
	dsn, err := freshPostgres(base)
	if err != nil {
		t.Fatal(err)
	}
	st := migrated(t, func(ctx context.Context) (*postgres.Store, error) { return postgres.Open(ctx, dsn) })
	checkInserted(t, st, func(ctx context.Context, created, expires time.Time) error {
		return bulkSQLRevocations(ctx, "pgx", dsn, "postgres", bulkN, 7, created, expires)
	})
}

func TestBulkRevocationsMySQL(t *testing.T) {
	base := os.Getenv("JWTREVOKE_TEST_MYSQL")
	if base == "" {
		t.Skip("JWTREVOKE_TEST_MYSQL not set")
	}
	t.Cleanup(runCleanups)
	raw, err := freshMySQL(base)
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := mysql.DSN(raw)
	if err != nil {
		t.Fatal(err)
	}
	st := migrated(t, func(ctx context.Context) (*mysql.Store, error) { return mysql.Open(ctx, raw) })
	checkInserted(t, st, func(ctx context.Context, created, expires time.Time) error {
		return bulkSQLRevocations(ctx, "mysql", dsn, "mysql", bulkN, 7, created, expires)
	})
}

func TestBulkRevocationsRedis(t *testing.T) {
	base := os.Getenv("JWTREVOKE_TEST_REDIS")
	if base == "" {
		t.Skip("JWTREVOKE_TEST_REDIS not set")
	}
	t.Cleanup(runCleanups)
	u, prefix, err := freshRedis(base)
	if err != nil {
		t.Fatal(err)
	}
	st, err := redis.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkInserted(t, st, func(ctx context.Context, created, expires time.Time) error {
		return bulkRedisRevocations(ctx, base, prefix, bulkN, 7, created, expires)
	})
}
