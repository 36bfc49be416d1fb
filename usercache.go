package jwtrevoke

import (
	"sync"
	"time"
)

// userCacheMax bounds the users an instance keeps: past it the cache is
// emptied and fills again from the store.
const userCacheMax = 100_000

// userCache keeps recently loaded users for USER_CACHE_TTL, so that an
// authenticated request asks the store nothing. Entries are dropped when a
// user-wide revocation arrives (deactivation, password change, logout-all:
// from this instance or any other) and when this instance changes the
// user; a change made behind jwtrevoke's back (a Django admin on a shared
// database) is seen within the TTL.
type userCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[int64]cachedUser
}

type cachedUser struct {
	u      *User // never modified once cached
	loaded int64 // Unix nanoseconds
}

func newUserCache(ttl time.Duration) *userCache {
	return &userCache{ttl: ttl, m: map[int64]cachedUser{}}
}

// get returns the cached user id if it was loaded less than ttl ago.
func (c *userCache) get(id int64, now time.Time) (*User, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || now.UnixNano()-e.loaded >= int64(c.ttl) {
		return nil, false
	}
	return e.u, true
}

// put caches u as loaded at now.
func (c *userCache) put(u *User, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	if len(c.m) >= userCacheMax {
		clear(c.m)
	}
	c.m[u.ID] = cachedUser{u: u, loaded: now.UnixNano()}
	c.mu.Unlock()
}

// drop forgets user id.
func (c *userCache) drop(id int64) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
