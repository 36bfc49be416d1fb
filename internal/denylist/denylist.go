// Package denylist holds the in-memory set of revocations that every
// authenticated request is checked against: revoked sessions, revoked single
// tokens and per-user cut-offs, each kept until it stops mattering. It
// imports nothing of jwtrevoke's.
package denylist

import "sync"

type cutoff struct {
	notBefore int64 // Unix milliseconds: tokens issued before it are revoked
	expires   int64
}

// Set is safe for concurrent use. Expiry times are Unix seconds.
type Set struct {
	mu       sync.RWMutex
	sessions map[string]int64
	tokens   map[string]int64
	users    map[int64]cutoff
}

// New returns an empty set.
func New() *Set {
	return &Set{
		sessions: map[string]int64{},
		tokens:   map[string]int64{},
		users:    map[int64]cutoff{},
	}
}

// AddSession revokes every token carrying session id sid until expires.
func (s *Set) AddSession(sid string, expires int64) {
	s.mu.Lock()
	if old, ok := s.sessions[sid]; !ok || expires > old {
		s.sessions[sid] = expires
	}
	s.mu.Unlock()
}

// AddToken revokes the single token jti until expires.
func (s *Set) AddToken(jti string, expires int64) {
	s.mu.Lock()
	if old, ok := s.tokens[jti]; !ok || expires > old {
		s.tokens[jti] = expires
	}
	s.mu.Unlock()
}

// AddUser revokes every token of user issued before notBefore (Unix
// milliseconds), until expires. The latest cut-off and the latest expiry win.
func (s *Set) AddUser(user, notBefore, expires int64) {
	s.mu.Lock()
	c := s.users[user]
	c.notBefore = max(c.notBefore, notBefore)
	c.expires = max(c.expires, expires)
	s.users[user] = c
	s.mu.Unlock()
}

// Revoked reports whether a token with these claims is revoked. Empty sid
// or jti are never looked up. Against a user's cut-off, a token counts as
// issued when its session began, read from a time-ordered session id (see
// SessionTime), or else at the start of its iat second: a token without
// such a sid issued in the cut-off's own second is refused, failing closed.
// A session time after the token's iat second cannot be honest and is
// ignored.
func (s *Set) Revoked(sid, jti string, user, iat int64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if sid != "" {
		if _, ok := s.sessions[sid]; ok {
			return true
		}
	}
	if jti != "" {
		if _, ok := s.tokens[jti]; ok {
			return true
		}
	}
	if c, ok := s.users[user]; ok {
		issued, ok := SessionTime(sid)
		if !ok || issued > iat*1000+999 {
			// Not a session id of ours (a foreign jti can look like one):
			// a session never begins after its token's iat second.
			issued = iat * 1000
		}
		if issued < c.notBefore {
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
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, exp := range s.sessions {
		if exp <= now {
			delete(s.sessions, k)
			n++
		}
	}
	for k, exp := range s.tokens {
		if exp <= now {
			delete(s.tokens, k)
			n++
		}
	}
	for k, c := range s.users {
		if c.expires <= now {
			delete(s.users, k)
			n++
		}
	}
	return n
}

// Len returns the number of entries.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions) + len(s.tokens) + len(s.users)
}
