package storetest

import (
	"context"
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
)

// Migrator is a store with a schema of its own to create.
type Migrator interface {
	jwtrevoke.Store
	Migrate(ctx context.Context) error
}

// RunDatabase runs the whole suite for a store kept in a database: Run
// (RunWith opts), RunReopen, and checks that migrating twice keeps the data.
// fresh returns the location (URL or path) of a new, empty database; open
// opens one.
func RunDatabase(t *testing.T, fresh func(t *testing.T) string, open func(ctx context.Context, loc string) (Migrator, error), opts Options) {
	mustOpen := func(t *testing.T, loc string) Migrator {
		t.Helper()
		st, err := open(t.Context(), loc)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(t.Context()); err != nil {
			st.Close()
			t.Fatal(err)
		}
		return st
	}
	t.Run("Conformance", func(t *testing.T) {
		RunWith(t, func(t *testing.T) jwtrevoke.Store {
			st := mustOpen(t, fresh(t))
			t.Cleanup(func() { st.Close() })
			return st
		}, opts)
	})
	t.Run("Reopen", func(t *testing.T) {
		RunReopen(t, func(t *testing.T) (jwtrevoke.Store, func() jwtrevoke.Store) {
			loc := fresh(t)
			return mustOpen(t, loc), func() jwtrevoke.Store { return mustOpen(t, loc) }
		})
	})
	t.Run("MigrateTwiceKeepsData", func(t *testing.T) {
		st := mustOpen(t, fresh(t))
		defer st.Close()
		MustUser(t, st, "kept@example.com")
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if _, err := st.UserByEmail(t.Context(), "KEPT@example.com"); err != nil {
			t.Fatalf("user lost by a second Migrate: %v", err)
		}
	})
}
