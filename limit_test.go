package jwtrevoke_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

func TestParseRate(t *testing.T) {
	good := map[string]jwtrevoke.Rate{
		"20/minute": {N: 20, Per: time.Minute},
		"20/min":    {N: 20, Per: time.Minute},
		"20/m":      {N: 20, Per: time.Minute},
		"5/second":  {N: 5, Per: time.Second},
		"100/day":   {N: 100, Per: 24 * time.Hour},
		"10/Hour":   {N: 10, Per: time.Hour},
		" 5 / 15m ": {N: 5, Per: 15 * time.Minute},
		"3/90s":     {N: 3, Per: 90 * time.Second},
		"none":      {},
		"off":       {},
		"0":         {},
		"":          {},
		"0/minute":  {},
	}
	for in, want := range good {
		got, err := jwtrevoke.ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := jwtrevoke.ParseRate(got.String()); err != nil || back != got {
			t.Errorf("ParseRate(%q.String() = %q) = %v, %v", in, got.String(), back, err)
		}
	}
	for _, in := range []string{"20", "x/minute", "-1/minute", "5/week", "5/", "5/0s", "5/-1m", "/minute"} {
		if r, err := jwtrevoke.ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %v, want an error", in, r)
		}
	}
	if s := (jwtrevoke.Rate{N: 20, Per: time.Minute}).String(); s != "20/minute" {
		t.Errorf("String() = %q, want 20/minute", s)
	}
}

func TestMemoryLimiterBucket(t *testing.T) {
	ctx := context.Background()
	l := jwtrevoke.NewMemoryLimiter(jwtrevoke.Rate{N: 3, Per: time.Minute}, 0)
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		if ok, _, err := l.Allow(ctx, "k", t0); !ok || err != nil {
			t.Fatalf("attempt %d of the burst refused (%v)", i+1, err)
		}
	}
	ok, wait, err := l.Allow(ctx, "k", t0)
	if ok || err != nil || wait != 20*time.Second {
		t.Fatalf("4th attempt: ok=%v wait=%v err=%v; want refused, 20s (a token every 60s/3)", ok, wait, err)
	}
	if ok, _, _ := l.Allow(ctx, "other", t0); !ok {
		t.Fatal("another key is limited by the first one")
	}
	if ok, wait, _ := l.Allow(ctx, "k", t0.Add(15*time.Second)); ok || wait != 5*time.Second {
		t.Fatalf("after 15s: ok=%v wait=%v; want refused, 5s", ok, wait)
	}
	if ok, _, _ := l.Allow(ctx, "k", t0.Add(20*time.Second)); !ok {
		t.Fatal("after 20s: refused, want one token back")
	}
	if ok, _, _ := l.Allow(ctx, "k", t0.Add(20*time.Second)); ok {
		t.Fatal("after 20s: a second attempt allowed")
	}
	// Refund gives one back, never more than the burst.
	if err := l.Refund(ctx, "k", t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := l.Allow(ctx, "k", t0.Add(20*time.Second)); !ok {
		t.Fatal("refunded attempt refused")
	}
	for range 10 {
		_ = l.Refund(ctx, "fresh", t0)
	}
	for i := range 4 {
		ok, _, _ := l.Allow(ctx, "fresh", t0)
		if ok != (i < 3) {
			t.Fatalf("refunds beyond the burst: attempt %d ok=%v", i+1, ok)
		}
	}
	// A clock that goes back refills nothing and breaks nothing.
	if ok, wait, _ := l.Allow(ctx, "fresh", t0.Add(-time.Hour)); ok || wait <= 0 {
		t.Fatalf("clock went back: ok=%v wait=%v", ok, wait)
	}
}

func TestMemoryLimiterDisabledRate(t *testing.T) {
	l := jwtrevoke.NewMemoryLimiter(jwtrevoke.Rate{}, 0)
	for range 1000 {
		if ok, _, _ := l.Allow(context.Background(), "k", time.Now()); !ok {
			t.Fatal("a disabled rate refused")
		}
	}
	if l.Len() != 0 {
		t.Fatalf("a disabled rate holds %d keys", l.Len())
	}
}

