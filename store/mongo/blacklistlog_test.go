package mongo

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
)

// TestMigrateLogsOldBlacklist: data of earlier versions, whose rotations
// blacklisted the old token without a revocation and whose blacklistings
// may have died before recording theirs, is brought into the revocation
// log by Migrate, once; until then BlacklistLogged is false.
func TestMigrateLogsOldBlacklist(t *testing.T) {
	ctx := t.Context()
	url := testdb.Mongo(t)
	open := func() *Store {
		t.Helper()
		st, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		st.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		return st
	}
	st := open()
	if st.BlacklistLogged() {
		t.Fatal("BlacklistLogged before Migrate")
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if !st.BlacklistLogged() {
		t.Fatal("BlacklistLogged false after Migrate")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)

	// A rotation as an earlier version wrote it: the old token blacklisted
	// (a done blacklist document without revocations), no revocation.
	r := testRotation(now, now.Add(time.Hour).Truncate(time.Second))
	if err := st.IssueSession(ctx, r.Old, jwtrevoke.Session{ID: r.SessionID, UserID: 1, CreatedAt: now, ExpiresAt: now.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	d := newRotationDoc(r)
	d.Done = true
	if _, err := st.rotations.InsertOne(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := st.blacklist(ctx, r.Old, now, nil); err != nil {
		t.Fatal(err)
	}
	// A logout that died after inserting its blacklist document.
	uid := int64(1)
	out := jwtrevoke.OutstandingToken{UserID: &uid, JTI: "out-" + now.Format("150405.000000000"), Token: "h.out.s", CreatedAt: &now, ExpiresAt: now.Add(time.Hour).Truncate(time.Second)}
	docs, err := st.prepare(ctx, now, []jwtrevoke.Revocation{{SessionID: "sess-out", UserID: 1, ExpiresAt: out.ExpiresAt, Reason: "logout", CreatedAt: now}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.blacklisted.InsertOne(ctx, blacklistDoc{JTI: out.JTI, BlacklistedAt: now, ExpiresAt: out.ExpiresAt, Revs: docs}); err != nil {
		t.Fatal(err)
	}
	if b, err := st.IsBlacklisted(ctx, out.JTI); err != nil || b {
		t.Fatalf("IsBlacklisted of an unfinished blacklisting = %v, %v; want false until its revocation is logged", b, err)
	}
	if _, err := st.settings.DeleteOne(ctx, bson.M{"_id": blacklistLogKey}); err != nil {
		t.Fatal(err)
	}

	old := open()
	if old.BlacklistLogged() {
		t.Fatal("BlacklistLogged before Migrate on data of an earlier version")
	}
	for range 2 { // the second finds the marker and does nothing more
		if err := old.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if !old.BlacklistLogged() {
			t.Fatal("BlacklistLogged false after Migrate")
		}
		revs, err := old.Revocations(ctx, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		var rotated, session int
		for _, rv := range revs {
			switch {
			case rv.JTI == r.Old.JTI && rv.Reason == jwtrevoke.ReasonRotated && rv.ExpiresAt.Equal(r.Old.ExpiresAt):
				rotated++
			case rv.SessionID == "sess-out":
				session++
			default:
				t.Errorf("unexpected revocation %+v", rv)
			}
		}
		if rotated != 1 || session != 1 {
			t.Fatalf("revocations %+v: want one of the rotated token and the unfinished logout's", revs)
		}
	}
	if b, err := old.IsBlacklisted(ctx, out.JTI); err != nil || !b {
		t.Fatalf("IsBlacklisted of the finished blacklisting = %v, %v; want true", b, err)
	}
}
