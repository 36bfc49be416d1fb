package httpapi_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// countingUsers counts the user lookups that reach the store.
type countingUsers struct {
	*memory.Store
	byID atomic.Int64
}

func (c *countingUsers) UserByID(ctx context.Context, id int64) (*jwtrevoke.User, error) {
	c.byID.Add(1)
	return c.Store.UserByID(ctx, id)
}

// USER_CACHE_TTL: authenticated requests ask the store for their user at
// most once per TTL; a deactivation through jwtrevoke takes effect at
// once, a change made in the store directly within the TTL.
func TestUserCache(t *testing.T) {
	c := newClock(time.Now())
	var cu *countingUsers
	e := newEnv(t, withClock(c), withSettings(func(s *jwtrevoke.Settings) { s.UserCacheTTL = 5 * time.Second }),
		withStore(func(m *memory.Store) jwtrevoke.Store { cu = &countingUsers{Store: m}; return cu }))
	p := e.MustLogin(userEmail, userPass)
	before := cu.byID.Load()
	for range 20 {
		e.wantMe(p.Access, userEmail)
	}
	if n := cu.byID.Load() - before; n != 1 {
		t.Fatalf("20 requests within the TTL loaded the user %d times, want 1", n)
	}
	// Deactivated in the store directly: seen once the TTL has passed.
	e.setActive(userEmail, false)
	e.wantMe(p.Access, userEmail)
	c.Add(5 * time.Second)
	want(t, e.me(p.Access), http.StatusUnauthorized, bodyUserInactive)
	e.setActive(userEmail, true)
	c.Add(5 * time.Second)
	e.wantMe(p.Access, userEmail)

	// Deactivated through jwtrevoke: refused at once, cache or not.
	q := e.MustLogin(secondEmail, secondPass)
	e.wantMe(q.Access, secondEmail)
	if err := e.svc.SetActive(t.Context(), e.users[secondEmail].ID, false); err != nil {
		t.Fatal(err)
	}
	e.wantRevokedAccess(q.Access)
	if err := e.svc.SetActive(t.Context(), e.users[secondEmail].ID, true); err != nil {
		t.Fatal(err)
	}
	e.wantMe(e.MustLogin(secondEmail, secondPass).Access, secondEmail) // the reactivation too
}
