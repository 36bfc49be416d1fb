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
// keeping its data, and can then rotate, keep an audit trail and count
// attempts.
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
	if err := st.R.QueryRowContext(ctx, `SELECT count(*) FROM jwtrevoke_schema_migrations`).Scan(&n); err != nil || n != latestMigration(t) {
		t.Fatalf("%d migrations recorded, %v; want %d", n, err, latestMigration(t))
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
	if _, err := st.RevokeSession(ctx, jwtrevoke.Revocation{SessionID: sess.ID, UserID: u.ID, ExpiresAt: now.Add(time.Hour),
		Reason: "session_ended", CreatedAt: now, IP: "192.0.2.1", UserAgent: "ua", AuditUntil: now.Add(time.Hour)}); err != nil {
		t.Fatalf("revoke after the upgrade: %v", err)
	}
	if got, err := st.Audit(ctx, u.ID, 0); err != nil || len(got) != 1 || got[0].Reason != "session_ended" {
		t.Fatalf("audit after the upgrade = %+v, %v; want the revocation", got, err)
	}
	if n, err := st.CountAttempt(ctx, "k", now.Truncate(time.Minute), time.Minute, 1); err != nil || n != 1 {
		t.Fatalf("count attempt after the upgrade = %d, %v; want 1", n, err)
	}
}

// latestMigration is the number of the last embedded migration (they are
// numbered from 1 without gaps).
func latestMigration(t *testing.T) int {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

// TestMigrateFromRotation: a database at 0002 is upgraded to the latest.
func TestMigrateFromRotation(t *testing.T) {
	ctx := t.Context()
	old := fstest.MapFS{}
	for _, name := range []string{"0001_initial.sql", "0002_rotation.sql"} {
		b, err := fs.ReadFile(migrations, "migrations/"+name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	st, err := Open(ctx, filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Store.Migrate(ctx, old, migrationsTable); err != nil {
		t.Fatal(err)
	}
	u := storetest.MustUser(t, st, "old@example.com")
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	var v int
	if err := st.R.QueryRowContext(ctx, `SELECT max(version) FROM jwtrevoke_schema_migrations`).Scan(&v); err != nil || v != latestMigration(t) {
		t.Fatalf("latest migration %d, %v; want %d", v, err, latestMigration(t))
	}
	if got, err := st.Audit(ctx, u.ID, 0); err != nil || len(got) != 0 {
		t.Fatalf("audit after the upgrade = %+v, %v; want none", got, err)
	}
}
