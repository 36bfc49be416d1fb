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
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
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

// The id tables: 64 shards, each an open-addressing hash table read
// without locks, laid out like Go's own maps: groups of 8 slots of 3 words,
// and for each group a word of 8 tags, a tag being 0 for an empty slot or
// 0x80 and 7 bits of the key's hash. A lookup reads the tag words along
// its probe path and the slots only whose tag matches, so a miss (the
// usual answer) mostly reads one word of a tag array of 1 byte per slot,
// which stays in cache. Tags only skip slots that cannot hold the key: the
// answer is exact.
//
// Each shard's writers hold its mutex. A slot, once filled, keeps its key
// until the table is dropped: an entry is only ever added to the first
// empty slot on its probe path, and a group's empty slots only fill, so a
// reader looking for a present key meets it before any group with an empty
// slot, whatever is added meanwhile. Growth and GC build a new table aside
// and publish it with one atomic store; readers still in the old one see it
// unchanged. Every word is read and written atomically, and a slot's tag is
// stored after its words and loaded before them, so a reader never sees
// half an entry.
const (
	shardBits = 6
	nShards   = 1 << shardBits
)

type slot struct {
	exp  atomic.Int64
	a, b atomic.Uint64 // ids: the key's halves; users: the user id and cut-off
}

type table struct {
	mask  uint64          // groups - 1
	tags  []atomic.Uint64 // one word per group
	slots []slot          // 8 per group, never more than 3/4 full in all
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
// the shard, bits 50-56 make the tag, the low bits the group. The seed is
// random per set.
func (t *idTable) hash(a, b uint64) uint64 {
	if !t.pair {
		b = 0
	}
	hi, lo := bits.Mul64(a^t.seed[0], b^t.seed[1]^0xe7037ed1a0b428db)
	return hi ^ lo
}

func tagOf(h uint64) uint64 { return 0x80 | h>>50&0x7f }

// find returns the slot holding key a (and b, if pair), or else the first
// empty slot where it belongs, its group and its index in it.
func (tb *table) find(a, b uint64, pair bool, h uint64) (sl *slot, found bool, g uint64, i int) {
	match := tagOf(h) * ones
	for g = h & tb.mask; ; g = (g + 1) & tb.mask {
		w := tb.tags[g].Load()
		x := w ^ match // lanes of matching tags are 0
		for m := ^((x&lows + lows) | x | lows); m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m) >> 3
			sl := &tb.slots[g<<3|uint64(i)]
			if sl.a.Load() == a && (!pair || sl.b.Load() == b) {
				return sl, true, g, i
			}
		}
		if empty := ^w & highs; empty != 0 {
			i := bits.TrailingZeros64(empty) >> 3
			return &tb.slots[g<<3|uint64(i)], false, g, i
		}
	}
}

// fill stores an entry in the empty slot i of group g, tag last.
func (tb *table) fill(g uint64, i int, h uint64, exp int64, a, b uint64) {
	sl := &tb.slots[g<<3|uint64(i)]
	sl.a.Store(a)
	sl.b.Store(b)
	sl.exp.Store(exp)
	tb.tags[g].Store(tb.tags[g].Load() | tagOf(h)<<(8*i))
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
	_, ok, _, _ := tb.find(a, b, true, h)
	return ok
}

func (t *idTable) user(user int64) (notBefore int64, ok bool) {
	a := uint64(user)
	h := t.hash(a, 0)
	tb := t.shards[h>>(64-shardBits)].t.Load()
	if tb == nil {
		return 0, false
	}
	sl, ok, _, _ := tb.find(a, 0, false, h)
	if !ok {
		return 0, false
	}
	return int64(sl.b.Load()), true
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
		sl, ok, g, i := tb.find(a, b, t.pair, h)
		if ok {
			if exp > sl.exp.Load() {
				sl.exp.Store(exp)
			}
			if !t.pair && int64(b) > int64(sl.b.Load()) {
				sl.b.Store(b)
			}
			return
		}
		if uint64(sh.n+1) <= (tb.mask+1)*6 { // 3/4 of the slots
			tb.fill(g, i, h, exp, a, b)
			sh.n++
			t.count.Add(1)
			return
		}
	}
	tb = t.rebuild(sh, tb, sh.n+1, math.MinInt64) // keep every entry
	_, _, g, i := tb.find(a, b, t.pair, h)
	tb.fill(g, i, h, exp, a, b)
	sh.n++
	t.count.Add(1)
}

func (t *idTable) addID(hi, lo uint64, expires int64) { t.add(hi, lo, expires) }

func (t *idTable) addUser(user, notBefore, expires int64) {
	// A new user's entry starts from a zero cut-off and expiry, which the
	// latest values then beat.
	t.add(uint64(user), uint64(max(notBefore, 0)), max(expires, 0))
}

// rebuild publishes, in sh (locked), a new table with the entries of old
// that expire after now, sized for at least want entries, and returns it
// (nil when want is 0).
func (t *idTable) rebuild(sh *shard, old *table, want int, now int64) *table {
	var tb *table
	if want > 0 {
		groups := uint64(1)
		for groups*6 < uint64(want) {
			groups *= 2
		}
		tb = &table{mask: groups - 1, tags: make([]atomic.Uint64, groups), slots: make([]slot, 8*groups)}
	}
	if old != nil {
		for g := range old.tags {
			w := old.tags[g].Load()
			for i := range 8 {
				if w>>(8*i)&0x80 == 0 {
					continue
				}
				o := &old.slots[g<<3|i]
				exp := o.exp.Load()
				if exp <= now {
					continue
				}
				a, b := o.a.Load(), o.b.Load()
				h := t.hash(a, b)
				_, _, ng, ni := tb.find(a, b, t.pair, h)
				tb.fill(ng, ni, h, exp, a, b)
			}
		}
	}
	sh.t.Store(tb)
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
			for g := range tb.tags {
				w := tb.tags[g].Load()
				for j := range 8 {
					if w>>(8*j)&0x80 != 0 && tb.slots[g<<3|j].exp.Load() <= now {
						dead++
					}
				}
			}
			if dead > 0 {
				live := sh.n - dead
				t.rebuild(sh, tb, live, now)
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
