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

// revokedID writes into b (32 bytes) the i-th id that full revokes and
// returns it: lower-case hex, distinct for distinct i < 2^32, made in a
// few ns so that a benchmark can pick revoked ids at random over the
// whole set with the id in cache, as a request's is.
func revokedID(b []byte, i uint64) string {
	x := i*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	put8(b[0:8], i)
	put8(b[8:16], x>>32)
	put8(b[16:24], x)
	put8(b[24:32], x*0x94d049bb133111eb>>32)
	return unsafe.String(&b[0], 32)
}

var (
	fullOnce sync.Once
	fullSet  *denylist.Set
)

// full returns a set holding benchN revoked sessions, revokedID(0..benchN-1)
// (built once), and one user cut-off.
func full() *denylist.Set {
	fullOnce.Do(func() {
		fullSet = denylist.New()
		var b [32]byte
		for i := range uint64(benchN) {
			fullSet.AddSession(string(revokedID(b[:], i)), 1<<40)
		}
		fullSet.AddUser(42, 1, 1<<40)
	})
	return fullSet
}

var (
	mixedOnce sync.Once
	mixedSet  *denylist.Set
)

// mixed returns a set of about 1e6 revocations of the three kinds a
// server holds: half a million sessions (revokedID(0..)), half a million
// single tokens (revokedID(1<<31..)) and 10,000 user cut-offs (users
// 0..9999), so that a check makes all three lookups.
func mixed() *denylist.Set {
	mixedOnce.Do(func() {
		mixedSet = denylist.New()
		var b [32]byte
		for i := range uint64(benchN / 2) {
			mixedSet.AddSession(string(revokedID(b[:], i)), 1<<40)
			mixedSet.AddToken(string(revokedID(b[:], 1<<31+i)), 1<<40)
		}
		for u := range int64(10_000) {
			mixedSet.AddUser(u, 1_700_000_000_000, 1<<40)
		}
	})
	return mixedSet
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
	s := full()
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

// BenchmarkRevoked1e6Hit checks revoked sessions, chosen at random among
// the 1e6 (BenchmarkProbeOverhead is about what making their ids costs).
func BenchmarkRevoked1e6Hit(b *testing.B) {
	s := full()
	r := rand.NewPCG(3, 3)
	var id [32]byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if !s.Revoked(revokedID(id[:], r.Uint64()%benchN), "", int64(i), 1) {
			b.Fatal("not revoked")
		}
	}
}

// BenchmarkRevoked1e6Mixed checks tokens that are not revoked against
// the mixed set: their session, their jti and their user (one without a
// cut-off) are each looked up.
func BenchmarkRevoked1e6Mixed(b *testing.B) {
	s := mixed()
	p := newProber(2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sid, jti := p.next()
		if s.Revoked(sid, jti, 10_000+int64(i&0xffff), 1_800_000_000) {
			b.Fatal("revoked")
		}
	}
}

// BenchmarkRevoked1e6MixedHit checks tokens of revoked sessions of the
// mixed set, chosen at random.
func BenchmarkRevoked1e6MixedHit(b *testing.B) {
	s := mixed()
	r := rand.NewPCG(3, 3)
	var id [32]byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if !s.Revoked(revokedID(id[:], r.Uint64()%(benchN/2)), "", 10_000+int64(i&0xffff), 1_800_000_000) {
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
	s := full()
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
	s := full()
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
