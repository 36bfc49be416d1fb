package mongo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/mongo"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

func open(ctx context.Context, url string) (*mongo.Store, error) {
	st, err := mongo.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	st.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return st, nil
}

func TestStore(t *testing.T) {
	// Does this server keep TTL indexes (and so delete expired data itself)?
	probe, err := open(t.Context(), testdb.Mongo(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := probe.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	probe.Close()
	storetest.RunDatabase(t, func(t *testing.T) string { return testdb.Mongo(t) },
		func(ctx context.Context, url string) (storetest.Migrator, error) { return open(ctx, url) },
		storetest.Options{SelfExpiring: probe.SelfExpiring()})
}

func TestOpenErrors(t *testing.T) {
	for _, u := range []string{"mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017/", "postgres://x/y"} {
		if st, err := mongo.Open(t.Context(), u); err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.BenchDatabase(b, func(tb testing.TB) string { return testdb.Mongo(tb) },
		func(ctx context.Context, url string) (storetest.Migrator, error) { return open(ctx, url) })
}
