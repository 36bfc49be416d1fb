package mongo

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	st, err := Open(t.Context(), testdb.Mongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func testRotation(now time.Time, oldExp time.Time) jwtrevoke.Rotation {
	uid := int64(1)
	created := now
	old := jwtrevoke.OutstandingToken{UserID: &uid, JTI: "old-" + now.Format("150405.000000000"), Token: "h.old.s", CreatedAt: &created, ExpiresAt: oldExp}
	next := jwtrevoke.OutstandingToken{UserID: &uid, JTI: "next-" + now.Format("150405.000000000"), Token: "h.next.s", CreatedAt: &created, ExpiresAt: now.Add(2 * time.Hour).Truncate(time.Second)}
	return jwtrevoke.Rotation{Old: old, BlacklistOld: true, Next: next, Access: "access", SessionID: "sess-1",
		SessionExpires: now.Add(3 * time.Hour).Truncate(time.Second), RotatedAt: now}
}

// TestRotationCompleted: a rotation that died after inserting its
// document is completed by the next caller that finds it.
func TestRotationCompleted(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := testRotation(now, now.Add(time.Hour).Truncate(time.Second))
	if err := st.IssueSession(ctx, r.Old, jwtrevoke.Session{ID: r.SessionID, UserID: 1, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.rotations.InsertOne(ctx, newRotationDoc(r)); err != nil { // and then the caller died
		t.Fatal(err)
	}
	again := testRotation(now.Add(time.Second), r.Old.ExpiresAt)
	again.Old = r.Old
	got, err := st.Rotate(ctx, again)
	if !errors.Is(err, jwtrevoke.ErrRotated) || got.Next.JTI != r.Next.JTI || got.Next.Token != r.Next.Token || !got.RotatedAt.Equal(now) {
		t.Fatalf("Rotate = %+v, %v; want ErrRotated with the recorded rotation", got, err)
	}
	if b, _ := st.IsBlacklisted(ctx, r.Old.JTI); !b {
		t.Fatal("the unfinished rotation's old token was not blacklisted")
	}
	// With its token revocation in the log (BlacklistLogged).
	if revs, err := st.Revocations(ctx, 0, now); err != nil || len(revs) != 1 || revs[0].JTI != r.Old.JTI || revs[0].Reason != jwtrevoke.ReasonRotated {
		t.Fatalf("revocations %+v, %v; want the rotated token's", revs, err)
	}
	if n, _ := st.outstanding.CountDocuments(ctx, bson.M{"jti": r.Next.JTI}); n != 1 {
		t.Fatalf("%d outstanding documents for the recorded next token, want 1", n)
	}
	if n, _ := st.outstanding.CountDocuments(ctx, bson.M{"jti": again.Next.JTI}); n != 0 {
		t.Fatal("the refused rotation registered its own next token")
	}
	ss, _ := st.Sessions(ctx, 1, now)
	if len(ss) != 1 || !ss[0].ExpiresAt.Equal(r.SessionExpires) {
		t.Fatalf("sessions %+v: want the expiry raised to %v", ss, r.SessionExpires)
	}
	var d rotationDoc
	if err := st.rotations.FindOne(ctx, bson.M{"_id": r.Old.JTI}).Decode(&d); err != nil || !d.Done {
		t.Fatalf("rotation document %+v, %v: want done", d, err)
	}
}

// TestRotationStale: an expired rotation not yet flushed does not stop a
// new one (it stopped mattering with its token, as in Redis).
func TestRotationStale(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := testRotation(now, now.Add(-time.Minute).Truncate(time.Second))
	r.BlacklistOld = false
	stale := newRotationDoc(r)
	stale.NextJTI, stale.Done = "stale-next", true
	if _, err := st.rotations.InsertOne(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Rotate(ctx, r); err != nil {
		t.Fatalf("rotating over an expired rotation: %v", err)
	}
	var d rotationDoc
	if err := st.rotations.FindOne(ctx, bson.M{"_id": r.Old.JTI}).Decode(&d); err != nil || d.NextJTI != r.Next.JTI {
		t.Fatalf("rotation document %+v, %v: want the new rotation", d, err)
	}
}