// TestMemoryLimiterBoundedMemory: refilled buckets are forgotten, and at
// most maxKeys are held however many keys come.
func TestMemoryLimiterBoundedMemory(t *testing.T) {
	ctx := context.Background()
	l := jwtrevoke.NewMemoryLimiter(jwtrevoke.Rate{N: 2, Per: time.Minute}, 100)
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 50 {
		l.Allow(ctx, "idle-"+strings.Repeat("x", i), t0)
	}
	if l.Len() != 50 {
		t.Fatalf("Len = %d, want 50", l.Len())
	}
	// A period later every bucket has refilled: all are forgotten.
	l.Allow(ctx, "new", t0.Add(time.Minute))
	if l.Len() != 1 {
		t.Fatalf("Len after a period = %d, want 1 (idle keys evicted)", l.Len())
	}
	for i := range 10_000 {
		l.Allow(ctx, "flood-"+string(rune('a'+i%26))+strings.Repeat("y", i/26), t0.Add(time.Minute))
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("Len = %d after a flood of keys, want at most 100", n)
	}
	// A 1 MiB key costs no more than a short one.
	l.Allow(ctx, strings.Repeat("z", 1<<20), t0.Add(time.Minute))
}

func TestMemoryLimiterConcurrent(t *testing.T) {
	l := jwtrevoke.NewMemoryLimiter(jwtrevoke.Rate{N: 10, Per: time.Hour}, 0)
	now := time.Now()
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if ok, _, _ := l.Allow(context.Background(), "k", now); ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 10 {
		t.Fatalf("%d of 100 concurrent attempts allowed, want exactly the burst of 10", allowed.Load())
	}
}

func TestLoginKeys(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "ip:192.0.2.7",
		"::ffff:192.0.2.7":     "ip:192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "ip:2001:db8:1:2::/64",
		"fe80::1%eth0":         "ip:fe80::/64",
		"":                     "",
		"not-an-address":       "ip:not-an-address",
	} {
		if got := jwtrevoke.LoginIPKey(in); got != want {
			t.Errorf("LoginIPKey(%q) = %q, want %q", in, got, want)
		}
	}
	if a, b := jwtrevoke.LoginAccountKey(" Test@Email.COM "), jwtrevoke.LoginAccountKey("test@email.com"); a != b {
		t.Errorf("account keys differ by case: %q, %q", a, b)
	}
}

// countingHasher counts the hash checks of the Service, to see that every
// failed login costs one, and a throttled one none.
type countingHasher struct {
	jwtrevoke.PasswordHasher
	checks atomic.Int32
}

func (h *countingHasher) Check(password, encoded string) (bool, bool, error) {
	h.checks.Add(1)
	return h.PasswordHasher.Check(password, encoded)
}

// countingStore counts user lookups.
type countingStore struct {
	jwtrevoke.Store
	lookups atomic.Int32
}

func (s *countingStore) UserByEmail(ctx context.Context, email string) (*jwtrevoke.User, error) {
	s.lookups.Add(1)
	return s.Store.UserByEmail(ctx, email)
}

