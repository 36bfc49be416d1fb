package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// TestWriteWaitsForOtherProcess: while another connection (as another
// process would, flushexpiredtokens or Django) holds the write lock, a
// write of the store waits and succeeds once the lock is released, rather
// than failing with "database is locked"; a write whose context ends first
// returns the context's error.
func TestWriteWaitsForOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	st := mustOpen(t, path)
	defer st.Close()
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	rev := func(id string) jwtrevoke.Revocation {
		now := time.Now().UTC()
		return jwtrevoke.Revocation{SessionID: id, UserID: 1, ExpiresAt: now.Add(time.Hour), Reason: "test", CreatedAt: now}
	}
	hold := func(d time.Duration) <-chan error {
		locked, done := make(chan struct{}), make(chan error, 1)
		go func() {
			tx, err := other.BeginTx(context.Background(), nil)
			if err != nil {
				close(locked)
				done <- err
				return
			}
			close(locked)
			time.Sleep(d)
			done <- tx.Rollback()
		}()
		<-locked
		return done
	}

	released := hold(300 * time.Millisecond)
	start := time.Now()
	if _, err := st.RevokeSession(t.Context(), rev("0123456789abcdef0123456789abcdef")); err != nil {
		t.Fatalf("write while another connection held the lock: %v", err)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("the write returned after %v, before the lock was released", waited)
	}

	released = hold(2 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err = st.RevokeSession(ctx, rev("fedcba9876543210fedcba9876543210"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write with a context ending while the lock is held: %v, want the deadline", err)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	got, err := st.Revocations(t.Context(), 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].SessionID != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("revocations after both writes: %+v, want the first one only", got)
	}
}
