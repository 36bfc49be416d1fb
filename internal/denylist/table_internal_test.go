package denylist

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// TestTableProbing fills small tables with keys of chosen hashes, many
// with the same home bucket and some at the last one (so that probes wrap
// around), and checks after each put that every key put is found, at its
// slot, and passes the filter, and that keys not put are not found.
func TestTableProbing(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, want := range []int{1, 2, 3, 5, 8, 13, 40, 200} {
		for _, pair := range []bool{true, false} {
			tb := newTable(want)
			last := ^uint64(0) >> shardBits // home: the last bucket
			hashes := []uint64{0, last, last, 1 << 20, last}
			type key struct{ a, b, h uint64 }
			var put []key
			for n := range tb.limit {
				h := hashes[n%len(hashes)]
				if n%3 == 2 {
					h = r.Uint64()
				}
				k := key{r.Uint64(), r.Uint64(), h}
				if !pair {
					k.b = uint64(n) // a cut-off: not part of the key
				}
				slot := tb.put(k.a, k.b, k.h, int64(n), n%2 == 0)
				if tb.exps[slot] != int64(n) {
					t.Fatalf("want %d: put returned slot %d, which has expiry %d", want, slot, tb.exps[slot])
				}
				put = append(put, k)
				for i, k := range put {
					i := uint64(i)
					if !tb.mayHave(k.h) {
						t.Fatalf("want %d, pair %v: key %d rejected by the filter", want, pair, i)
					}
					s, ok := tb.find(k.a, k.b, pair, k.h)
					if !ok || tb.exps[s] != int64(i) {
						t.Fatalf("want %d, pair %v: key %d not found after %d puts", want, pair, i, n+1)
					}
					if !pair && tb.buckets[2*s+1] != k.b {
						t.Fatalf("want %d: user %d has a wrong cut-off", want, i)
					}
				}
				for _, k := range put {
					if _, ok := tb.find(k.a+1, k.b, pair, k.h); ok {
						t.Fatalf("want %d, pair %v: a key never put was found", want, pair)
					}
					if pair {
						if _, ok := tb.find(k.a, k.b+1, pair, k.h); ok {
							t.Fatalf("want %d: a key differing in its second half was found", want)
						}
					}
				}
			}
			if tb.limit < want {
				t.Fatalf("newTable(%d) holds only %d", want, tb.limit)
			}
		}
	}
}

// TestIDTableAgainstMap runs random adds and GCs on id tables (pairs and
// users) and on plain maps, and checks that they answer alike: every key
// of the pool, held or not, and fresh keys, after each step. One in 50 of
// the pairs share their first half with the seed, which makes them all hash
// alike and pile up in one bucket chain.
func TestIDTableAgainstMap(t *testing.T) {
	for _, pair := range []bool{true, false} {
		r := rand.New(rand.NewPCG(2, 3))
		var it idTable
		it.init(pair)
		type entry struct {
			exp int64
			b   uint64
		}
		type key struct{ a, b uint64 }
		m := map[key]entry{}
		pool := make([]key, 20_000)
		for i := range pool {
			pool[i] = key{r.Uint64(), r.Uint64()}
			if !pair {
				pool[i] = key{uint64(r.Int64N(1<<40) - 1<<39), 0}
			} else if i%50 == 0 {
				pool[i].a = it.seed[0] // hash 0, whatever b
			}
		}
		now := int64(0)
		check := func(step int) {
			t.Helper()
			if got := int(it.count.Load()); got != len(m) {
				t.Fatalf("pair %v, step %d: count %d, want %d", pair, step, got, len(m))
			}
			for _, k := range pool {
				e, want := m[k]
				if pair {
					if got := it.hasID(k.a, k.b); got != want {
						t.Fatalf("pair step %d: hasID(%x, %x) = %v, want %v", step, k.a, k.b, got, want)
					}
				} else {
					nb, got := it.user(int64(k.a))
					if got != want || got && uint64(nb) != e.b {
						t.Fatalf("users step %d: user(%d) = %d, %v; want %d, %v", step, int64(k.a), nb, got, e.b, want)
					}
				}
			}
			for range 2000 {
				if pair && it.hasID(r.Uint64(), r.Uint64()) || pair && it.hasID(it.seed[0], r.Uint64()) {
					t.Fatalf("pair step %d: a key never added is held", step)
				}
				if !pair {
					if _, ok := it.user(int64(r.Uint64() | 1<<62)); ok { // outside the pool's range
						t.Fatalf("users step %d: a user never added is held", step)
					}
				}
			}
		}
		size := 10 // the pool in use grows, then shrinks
		for step := range 60 {
			if step < 30 {
				size = min(len(pool), size*2)
			} else {
				size = max(10, size*2/3)
			}
			for range r.IntN(3 * size) {
				k := pool[r.IntN(size)]
				exp := now + 1 + int64(r.IntN(50))
				if pair {
					it.addID(k.a, k.b, exp)
					if e, ok := m[k]; !ok || exp > e.exp {
						m[k] = entry{exp: exp}
					}
				} else {
					nb := int64(r.IntN(1 << 20))
					it.addUser(int64(k.a), nb, exp)
					e := m[k]
					m[k] = entry{max(e.exp, exp), max(e.b, uint64(nb))}
				}
			}
			check(step)
			now += int64(r.IntN(20))
			want := 0
			for k, e := range m {
				if e.exp <= now {
					delete(m, k)
					want++
				}
			}
			if got := it.gc(now); got != want {
				t.Fatalf("pair %v, step %d: gc(%d) removed %d, want %d", pair, step, now, got, want)
			}
			check(step)
		}
		if it.gc(now+100) != len(m) || it.count.Load() != 0 {
			t.Fatalf("pair %v: the last gc left entries", pair)
		}
		for i := range it.shards {
			if it.shards[i].t.Load() != nil {
				t.Fatalf("pair %v: shard %d keeps a table with no entry", pair, i)
			}
		}
	}
}

