package jwtrevoke_test

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// BenchmarkStartLoad1e6 starts a Service on a memory store that holds 1e6
// unexpired session revocations: New loads them all (Store.Revocations,
// then the in-memory set) before it returns.
func BenchmarkStartLoad1e6(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	st := memory.New()
	r := rand.New(rand.NewPCG(1, 2))
	exp := time.Now().Add(time.Hour)
	var id [16]byte
	for range n {
		for i := range id {
			id[i] = byte(r.Uint32())
		}
		id[6] = id[6]&0x0f | 0x70
		if _, err := st.RevokeSession(ctx, jwtrevoke.Revocation{
			SessionID: hex.EncodeToString(id[:]), UserID: 1, ExpiresAt: exp, Reason: "logout",
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("New", func(b *testing.B) { benchNew(b, st, n) })
	// The store's share of New: reading the 1e6 revocations back.
	b.Run("StoreOnly", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			revs, err := st.Revocations(ctx, 0, time.Now())
			if err != nil || len(revs) != n {
				b.Fatal(len(revs), err)
			}
		}
	})
}

// benchNew times New on st, which holds n unexpired revocations.
func benchNew(b *testing.B, st jwtrevoke.Store, n int) {
	set := jwtrevoke.DefaultSettings()
	set.SigningKey = testKey
	b.ReportAllocs()
	for b.Loop() {
		svc, err := jwtrevoke.New(b.Context(), st, set, jwtrevoke.Options{Hasher: cheap})
		if err != nil {
			b.Fatal(err)
		}
		if got := svc.RevocationCount(); got != n {
			b.Fatalf("RevocationCount() = %d, want %d", got, n)
		}
	}
}