type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settableClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func limitedService(t *testing.T, mod func(*jwtrevoke.Settings), opts jwtrevoke.Options) (*jwtrevoke.Service, *countingHasher, *countingStore, *settableClock, *memory.Store) {
	t.Helper()
	mem := memory.New()
	st := &countingStore{Store: mem}
	h := &countingHasher{PasswordHasher: cheap}
	clk := &settableClock{t: time.Now()}
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = testKey
	s.LoginRateScope = jwtrevoke.ScopeInstance // these tests are of the token bucket; TestStoreLimiter* of the shared one
	if mod != nil {
		mod(&s)
	}
	opts.Hasher, opts.Now = h, clk.Now
	svc, err := jwtrevoke.New(t.Context(), st, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc, h, st, clk, mem
}

// TestObtainNoUserEnumeration: an unknown email, a wrong password, an
// inactive user and a user without a usable password give the same error
// after the same work: one password hash check.
func TestObtainNoUserEnumeration(t *testing.T) {
	svc, h, _, _, mem := limitedService(t, func(s *jwtrevoke.Settings) {
		s.LoginRatePerIP, s.LoginRatePerAccount = jwtrevoke.Rate{}, jwtrevoke.Rate{}
	}, jwtrevoke.Options{})
	mustUser(t, svc, "known@x.io")
	inactive := mustUser(t, svc, "inactive@x.io")
	inactive.IsActive = false
	if err := mem.UpdateUser(t.Context(), inactive); err != nil {
		t.Fatal(err)
	}
	unusable := mustUser(t, svc, "unusable@x.io")
	unusable.PasswordHash = "!XoNoPasswordSetByDjango"
	if err := mem.UpdateUser(t.Context(), unusable); err != nil {
		t.Fatal(err)
	}
	broken := mustUser(t, svc, "broken@x.io")
	broken.PasswordHash = "md5$salt$0123"
	if err := mem.UpdateUser(t.Context(), broken); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, email, password string }{
		{"UnknownEmail", "nobody@x.io", "whatever"},
		{"WrongPassword", "known@x.io", "whatever"},
		{"InactiveRightPassword", "inactive@x.io", "pw-inactive@x.io"},
		{"InactiveWrongPassword", "inactive@x.io", "whatever"},
		{"UnusablePassword", "unusable@x.io", "whatever"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.checks.Load()
			_, err := svc.Obtain(t.Context(), c.email, c.password, jwtrevoke.ClientInfo{IP: "192.0.2.1"})
			if err != jwtrevoke.ErrNoActiveAccount {
				t.Fatalf("Obtain: %v, want exactly ErrNoActiveAccount", err)
			}
			if n := h.checks.Load() - before; n != 1 {
				t.Fatalf("%d password checks, want 1 (the same work as a wrong password)", n)
			}
		})
	}
	t.Run("BrokenHash", func(t *testing.T) {
		before := h.checks.Load()
		_, err := svc.Obtain(t.Context(), "broken@x.io", "whatever", jwtrevoke.ClientInfo{})
		if err != jwtrevoke.ErrNoActiveAccount {
			t.Fatalf("Obtain: %v, want ErrNoActiveAccount", err)
		}
		if n := h.checks.Load() - before; n != 2 {
			t.Fatalf("%d password checks, want 2 (the unusable hash, then the dummy one)", n)
		}
	})
}