// TestIDTableConcurrent checks, under -race, that readers find every key
// added before they look, and no key never added, while a writer adds
// keys (one in 50 of them in one long bucket chain) through growth after
// growth, and GC drops short-lived ones.
func TestIDTableConcurrent(t *testing.T) {
	const n = 20_000
	var it idTable
	it.init(true)
	r := rand.New(rand.NewPCG(4, 5))
	keys := make([][2]uint64, n)
	for i := range keys {
		keys[i] = [2]uint64{r.Uint64(), r.Uint64()}
		if i%50 == 0 {
			keys[i][0] = it.seed[0]
		}
	}
	var added atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i, k := range keys {
			it.addID(k[0], k[1], 1<<40)
			it.addID(k[1], k[0], int64(i%7)) // short-lived
			added.Store(int64(i + 1))
		}
	}()
	go func() {
		defer wg.Done()
		for now := int64(0); ; now = (now + 1) % 7 {
			select {
			case <-stop:
				return
			default:
			}
			it.gc(now)
		}
	}()
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 9))
			for {
				a := added.Load()
				if a == n {
					return
				}
				if a == 0 {
					continue
				}
				k := keys[r.Int64N(a)]
				if !it.hasID(k[0], k[1]) {
					t.Errorf("key %x missed after it was added", k)
					return
				}
				if it.hasID(k[0], ^k[1]) || it.hasID(r.Uint64(), r.Uint64()) {
					t.Errorf("a key never added is held")
					return
				}
			}
		}()
	}
	for a := added.Load(); a < n; a = added.Load() {
		for _, k := range keys[max(0, a-500):a] { // the latest ones
			if !it.hasID(k[0], k[1]) {
				t.Fatalf("key %x missed after it was added", k)
			}
		}
	}
	close(stop)
	wg.Wait()
	it.gc(7)
	if got := it.count.Load(); got != n {
		t.Fatalf("count %d after GC of the short-lived keys, want %d", got, n)
	}
}

// keyOf returns the i-th key of a test table: distinct for distinct i.
func keyOf(i uint64) (uint64, uint64) {
	x := i*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9 // x is a bijection of i
	x ^= x >> 29
	y := x*0x94d049bb133111eb + 0x2545f4914f6cdd1d
	return x, y ^ y>>32
}

// TestFilterRate: of keys a table of 2e5 does not hold, at most 3% pass
// its filters (it is sized for about 1%), so that a check of a key not
// revoked rarely reads the exact table.
func TestFilterRate(t *testing.T) {
	const held = 200_000
	nt := &idTable{}
	nt.init(true)
	for i := range uint64(held) {
		a, b := keyOf(i)
		nt.addID(a, b, 1<<40)
	}
	r := rand.NewPCG(1, 2)
	pass := 0
	const n = 200_000
	for range n {
		h := nt.hash(r.Uint64(), r.Uint64())
		if nt.shards[h>>(64-shardBits)].t.Load().mayHave(h) {
			pass++
		}
	}
	rate := float64(pass) / n
	t.Logf("the filters pass %.3f%% of keys not held", 100*rate)
	if rate > 0.03 {
		t.Fatalf("the filters pass %.2f%% of keys not held, want at most 3%%", 100*rate)
	}
	for i := range uint64(held) {
		a, b := keyOf(i)
		if !nt.hasID(a, b) {
			t.Fatalf("held key %d not found", i)
		}
	}
}
