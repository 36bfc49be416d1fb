package denylist_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/jwtrevoke/jwtrevoke/internal/denylist"
)

const benchN = 1_000_000

// benchIDs returns n distinct ids shaped like the server's: 32 lower-case
// hex digits, UUIDv7-like for sessions (time first) and random for jtis.
func benchIDs(seed uint64, n int, v7 bool) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ms := uint64(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	out := make([]string, n)
	var b [16]byte
	for i := range out {
		for j := range 2 {
			v := r.Uint64()
			for k := range 8 {
				b[8*j+k] = byte(v >> (8 * k))
			}
		}
		if v7 {
			ms += uint64(r.IntN(3))
			for k := range 6 {
				b[k] = byte(ms >> (40 - 8*k))
			}
			b[6] = b[6]&0x0f | 0x70
		} else {
			b[6] = b[6]&0x0f | 0x40
		}
		b[8] = b[8]&0x3f | 0x80
		out[i] = hex.EncodeToString(b[:])
	}
	return out
}

var (
	fullOnce sync.Once
	fullSet  *denylist.Set
	fullSIDs []string
)

// full returns a set holding benchN revoked sessions (built once).
func full() (*denylist.Set, []string) {
	fullOnce.Do(func() {
		fullSIDs = benchIDs(1, benchN, true)
		fullSet = denylist.New()
		for _, sid := range fullSIDs {
			fullSet.AddSession(sid, 1<<40)
		}
		fullSet.AddUser(42, 1, 1<<40)
	})
	return fullSet, fullSIDs
}

// prober makes the ids of tokens to check: fresh random lower-case hex
// ids, so that every lookup lands somewhere else in the set, as requests
// do. The ids are rewritten in place (a token's ids are in cache once
// parsed), so making one costs a few ns, which BenchmarkProbeOverhead
// measures.
type prober struct {
	r        rand.PCG
	sid, jti []byte
}

func newProber(seed uint64) *prober {
	ids := benchIDs(seed, 2, true)
	return &prober{r: *rand.NewPCG(seed, 7), sid: []byte(ids[0]), jti: []byte(ids[1])}
}

// put8 writes 32 bits of v as 8 lower-case hex digits (SWAR).
func put8(b []byte, v uint64) {
	x := v & 0xffffffff
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	x = (x | x<<4) & 0x0f0f0f0f0f0f0f0f
	letters := (x + 0x7676767676767676) & 0x8080808080808080 >> 7 // lanes >= 10
	binary.LittleEndian.PutUint64(b, x+0x3030303030303030+letters*('a'-'0'-10))
}

// next returns ids, not revoked, valid until the next call.
func (p *prober) next() (sid, jti string) {
	v := p.r.Uint64()
	put8(p.sid[16:24], v) // random 32 bits of a random template: never revoked
	put8(p.jti[16:24], v>>32)
	return unsafe.String(&p.sid[0], 32), unsafe.String(&p.jti[0], 32)
}

// BenchmarkRevoked1e6 checks tokens that are not revoked (the usual case)
// against 1e6 revoked sessions, with one user cut-off for another user.
func BenchmarkRevoked1e6(b *testing.B) {
	s, _ := full()
	p := newProber(2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sid, jti := p.next()
		if s.Revoked(sid, jti, int64(i), 1) {
			b.Fatal("revoked")
		}
	}
}

// BenchmarkRevoked1e6Hit checks revoked sessions among 1e6, chosen at
// random (their ids' strings are out of cache too, unlike a real token's).
func BenchmarkRevoked1e6Hit(b *testing.B) {
	s, sids := full()
	r := rand.New(rand.NewPCG(3, 3))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if !s.Revoked(sids[r.IntN(len(sids))], "", int64(i), 1) {
			b.Fatal("not revoked")
		}
	}
}

// BenchmarkProbeOverhead is what BenchmarkRevoked1e6 spends making ids.
func BenchmarkProbeOverhead(b *testing.B) {
	p := newProber(2)
	n := 0
	for b.Loop() {
		sid, jti := p.next()
		n += int(sid[20] ^ jti[20])
	}
	runtime.KeepAlive(n)
}

// BenchmarkRevoked1e6Parallel is BenchmarkRevoked1e6 from GOMAXPROCS
// goroutines.
func BenchmarkRevoked1e6Parallel(b *testing.B) {
	s, _ := full()
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		p := newProber(10 + seed.Add(1))
		for i := 0; pb.Next(); i++ {
			sid, jti := p.next()
			if s.Revoked(sid, jti, int64(i), 1) {
				b.Error("revoked")
				return
			}
		}
	})
}

// BenchmarkRevoked1e6ParallelWriter is BenchmarkRevoked1e6Parallel while
// one more goroutine keeps revoking sessions and tokens.
func BenchmarkRevoked1e6ParallelWriter(b *testing.B) {
	s, _ := full()
	extra := benchIDs(4, 1<<16, true)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			k := n & (len(extra) - 1)
			s.AddSession(extra[k], 1<<40)
			s.AddToken(extra[k], 1<<40)
			n++
		}
	}()
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		p := newProber(20 + seed.Add(1))
		for i := 0; pb.Next(); i++ {
			sid, jti := p.next()
			if s.Revoked(sid, jti, int64(i), 1) {
				b.Error("revoked")
				return
			}
		}
	})
	b.StopTimer()
	close(stop)
	b.ReportMetric(float64(<-done)/b.Elapsed().Seconds(), "writes/s")
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// bytesPerEntry is the heap a set of sids takes, per entry. Each id is
// added as a fresh copy, as from a store's answer, so that a set keeping
// the strings is charged for them.
func bytesPerEntry(sids []string) float64 {
	before := heapAlloc()
	s := denylist.New()
	for _, sid := range sids {
		s.AddSession(strings.Clone(sid), 1<<40)
	}
	after := heapAlloc()
	runtime.KeepAlive(s)
	return float64(int64(after)-int64(before)) / float64(len(sids))
}

// BenchmarkMemory1e6 reports the heap taken by 1e6 revoked sessions, per
// entry, the ids' strings included if the set keeps them.
func BenchmarkMemory1e6(b *testing.B) {
	sids := benchIDs(5, benchN, true)
	var per float64
	for b.Loop() {
		per = bytesPerEntry(sids)
	}
	b.ReportMetric(per, "B/entry")
}

// BenchmarkLoad1e6 adds 1e6 session revocations to an empty set, as the
// start-up Sync does.
func BenchmarkLoad1e6(b *testing.B) {
	sids := benchIDs(6, benchN, true)
	b.ReportAllocs()
	for b.Loop() {
		s := denylist.New()
		for _, sid := range sids {
			s.AddSession(sid, 1<<40)
		}
	}
}

func ExampleSet() {
	s := denylist.New()
	s.AddSession("0190a8b3c4d57e6f8a9b0c1d2e3f4a5b", 2_000_000_000)
	fmt.Println(s.Revoked("0190a8b3c4d57e6f8a9b0c1d2e3f4a5b", "", 1, 1))
	fmt.Println(s.Revoked("0190A8B3C4D57E6F8A9B0C1D2E3F4A5B", "", 1, 1))
	// Output:
	// true
	// false
}
