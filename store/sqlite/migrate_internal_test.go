package sqlite

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestMigrateFromInitial: a database created by 0001 alone (a deployment
// from before rotations were recorded) is upgraded in place by Migrate,
// keeping its data, and can then rotate.
func TestMigrateFromInitial(t *testing.T) {
	ctx := t.Context()
	initial, err := fs.ReadFile(migrations, "migrations/0001_initial.sql")
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(ctx, filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Store.Migrate(ctx, fstest.MapFS{"0001_initial.sql": {Data: initial}}, migrationsTable); err != nil {
		t.Fatal(err)
	}
	u := storetest.MustUser(t, st, "old@example.com")
	now := time.Now().UTC()
	tok, sess := storetest.MustSession(t, st, u.ID, now, time.Hour)
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	var n int
	if err := st.R.QueryRowContext(ctx, `SELECT count(*) FROM jwtrevoke_schema_migrations`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d migrations recorded, %v; want 2", n, err)
	}
	if _, err := st.UserByEmail(ctx, "old@example.com"); err != nil {
		t.Fatalf("user lost by the upgrade: %v", err)
	}
	next := jwtrevoke.OutstandingToken{UserID: &u.ID, JTI: tok.JTI + "-next", Token: "t.next.s", CreatedAt: &now, ExpiresAt: tok.ExpiresAt}
	r := jwtrevoke.Rotation{Old: tok, BlacklistOld: true, Next: next, Access: "a", SessionID: sess.ID, SessionExpires: sess.ExpiresAt, RotatedAt: now}
	if _, err := st.Rotate(ctx, r); err != nil {
		t.Fatalf("rotate after the upgrade: %v", err)
	}
	r.Next.JTI += "2"
	if got, err := st.Rotate(ctx, r); !errors.Is(err, jwtrevoke.ErrRotated) || got.Next.JTI != next.JTI {
		t.Fatalf("second rotation = %+v, %v; want ErrRotated with %s", got, err, next.JTI)
	}
}
