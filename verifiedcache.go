package jwtrevoke

import (
	"crypto/subtle"
	"encoding/binary"
	"hash/maphash"
	"maps"
	"sync/atomic"
	"time"
	"unsafe"
)

// verifiedSlots is how many tokens a verifiedCache remembers: a client
// sends its access token with every request for the token's lifetime, so
// the tokens in use at once, not the tokens ever issued, are what it
// needs to hold. At about 400 bytes a token it is 1.6 MB at most.
const verifiedSlots = 1 << 12

// verifiedCache remembers the claims of tokens whose signature the fast
// path verified, so that the next request with the same token skips the
// base64, the HMAC and the JSON: a lookup by a hash of the token, then a
// constant-time comparison with the whole token it holds. What can change
// between two requests is checked again on every hit: the time claims
// (exp, nbf, iat, with the leeway) and the type asked for; the revocation
// check and the user come after decode and are not cached here. A token
// that fails any of these goes the full way, which gives its error.
//
// A nil cache holds nothing (the benchmarks of the uncached path use one).
//
// It is direct-mapped (one token a slot, the newest wins) and lock-free:
// a slot is an atomic pointer to an immutable entry. It belongs to one
// fastPath, so to one set of keys: a key change makes a new codec and
// forgets every token verified with the old keys.
type verifiedCache struct {
	seed  maphash.Seed
	slots [verifiedSlots]atomic.Pointer[verifiedToken]
}

// verifiedToken is one verified token: the encoded token, its claims
// (never handed out: each hit gets a copy) and its time claims.
type verifiedToken struct {
	raw            string
	claims         Claims
	exp, nbf, iat  time.Time
	hasNbf, hasIat bool
}

func newVerifiedCache() *verifiedCache { return &verifiedCache{seed: maphash.MakeSeed()} }

func (vc *verifiedCache) slot(raw string) *atomic.Pointer[verifiedToken] {
	return &vc.slots[maphash.String(vc.seed, raw)&(verifiedSlots-1)]
}

// get returns a copy of the claims of raw if the cache holds raw and raw
// still passes, at now, the checks decode would make again: the time
// claims with leeway, and the type when want is not empty. nil otherwise.
func (vc *verifiedCache) get(raw string, want TokenType, now time.Time, leeway time.Duration) *Claims {
	if vc == nil {
		return nil
	}
	v := vc.slot(raw).Load()
	if v == nil || len(v.raw) != len(raw) || !equalTime(v.raw, raw) {
		return nil
	}
	if !now.Before(v.exp.Add(leeway)) ||
		v.hasNbf && now.Before(v.nbf.Add(-leeway)) ||
		v.hasIat && now.Before(v.iat.Add(-leeway)) ||
		want != "" && v.claims.Type != want {
		return nil
	}
	c := v.claims
	c.Extra = maps.Clone(v.claims.Extra)
	return &c
}

// put remembers raw, which decode has just accepted with claims c (rc are
// its raw claims).
func (vc *verifiedCache) put(raw string, c *Claims, rc *rawClaims) {
	if vc == nil {
		return
	}
	v := &verifiedToken{raw: raw, claims: *c, exp: numericDate(rc.exp)}
	v.claims.Extra = maps.Clone(c.Extra)
	if rc.nbf != nil {
		v.nbf, v.hasNbf = numericDate(rc.nbf), true
	}
	if rc.iat != nil {
		v.iat, v.hasIat = numericDate(rc.iat), true
	}
	vc.slot(raw).Store(v)
}

// equalTime reports whether a and b, of the same length, are equal, in a
// time that depends on their length only (as crypto/subtle's
// ConstantTimeCompare, eight bytes a step).
func equalTime(a, b string) bool {
	x, y := stringBytes(a), stringBytes(b)
	var acc uint64
	i := 0
	for ; i+8 <= len(x); i += 8 {
		acc |= binary.LittleEndian.Uint64(x[i:]) ^ binary.LittleEndian.Uint64(y[i:])
	}
	for ; i < len(x); i++ {
		acc |= uint64(x[i] ^ y[i])
	}
	return subtle.ConstantTimeEq(int32(uint32(acc>>32)|uint32(acc)), 0) == 1
}

// stringBytes is s's bytes, not copied (only read).
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
