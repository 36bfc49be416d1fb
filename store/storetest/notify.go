package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// RunNotify checks a store's push channel: listener (another connection
// to the same data) pokes once when its subscription is in place, again
// soon after a revocation is recorded through writer, and Notify returns
// nil once its context is cancelled.
func RunNotify(t *testing.T, writer jwtrevoke.TokenStore, listener jwtrevoke.Notifier) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	poked := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() { done <- listener.Notify(ctx, func() { poked <- struct{}{} }) }()
	select {
	case <-poked: // the initial poke, once the subscription is in place
	case err := <-done:
		t.Fatalf("Notify: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no initial poke")
	}
	now := time.Now()
	uid := int64(1)
	tok := token(&uid, now, now.Add(time.Hour))
	if _, err := writer.Blacklist(t.Context(), tok, jwtrevoke.Revocation{JTI: id(), UserID: uid,
		ExpiresAt: now.Add(time.Hour), Reason: "logout", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-poked:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10 s of a committed revocation")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Notify after cancel returned %v, want nil", err)
	}
}
