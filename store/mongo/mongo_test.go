package mongo_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/mongo"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

func mustOpen(t *testing.T, u string) *mongo.Store {
	t.Helper()
	st, err := mongo.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	st.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) {
	probe := mustOpen(t, testdb.Mongo(t)) // does this server keep TTL indexes?
	probe.Close()
	storetest.RunWith(t, func(t *testing.T) jwtrevoke.Store {
		st := mustOpen(t, testdb.Mongo(t))
		t.Cleanup(func() { st.Close() })
		return st
	}, storetest.Options{SelfExpiring: probe.SelfExpiring()})
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T) (jwtrevoke.Store, func() jwtrevoke.Store) {
		u := testdb.Mongo(t)
		return mustOpen(t, u), func() jwtrevoke.Store { return mustOpen(t, u) }
	})
}

func TestOpenErrors(t *testing.T) {
	for _, u := range []string{"mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017/", "postgres://x/y"} {
		if st, err := mongo.Open(t.Context(), u); err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}
