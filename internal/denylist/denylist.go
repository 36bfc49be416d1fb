// Package denylist holds the in-memory set of revocations that every
// authenticated request is checked against: revoked sessions, revoked single
// tokens and per-user cut-offs, each kept until it stops mattering. It
// imports nothing of jwtrevoke's.
//
// Session ids and jtis of this server are 32 lower-case hex digits: they
// are kept as their 128-bit value, exactly, in open-addressing tables that
// are read without locks (see table). Any other id (a SimpleJWT session
// "simplejwt:<user>:<iat>", a foreign jti, upper-case hex) is kept as it
// is, in a string map behind a lock, which is skipped while it is empty.
package denylist

import (
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Set is safe for concurrent use. Expiry times are Unix seconds.
type Set struct {
	sessions idTable
	tokens   idTable
	users    idTable // a: user id, b: cut-off (Unix milliseconds)

	sessionStr strTable
	tokenStr   strTable
}

// New returns an empty set.
func New() *Set {
	s := &Set{}
	s.sessions.init(true)
	s.tokens.init(true)
	s.users.init(false)
	s.sessionStr.init()
	s.tokenStr.init()
	return s
}

// AddSession revokes every token carrying session id sid until expires.
func (s *Set) AddSession(sid string, expires int64) {
	if hi, lo, ok := hexKey(sid); ok {
		s.sessions.addID(hi, lo, expires)
	} else {
		s.sessionStr.add(sid, expires)
	}
}

// AddToken revokes the single token jti until expires.
func (s *Set) AddToken(jti string, expires int64) {
	if hi, lo, ok := hexKey(jti); ok {
		s.tokens.addID(hi, lo, expires)
	} else {
		s.tokenStr.add(jti, expires)
	}
}

// AddUser revokes every token of user issued before notBefore (Unix
// milliseconds), until expires. The latest cut-off and the latest expiry win.
func (s *Set) AddUser(user, notBefore, expires int64) {
	s.users.addUser(user, notBefore, expires)
}

// Revoked reports whether a token with these claims is revoked. Empty sid
// or jti are never looked up. Against a user's cut-off, a token counts as
// issued when its session began, read from a time-ordered session id (see
// SessionTime), or else at the start of its iat second: a token without
// such a sid issued in the cut-off's own second is refused, failing closed.
// A session time after the token's iat second cannot be honest and is
// ignored.
//
// It takes no lock and allocates nothing unless an id is not lower-case
// hex and revocations of such ids are held.
func (s *Set) Revoked(sid, jti string, user, iat int64) bool {
	if sid != "" && s.sessions.has(&s.sessionStr, sid) {
		return true
	}
	if jti != "" && s.tokens.has(&s.tokenStr, jti) {
		return true
	}
	if s.users.count.Load() == 0 {
		return false
	}
	if notBefore, ok := s.users.user(user); ok {
		issued, ok := SessionTime(sid)
		if !ok || issued > iat*1000+999 {
			// Not a session id of ours (a foreign jti can look like one):
			// a session never begins after its token's iat second.
			issued = iat * 1000
		}
		if issued < notBefore {
			return true
		}
	}
	return false
}

// HoldsSession reports whether the revocation of session sid is held.
func (s *Set) HoldsSession(sid string) bool { return s.sessions.has(&s.sessionStr, sid) }

// HoldsToken reports whether the revocation of the single token jti is held.
func (s *Set) HoldsToken(jti string) bool { return s.tokens.has(&s.tokenStr, jti) }

// HoldsUser reports whether a cut-off of user at notBefore (Unix
// milliseconds) or later is held.
func (s *Set) HoldsUser(user, notBefore int64) bool {
	if s.users.count.Load() == 0 {
		return false
	}
	nb, ok := s.users.user(user)
	return ok && nb >= notBefore
}

// SessionTime reads the creation time (Unix milliseconds) from a session
// id laid out like a UUIDv7 in 32 hex digits: 48 bits of milliseconds, then
// the version digit 7. Other ids give false.
func SessionTime(sid string) (int64, bool) {
	if len(sid) != 32 || sid[12] != '7' {
		return 0, false
	}
	var ms int64
	for i := range 12 {
		c := sid[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		ms = ms<<4 | int64(d)
	}
	return ms, true
}

// GC forgets every entry that expired at or before now and returns how many
// it removed.
func (s *Set) GC(now int64) int {
	return s.sessions.gc(now) + s.tokens.gc(now) + s.users.gc(now) +
		s.sessionStr.gc(now) + s.tokenStr.gc(now)
}

// Len returns the number of entries.
func (s *Set) Len() int {
	return int(s.sessions.count.Load() + s.tokens.count.Load() + s.users.count.Load() +
		s.sessionStr.count.Load() + s.tokenStr.count.Load())
}

// hexKey returns the key of id if it is exactly 32 lower-case hex digits
// (the server's session ids and jtis, and SimpleJWT's uuid4().hex jtis):
// the 128 bits of its digits, in an order of hexKey's own. Two such ids
// have the same key only if they are equal; any other id gives false and
// must be kept as a string.
//
// The digits are read 8 at a time (SWAR), each group as one little-endian
// word of 8 byte lanes.
func hexKey(id string) (hi, lo uint64, ok bool) {
	if len(id) != 32 {
		return 0, 0, false
	}
	x0, x1, x2, x3 := le64(id[0:8]), le64(id[8:16]), le64(id[16:24]), le64(id[24:32])
	n0, n1, n2, n3 := nibbles(x0), nibbles(x1), nibbles(x2), nibbles(x3)
	// The lanes of nibbles(x) are the digits' values if x is hex, and
	// digits(nibbles(x)) is always hex: x is lower-case hex iff it is
	// digits(nibbles(x)). This checks every lane, whatever the carries in
	// nibbles for lanes that are not hex.
	if digits(n0) != x0 || digits(n1) != x1 || digits(n2) != x2 || digits(n3) != x3 {
		return 0, 0, false
	}
	return pair(n0) | pair(n1)<<8, pair(n2) | pair(n3)<<8, true
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
	lows  = 0x7f7f7f7f7f7f7f7f
)

func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// nibbles maps the lanes '0'..'9' to 0..9 and 'a'..'f' to 10..15 (bit 6
// tells a letter: 'a'+9 is 0x6a).
func nibbles(x uint64) uint64 {
	return (x + (x>>6&ones)*9) & (ones * 0x0f)
}

// digits maps lanes 0..15 to '0'..'9', 'a'..'f'.
func digits(n uint64) uint64 {
	letter := (n + ones*(0x80-10)) & highs >> 7 // lanes >= 10
	return n + ones*'0' + letter*('a'-'0'-10)
}

// pair packs the 8 nibble lanes of n into the even bytes (lane 2i holds
// digits 2i and 2i+1), the odd bytes being 0.
func pair(n uint64) uint64 {
	return (n | n>>4) & 0x00ff00ff00ff00ff
}

// The id tables: 64 shards, each an open-addressing hash table behind a
// Bloom filter, both read without locks.
//
// The filter holds every key of its table (and, until GC rebuilds it, the
// expired ones): a key it rejects is not held. So a miss, the usual
// answer, mostly reads one 16-byte block of it and nothing else: at 10 to
// 15 bits a key (1.3-1.9 MB at 1e6 keys) it stays in cache, where the
// table (over 30 MB) cannot. A block is 2 words, in which a key sets 3 bits
// each, chosen by the top bits of a product of its hash; 0.3-1.3% of the
// keys that are not held pass it (TestFilterRate measures it). Keys that
// pass are looked up in the table: the answer is exact. A key it rejects
// is added without reading the table.
//
// The table is an array of buckets of one cache line each, 4 slots of 2
// words (a key's halves; users: the user id and the cut-off), so that a
// lookup of a held key mostly reads one line of it. Beside it, a control
// byte for each bucket (8 a word, 1/4 byte a slot: it stays in cache too)
// holds a bit for each full slot (slots fill in order) and an overflow
// bit, set once a key was put past the bucket. Buckets are probed linearly
// from the key's home bucket, and a lookup stops at the first bucket
// without overflow. The expiry times, which only writers and GC read, are
// apart.
//
// Each shard's writers hold its mutex. A slot, once filled, keeps its key
// until the table is dropped, and control bits and filter bits are only
// ever set, so a reader looking for a present key passes the filter and
// meets the key before any bucket without overflow, whatever is added
// meanwhile. A key's filter bits, its words and then its slot's bit are
// stored in that order, atomically, and the slot's bit is loaded before
// the words, so a reader never sees half an entry. Growth and GC build a
// new table aside, with plain stores, and publish it with one atomic
// store; readers still in the old one see it unchanged.
const (
	shardBits = 6
	nShards   = 1 << shardBits

	bucketSlots = 4
	bucketWords = 2 * bucketSlots
	overflow    = 1 << bucketSlots
	full        = overflow - 1

	// A table grows when 3/4 of its slots are full, to hold 1.5 times as
	// many entries as it had (GC too leaves that room): its slots are 1/2
	// to 3/4 full: 34-51 bytes an entry with its expiry, control byte and
	// filter.
	maxLoadNum, maxLoadDen = 3, 4
	growNum, growDen       = 3, 2

	// The filter has 10 bits for each entry a table may hold before it
	// grows: 10-15 bits an entry.
	filterBits = 10
)

// filterMul spreads a hash for the filter: the top 36 bits of their
// product choose the 6 bits a key sets in its block, 6 bits for each.
const filterMul = 0x9e3779b97f4a7c15

// A table's fields are in the order a lookup reads them: a miss, the
// first line only.
type table struct {
	nf      uint64   // filter blocks
	filter  []uint64 // 2 words a block; read and written atomically once published
	nb      uint64   // buckets
	ctrl    []uint64 // a byte a bucket, likewise
	buckets []uint64 // bucketWords a bucket, likewise
	exps    []int64  // a slot's expiry, only under the shard's mutex
	limit   int      // entries the table may hold
}

type shard struct {
	mu sync.Mutex
	n  int // entries, under mu
	_  [64 - 16]byte
	t  atomic.Pointer[table] // nil while the shard is empty
	_  [64 - 8]byte
}

type idTable struct {
	pair   bool // keys are (a, b); else a alone (users)
	seed   [2]uint64
	shards [nShards]shard
	count  atomic.Int64
	_      [64 - 8]byte
}

func (t *idTable) init(pair bool) {
	t.pair = pair
	var h maphash.Hash
	t.seed[0] = h.Sum64()
	h.WriteByte(0)
	t.seed[1] = h.Sum64()
}

// hash mixes a key into 64 bits (as wyhash does): the top shardBits choose
// the shard, the next bits the home bucket and the filter block, and all of
// them the filter's bits. The seed is random per set.
func (t *idTable) hash(a, b uint64) uint64 {
	if !t.pair {
		b = 0
	}
	hi, lo := bits.Mul64(a^t.seed[0], b^t.seed[1]^0xe7037ed1a0b428db)
	return hi ^ lo
}

// lines returns n words starting at a multiple of 64 bytes, so that no
// bucket or filter block spans two cache lines.
func lines(n uint64) []uint64 {
	s := make([]uint64, n+7)
	off := -(uintptr(unsafe.Pointer(&s[0])) >> 3) & 7
	return s[off : off+uintptr(n) : off+uintptr(n)]
}

// newTable returns an empty table for at least want entries.
func newTable(want int) *table {
	slots := (uint64(want)*maxLoadDen + maxLoadNum - 1) / maxLoadNum
	nb := max((slots+bucketSlots-1)/bucketSlots, 1)
	limit := int(nb * bucketSlots * maxLoadNum / maxLoadDen)
	nf := max((uint64(limit)*filterBits+127)/128, 1)
	return &table{
		nb: nb, nf: nf, limit: limit,
		buckets: lines(nb * bucketWords),
		ctrl:    make([]uint64, (nb+7)/8),
		filter:  lines(nf * 2),
		exps:    make([]int64, nb*bucketSlots),
	}
}

func (tb *table) home(h uint64) uint64 {
	g, _ := bits.Mul64(h<<shardBits, tb.nb)
	return g
}

// block returns the filter's block for a key hashed to h, and the bits of
// its two words that the key sets.
func (tb *table) block(h uint64) (w *[2]uint64, m0, m1 uint64) {
	f, _ := bits.Mul64(h<<shardBits, tb.nf)
	g := h * filterMul
	m0 = 1<<(g>>58) | 1<<(g>>52&63) | 1<<(g>>46&63)
	m1 = 1<<(g>>40&63) | 1<<(g>>34&63) | 1<<(g>>28&63)
	return (*[2]uint64)(tb.filter[2*f : 2*f+2]), m0, m1
}

// mayHave reports whether the filter may hold a key hashed to h. It is
// block and the test of its bits, written out to be cheaper.
func (tb *table) mayHave(h uint64) bool {
	f, _ := bits.Mul64(h<<shardBits, tb.nf)
	w := (*[2]uint64)(tb.filter[2*f:])
	g := h * filterMul
	return ^atomic.LoadUint64(&w[0])&(1<<(g>>58)|1<<(g>>52&63)|1<<(g>>46&63))|
		^atomic.LoadUint64(&w[1])&(1<<(g>>40&63)|1<<(g>>34&63)|1<<(g>>28&63)) == 0
}

// find returns the index of the slot holding key a (and b, if pair).
func (tb *table) find(a, b uint64, pair bool, h uint64) (slot uint64, found bool) {
	for g := tb.home(h); ; {
		c := atomic.LoadUint64(&tb.ctrl[g/8]) >> (g % 8 * 8)
		bk := (*[bucketWords]uint64)(tb.buckets[g*bucketWords:])
		for i := range uint64(bucketSlots) {
			if c&(1<<i) == 0 {
				break
			}
			if atomic.LoadUint64(&bk[2*i]) == a && (!pair || atomic.LoadUint64(&bk[2*i+1]) == b) {
				return g*bucketSlots + i, true
			}
		}
		if c&overflow == 0 {
			return 0, false
		}
		if g++; g == tb.nb {
			g = 0
		}
	}
}

// used returns the number of full slots of bucket g. Only for writers.
func (tb *table) used(g uint64) uint64 {
	return uint64(bits.OnesCount64(tb.ctrl[g/8] >> (g % 8 * 8) & full))
}

// put stores a key that tb does not hold and returns its slot. Before tb
// is published (published false) it writes plainly. Only this writer
// changes the words, so it reads them plainly.
func (tb *table) put(a, b, h uint64, exp int64, published bool) uint64 {
	w, m0, m1 := tb.block(h)
	if w[0]&m0 != m0 {
		setBits(&w[0], m0, published)
	}
	if w[1]&m1 != m1 {
		setBits(&w[1], m1, published)
	}
	for g := tb.home(h); ; {
		c := &tb.ctrl[g/8]
		shift := g % 8 * 8
		if n := uint64(bits.OnesCount64(*c >> shift & full)); n < bucketSlots {
			i := g*bucketSlots + n
			if published {
				atomic.StoreUint64(&tb.buckets[2*i], a)
				atomic.StoreUint64(&tb.buckets[2*i+1], b)
			} else {
				tb.buckets[2*i], tb.buckets[2*i+1] = a, b
			}
			tb.exps[i] = exp
			setBits(c, 1<<(shift+n), published) // last: the entry is there
			return i
		}
		if *c>>shift&overflow == 0 {
			setBits(c, overflow<<shift, published)
		}
		if g++; g == tb.nb {
			g = 0
		}
	}
}

func setBits(p *uint64, bits uint64, atomically bool) {
	if atomically {
		atomic.OrUint64(p, bits)
	} else {
		*p |= bits
	}
}

// has reports whether id is held, in t if it is lower-case hex, else in
// strs. An id is not even decoded while both are empty.
func (t *idTable) has(strs *strTable, id string) bool {
	if t.count.Load() == 0 && strs.count.Load() == 0 {
		return false
	}
	if hi, lo, ok := hexKey(id); ok {
		return t.hasID(hi, lo)
	}
	return strs.has(id)
}

func (t *idTable) hasID(a, b uint64) bool {
	h := t.hash(a, b)
	tb := t.shards[h>>(64-shardBits)].t.Load()
	if tb == nil {
		return false
	}
	// tb.mayHave(h), written out: it is the whole of a usual lookup.
	f, _ := bits.Mul64(h<<shardBits, tb.nf)
	w := (*[2]uint64)(tb.filter[2*f:])
	g := h * filterMul
	if ^atomic.LoadUint64(&w[0])&(1<<(g>>58)|1<<(g>>52&63)|1<<(g>>46&63))|
		^atomic.LoadUint64(&w[1])&(1<<(g>>40&63)|1<<(g>>34&63)|1<<(g>>28&63)) != 0 {
		return false
	}
	_, ok := tb.find(a, b, true, h)
	return ok
}

func (t *idTable) user(user int64) (notBefore int64, ok bool) {
	a := uint64(user)
	h := t.hash(a, 0)
	tb := t.shards[h>>(64-shardBits)].t.Load()
	if tb == nil || !tb.mayHave(h) {
		return 0, false
	}
	i, ok := tb.find(a, 0, false, h)
	if !ok {
		return 0, false
	}
	return int64(atomic.LoadUint64(&tb.buckets[2*i+1])), true
}

// add raises the expiry of key (a, b) to exp, and its b to at least b when
// keyed by a alone (users), or adds it.
func (t *idTable) add(a, b uint64, exp int64) {
	h := t.hash(a, b)
	sh := &t.shards[h>>(64-shardBits)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	tb := sh.t.Load()
	if tb != nil {
		if tb.mayHave(h) {
			if i, ok := tb.find(a, b, t.pair, h); ok {
				tb.exps[i] = max(tb.exps[i], exp)
				if p := &tb.buckets[2*i+1]; !t.pair && int64(b) > int64(*p) {
					atomic.StoreUint64(p, b)
				}
				return
			}
		}
		if sh.n < tb.limit {
			tb.put(a, b, h, exp, true)
			sh.n++
			t.count.Add(1)
			return
		}
	}
	tb = t.rebuilt(tb, (sh.n+1)*growNum/growDen, 0, false)
	tb.put(a, b, h, exp, false)
	sh.t.Store(tb)
	sh.n++
	t.count.Add(1)
}

func (t *idTable) addID(hi, lo uint64, expires int64) { t.add(hi, lo, expires) }

func (t *idTable) addUser(user, notBefore, expires int64) {
	// A new user's entry starts from a zero cut-off and expiry, which the
	// latest values then beat.
	t.add(uint64(user), uint64(max(notBefore, 0)), max(expires, 0))
}

// rebuilt returns a new table, not yet published, sized for at least want
// entries, with the entries of old (nil for none), but for those that
// expire at or before now if gc. Only this writer changes old: it reads it
// plainly.
func (t *idTable) rebuilt(old *table, want int, now int64, gc bool) *table {
	tb := newTable(want)
	if old == nil {
		return tb
	}
	for g := range old.nb {
		for i := g * bucketSlots; i < g*bucketSlots+old.used(g); i++ {
			if e := old.exps[i]; !gc || e > now {
				a, b := old.buckets[2*i], old.buckets[2*i+1]
				tb.put(a, b, t.hash(a, b), e, false)
			}
		}
	}
	return tb
}

func (t *idTable) gc(now int64) int {
	removed := 0
	if t.count.Load() == 0 {
		return 0
	}
	for i := range t.shards {
		sh := &t.shards[i]
		if sh.t.Load() == nil {
			continue // empty; anything added meanwhile is not yet due
		}
		sh.mu.Lock()
		if tb := sh.t.Load(); tb != nil {
			dead := 0
			for g := range tb.nb {
				for j := g * bucketSlots; j < g*bucketSlots+tb.used(g); j++ {
					if tb.exps[j] <= now {
						dead++
					}
				}
			}
			if dead > 0 {
				live := sh.n - dead
				if live == 0 {
					sh.t.Store(nil)
				} else { // with room to grow by half again, as after growth
					sh.t.Store(t.rebuilt(tb, live*growNum/growDen, now, true))
				}
				sh.n = live
				t.count.Add(int64(-dead))
				removed += dead
			}
		}
		sh.mu.Unlock()
	}
	return removed
}

// strTable keeps ids that are not lower-case hex, in sharded maps.
type strTable struct {
	count  atomic.Int64 // read first by has: 0 skips the lookup
	_      [64 - 8]byte
	seed   maphash.Seed
	shards [16]strShard
}

type strShard struct {
	mu sync.RWMutex
	m  map[string]int64
	_  [64 - 32]byte
}

func (t *strTable) init() { t.seed = maphash.MakeSeed() }

func (t *strTable) shard(id string) *strShard {
	return &t.shards[maphash.String(t.seed, id)%uint64(len(t.shards))]
}

func (t *strTable) has(id string) bool {
	if t.count.Load() == 0 {
		return false
	}
	sh := t.shard(id)
	sh.mu.RLock()
	_, ok := sh.m[id]
	sh.mu.RUnlock()
	return ok
}

func (t *strTable) add(id string, expires int64) {
	sh := t.shard(id)
	sh.mu.Lock()
	if old, ok := sh.m[id]; !ok || expires > old {
		if !ok {
			if sh.m == nil {
				sh.m = map[string]int64{}
			}
			t.count.Add(1)
		}
		sh.m[id] = expires
	}
	sh.mu.Unlock()
}

func (t *strTable) gc(now int64) int {
	removed := 0
	if t.count.Load() == 0 {
		return 0
	}
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for k, exp := range sh.m {
			if exp <= now {
				delete(sh.m, k)
				removed++
			}
		}
		sh.mu.Unlock()
	}
	t.count.Add(int64(-removed))
	return removed
}
