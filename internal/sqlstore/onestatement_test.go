package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/postgres"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestOneStatementLogout: on PostgreSQL a logout is written by one
// statement; check it against what the transaction writes: a logout whose
// access token is of another session (two revocations, one audited), a
// second logout of the same token (ErrBlacklisted, nothing written), and
// two revocations naming one session (the transaction's path).
func TestOneStatementLogout(t *testing.T) {
	ctx := t.Context()
	st, u := migratedPostgres(t, "a@example.com")
	now := time.Now().UTC()
	tok, sess := storetest.MustSession(t, st, u.ID, now, time.Hour)
	access := now.Add(5 * time.Minute)
	revs := []jwtrevoke.Revocation{
		{SessionID: sess.ID, UserID: u.ID, ExpiresAt: now.Add(time.Minute), Reason: "logout", CreatedAt: now,
			AuditUntil: now.Add(24 * time.Hour), IP: "192.0.2.1", UserAgent: "ua"},
		{JTI: "access-of-another-session", UserID: u.ID, ExpiresAt: access, Reason: "logout"},
	}
	got, err := st.Blacklist(ctx, tok, revs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq == 0 || got[1].Seq == 0 || got[0].Seq == got[1].Seq {
		t.Fatalf("Blacklist returned %+v", got)
	}
	if !got[0].ExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("session revocation expires %v, want the session's %v", got[0].ExpiresAt, sess.ExpiresAt)
	}
	if !got[1].ExpiresAt.Equal(access) || got[1].CreatedAt.IsZero() {
		t.Errorf("access token revocation %+v, want ExpiresAt %v and a CreatedAt", got[1], access)
	}
	stored, err := st.Revocations(ctx, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Fatalf("%d revocations stored, want 2", len(stored))
	}
	for _, r := range stored {
		want := got[0]
		if r.JTI != "" {
			want = got[1]
		}
		if r.Seq != want.Seq || r.SessionID != want.SessionID || r.JTI != want.JTI || !r.ExpiresAt.Equal(want.ExpiresAt.Truncate(time.Microsecond)) {
			t.Errorf("stored %+v, returned %+v", r, want)
		}
	}
	if a, err := st.Audit(ctx, u.ID, 0); err != nil || len(a) != 1 || a[0].SessionID != sess.ID || a[0].IP != "192.0.2.1" {
		t.Errorf("audit trail %+v, %v; want the session revocation only", a, err)
	}
	if ss, err := st.Sessions(ctx, u.ID, now); err != nil || len(ss) != 1 || ss[0].RevokedAt == nil {
		t.Errorf("sessions %+v, %v; want the session revoked", ss, err)
	}

	if _, err := st.Blacklist(ctx, tok, revs...); !errors.Is(err, jwtrevoke.ErrBlacklisted) {
		t.Fatalf("second logout: %v, want ErrBlacklisted", err)
	}
	if stored, _ := st.Revocations(ctx, 0, now); len(stored) != 2 {
		t.Fatalf("the refused logout recorded revocations: %d, want 2", len(stored))
	}

	tok2, sess2 := storetest.MustSession(t, st, u.ID, now, time.Hour)
	same := jwtrevoke.Revocation{SessionID: sess2.ID, UserID: u.ID, ExpiresAt: now.Add(time.Minute), Reason: "logout", CreatedAt: now}
	got, err = st.Blacklist(ctx, tok2, same, same)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].ExpiresAt.Equal(sess2.ExpiresAt) || !got[1].ExpiresAt.Equal(sess2.ExpiresAt) {
		t.Fatalf("two revocations of one session: %+v", got)
	}
}

// TestNotifyAfterCommit: the notification is sent after the data's
// commit, so a listener that reads whenever it is poked finds each
// revocation.
func TestNotifyAfterCommit(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	loc := testdb.Postgres(t)
	w, err := postgres.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := postgres.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pokes := make(chan struct{}, 1)
	go func() {
		_ = l.Notify(ctx, func() { // coalescing, as Service.poke
			select {
			case pokes <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-pokes: // subscribed
	case <-time.After(10 * time.Second):
		t.Fatal("no initial poke")
	}
	u := storetest.MustUser(t, w, "a@example.com")
	now := time.Now().UTC()
	for i := range 20 {
		tok, sess := storetest.MustSession(t, w, u.ID, now, time.Hour)
		if _, err := w.Blacklist(ctx, tok, jwtrevoke.Revocation{SessionID: sess.ID, UserID: u.ID, ExpiresAt: now.Add(time.Hour), Reason: "logout", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		// Every poke is followed by a read, as Service.Sync does; some
		// poke must come after the commit (other tests' notifications on
		// the channel may come too, any time).
		deadline := time.After(10 * time.Second)
		for found := false; !found; {
			select {
			case <-pokes:
			case <-deadline:
				t.Fatalf("logout %d: no notification after its commit", i)
			}
			revs, err := l.Revocations(ctx, 0, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range revs {
				found = found || r.SessionID == sess.ID
			}
		}
	}
}

// migratedPostgres opens a migrated PostgreSQL store on a fresh schema,
// closed when t ends, with one user of the given email.
func migratedPostgres(t *testing.T, email string) (*postgres.Store, *jwtrevoke.User) {
	t.Helper()
	st, err := postgres.Open(t.Context(), testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st, storetest.MustUser(t, st, email)
}