// TestObtainThrottledBeforeAnyWork: a throttled login neither looks the
// user up nor hashes, and says which limit and for how long.
func TestObtainThrottledBeforeAnyWork(t *testing.T) {
	svc, h, st, clk, _ := limitedService(t, nil, jwtrevoke.Options{})
	mustUser(t, svc, "a@x.io")
	info := jwtrevoke.ClientInfo{IP: "192.0.2.1"}
	for i := range 5 {
		if _, err := svc.Obtain(t.Context(), "a@x.io", "wrong", info); err != jwtrevoke.ErrNoActiveAccount {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	checks, lookups := h.checks.Load(), st.lookups.Load()
	_, err := svc.Obtain(t.Context(), "A@X.IO", "pw-a@x.io", info)
	var te *jwtrevoke.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, jwtrevoke.ErrThrottled) {
		t.Fatalf("6th attempt: %v, want a ThrottledError", err)
	}
	if te.Limit != "LOGIN_RATE_PER_ACCOUNT" || te.RetryAfter != 12*time.Second {
		t.Fatalf("throttled by %s for %v, want LOGIN_RATE_PER_ACCOUNT for 12s", te.Limit, te.RetryAfter)
	}
	if h.checks.Load() != checks || st.lookups.Load() != lookups {
		t.Fatal("a throttled login looked the user up or checked a password")
	}
	clk.Add(12 * time.Second)
	if _, err := svc.Obtain(t.Context(), "a@x.io", "pw-a@x.io", info); err != nil {
		t.Fatalf("after 12s: %v, want a login", err)
	}
	// Per IP: 20 attempts a minute from one address, whatever the accounts.
	svc2, _, _, _, _ := limitedService(t, nil, jwtrevoke.Options{})
	for i := range 20 {
		if _, err := svc2.Obtain(t.Context(), "u"+string(rune('a'+i))+"@x.io", "pw", info); err != jwtrevoke.ErrNoActiveAccount {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err = svc2.Obtain(t.Context(), "fresh@x.io", "pw", info)
	if !errors.As(err, &te) || te.Limit != "LOGIN_RATE_PER_IP" || te.RetryAfter != 3*time.Second {
		t.Fatalf("21st attempt from one address: %v, want LOGIN_RATE_PER_IP for 3s", err)
	}
	if _, err := svc2.Obtain(t.Context(), "fresh@x.io", "pw", jwtrevoke.ClientInfo{IP: "192.0.2.2"}); err != jwtrevoke.ErrNoActiveAccount {
		t.Fatalf("another address: %v, want not throttled", err)
	}
}

// failingLimiter cannot answer, as a store-backed limiter whose store is down.
type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string, time.Time) (bool, time.Duration, error) {
	return false, 0, jwtrevoke.ErrUnavailable
}
func (failingLimiter) Refund(context.Context, string, time.Time) error {
	return jwtrevoke.ErrUnavailable
}

// TestObtainLimiterFromOptions: a Limiter given in Options is used, and
// one that cannot answer refuses the login (fail closed).
func TestObtainLimiterFromOptions(t *testing.T) {
	svc, h, _, _, _ := limitedService(t, nil, jwtrevoke.Options{AccountLimiter: failingLimiter{}})
	mustUser(t, svc, "a@x.io")
	before := h.checks.Load()
	_, err := svc.Obtain(t.Context(), "a@x.io", "pw-a@x.io", jwtrevoke.ClientInfo{IP: "192.0.2.1"})
	if !errors.Is(err, jwtrevoke.ErrUnavailable) || errors.Is(err, jwtrevoke.ErrThrottled) {
		t.Fatalf("Obtain with a failing limiter: %v, want an ErrUnavailable error", err)
	}
	if h.checks.Load() != before {
		t.Fatal("password checked although the limiter could not answer")
	}
	// The setting off: the limiter is not asked.
	svc, _, _, _, _ = limitedService(t, func(s *jwtrevoke.Settings) { s.LoginRatePerAccount = jwtrevoke.Rate{} },
		jwtrevoke.Options{AccountLimiter: failingLimiter{}})
	mustUser(t, svc, "a@x.io")
	if _, err := svc.Obtain(t.Context(), "a@x.io", "pw-a@x.io", jwtrevoke.ClientInfo{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("Obtain with the limit off: %v", err)
	}
}

// TestStoreLimiterSharedAcrossInstances: with LOGIN_RATE_SCOPE=cluster
// (the default) two services on one store share the counts: failures on
// one instance throttle the account on the other, in fixed windows.
func TestStoreLimiterSharedAcrossInstances(t *testing.T) {
	mem := memory.New()
	clk := &settableClock{t: time.Unix(1_800_000_000, 0)} // a window boundary for 1/minute... and 5/minute
	newSvc := func() *jwtrevoke.Service {
		s := jwtrevoke.DefaultSettings()
		s.SigningKey = testKey
		svc, err := jwtrevoke.New(t.Context(), mem, s, jwtrevoke.Options{Hasher: cheap, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b := newSvc(), newSvc()
	mustUser(t, a, "a@x.io")
	for i := range 5 {
		svc := []*jwtrevoke.Service{a, b}[i%2]
		info := jwtrevoke.ClientInfo{IP: fmt.Sprintf("192.0.2.%d", i+1)} // the IP limit stays out of it
		if _, err := svc.Obtain(t.Context(), "a@x.io", "wrong", info); err != jwtrevoke.ErrNoActiveAccount {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	clk.t = clk.t.Add(15 * time.Second)
	_, err := b.Obtain(t.Context(), "a@x.io", "pw-a@x.io", jwtrevoke.ClientInfo{IP: "198.51.100.1"})
	var te *jwtrevoke.ThrottledError
	if !errors.As(err, &te) || te.Limit != "LOGIN_RATE_PER_ACCOUNT" || te.RetryAfter != 45*time.Second {
		t.Fatalf("6th attempt, on the other instance: %v; want LOGIN_RATE_PER_ACCOUNT, retry after 45s (the window's end)", err)
	}
	clk.t = clk.t.Add(45 * time.Second) // the next window
	if _, err := b.Obtain(t.Context(), "a@x.io", "pw-a@x.io", jwtrevoke.ClientInfo{IP: "198.51.100.1"}); err != nil {
		t.Fatalf("login in the next window: %v", err)
	}
	// A success gives its attempt back: five more failures are allowed.
	for i := range 5 {
		if _, err := a.Obtain(t.Context(), "a@x.io", "wrong", jwtrevoke.ClientInfo{IP: fmt.Sprintf("203.0.113.%d", i+1)}); err != jwtrevoke.ErrNoActiveAccount {
			t.Fatalf("failure %d after a success: %v", i+1, err)
		}
	}
	// The counters are in the store, hashed: no email address is kept.
	res, err := mem.FlushExpired(t.Context(), clk.t.Add(time.Hour), jwtrevoke.FlushOptions{Batch: 100})
	if err != nil || res.Attempts == 0 {
		t.Fatalf("FlushExpired = %+v, %v; want the ended windows' counters deleted", res, err)
	}
}
