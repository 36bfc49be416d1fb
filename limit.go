package jwtrevoke

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is a limit of N events per period Per, in bursts of at most N: a
// token bucket that holds N tokens and refills N every Per. The zero Rate
// is no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// Enabled reports whether r limits anything.
func (r Rate) Enabled() bool { return r.N > 0 && r.Per > 0 }

// drfPeriods are the periods of Django REST framework's throttle rates,
// which reads only the first letter ("5/m", "5/min" and "5/minute" are
// the same rate).
var drfPeriods = map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}

// ParseRate reads a rate as Django REST framework writes throttle rates,
// "N/period" with period second, minute, hour or day (only the first
// letter counts, as in DRF: "20/min", "20/m", "20/minute"), or with a Go
// duration as period ("5/15m": 5 per quarter of an hour). "none", "off",
// "0" and "" are no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "none", "off", "0":
		return Rate{}, nil
	}
	num, period, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q is not N/period such as 20/minute or 5/15m", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a number of attempts", s, num)
	}
	period = strings.ToLower(strings.TrimSpace(period))
	per, err := time.ParseDuration(period)
	if err != nil {
		var known bool
		if period != "" {
			per, known = drfPeriods[period[0]]
		}
		if !known {
			return Rate{}, fmt.Errorf("rate %q: period %q is not second, minute, hour, day or a duration such as 15m", s, period)
		}
	}
	if per <= 0 {
		return Rate{}, fmt.Errorf("rate %q: the period must be positive", s)
	}
	if n == 0 {
		return Rate{}, nil
	}
	return Rate{N: n, Per: per}, nil
}

// String writes r so that ParseRate reads it back: "20/minute", "5/15m0s",
// "none".
func (r Rate) String() string {
	if !r.Enabled() {
		return "none"
	}
	for name, d := range map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour} {
		if r.Per == d {
			return strconv.Itoa(r.N) + "/" + name
		}
	}
	return strconv.Itoa(r.N) + "/" + r.Per.String()
}

// Limiter counts attempts per key (a client address, an account) and says
// whether one more is allowed. The Service asks it before it does any work
// for a login, so that a throttled request costs next to nothing.
//
// The Service uses a MemoryLimiter per instance unless Options give
// another: a Limiter backed by a shared store makes the limits hold across
// every instance that shares it. Such a Limiter applies its own rate (the
// LOGIN_RATE_* setting it was built with), must take the attempt and
// answer in one atomic step (so that concurrent attempts cannot all pass),
// and returns an error when it cannot answer: the login is then refused
// (503), never let through unchecked.
type Limiter interface {
	// Allow takes one attempt for key at now. When none is left it
	// returns false and how long until one is.
	Allow(ctx context.Context, key string, now time.Time) (ok bool, retryAfter time.Duration, err error)
	// Refund gives back one attempt taken by Allow that turned out not
	// to count (a successful login, for the per-account limit). Refunding
	// a key the limiter no longer holds does nothing.
	Refund(ctx context.Context, key string, now time.Time) error
}

// ErrThrottled is what a *ThrottledError is (errors.Is): too many attempts.
var ErrThrottled = errors.New("Request was throttled.")

// ThrottledError is a refusal by a Limiter.
type ThrottledError struct {
	// Limit names the limit: LOGIN_RATE_PER_IP or LOGIN_RATE_PER_ACCOUNT.
	Limit string
	// RetryAfter is how long until the next attempt is allowed.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%s (%s, retry after %s)", ErrThrottled, e.Limit, e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// DefaultLimiterKeys is how many keys a MemoryLimiter holds at most.
const DefaultLimiterKeys = 100_000

// MemoryLimiter is a Limiter in this process's memory: a token bucket per
// key. Its memory is bounded: a bucket that has refilled completely is
// the same as no bucket and is forgotten, and when maxKeys buckets are
// all still refilling, the least recently used one is dropped (which
// forgives that key's past attempts: an attacker must make maxKeys other
// attempts in one period to get it, which the per-IP limit slows down).
// Keys are kept as 64-bit hashes, so long keys cost nothing.
type MemoryLimiter struct {
	rate Rate
	max  int
	seed maphash.Seed

	mu      sync.Mutex
	buckets map[uint64]*list.Element
	lru     list.List // of *bucket, most recently used first
}

type bucket struct {
	key    uint64
	tokens float64
	last   time.Time
}

// NewMemoryLimiter returns a MemoryLimiter of rate r holding at most
// maxKeys keys (DefaultLimiterKeys when maxKeys <= 0). A disabled rate
// allows everything.
func NewMemoryLimiter(r Rate, maxKeys int) *MemoryLimiter {
	if maxKeys <= 0 {
		maxKeys = DefaultLimiterKeys
	}
	return &MemoryLimiter{rate: r, max: maxKeys, seed: maphash.MakeSeed(), buckets: map[uint64]*list.Element{}}
}

// Len returns how many keys the limiter holds.
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// refill brings b's tokens up to now.
func (l *MemoryLimiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(float64(l.rate.N), b.tokens+d.Seconds()*float64(l.rate.N)/l.rate.Per.Seconds())
		b.last = now
	}
}

// sweep forgets the least recently used buckets that have refilled
// completely by now (untouched for a whole period).
func (l *MemoryLimiter) sweep(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		b := e.Value.(*bucket)
		if now.Sub(b.last) < l.rate.Per {
			return
		}
		l.lru.Remove(e)
		delete(l.buckets, b.key)
	}
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(_ context.Context, key string, now time.Time) (bool, time.Duration, error) {
	if !l.rate.Enabled() {
		return true, 0, nil
	}
	k := maphash.String(l.seed, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	e, ok := l.buckets[k]
	if !ok {
		if len(l.buckets) >= l.max {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.buckets, old.Value.(*bucket).key)
		}
		e = l.lru.PushFront(&bucket{key: k, tokens: float64(l.rate.N), last: now})
		l.buckets[k] = e
	} else {
		l.lru.MoveToFront(e)
	}
	b := e.Value.(*bucket)
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0, nil
	}
	wait := time.Duration((1 - b.tokens) * float64(l.rate.Per) / float64(l.rate.N))
	return false, max(wait, time.Nanosecond), nil
}

// Refund implements Limiter.
func (l *MemoryLimiter) Refund(_ context.Context, key string, now time.Time) error {
	if !l.rate.Enabled() {
		return nil
	}
	k := maphash.String(l.seed, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.buckets[k]; ok {
		b := e.Value.(*bucket)
		l.refill(b, now)
		b.tokens = math.Min(float64(l.rate.N), b.tokens+1)
	}
	return nil
}

// LoginIPKey is the per-IP limiter's key for a client address: the IPv4
// address, or the /64 network of an IPv6 address (one subscriber's
// allocation, which would otherwise give an attacker 2^64 keys). An
// address that does not parse is its own key; no address gives "".
func LoginIPKey(ip string) string {
	ip = strings.TrimSpace(ip)
	if ip == "" {
		return ""
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:" + ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}

// LoginAccountKey is the per-account limiter's key for an email as typed
// at login: trimmed and lower-cased, as emails are matched.
func LoginAccountKey(email string) string {
	return "account:" + strings.ToLower(strings.TrimSpace(email))
}

// StoreLimiter counts attempts in the store (TokenStore.CountAttempt), so
// every instance sharing the store shares the counts: at most N attempts
// per key in each fixed window of length Per (the windows start at
// multiples of Per since the Unix epoch). Fixed windows let a client spend
// up to 2N attempts around a window boundary; MemoryLimiter's token bucket
// does not, but counts per instance only.
type StoreLimiter struct {
	store  TokenStore
	rate   Rate
	prefix string // keeps the IP and account limits apart in the store
}

// NewStoreLimiter returns a limiter of rate r over st; prefix names the
// limit (e.g. "login-ip").
func NewStoreLimiter(st TokenStore, r Rate, prefix string) *StoreLimiter {
	return &StoreLimiter{store: st, rate: r, prefix: prefix}
}

// storeKey is the counter's name in the store: a hash, so that no email
// address is stored and every key has the same short length.
func (l *StoreLimiter) storeKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return l.prefix + ":" + hex.EncodeToString(sum[:16])
}

func (l *StoreLimiter) window(now time.Time) time.Time {
	return time.Unix(0, now.UnixNano()-now.UnixNano()%int64(l.rate.Per)).UTC()
}

// Allow implements Limiter.
func (l *StoreLimiter) Allow(ctx context.Context, key string, now time.Time) (bool, time.Duration, error) {
	start := l.window(now)
	n, err := l.store.CountAttempt(ctx, l.storeKey(key), start, l.rate.Per, 1)
	if err != nil {
		return false, 0, fmt.Errorf("count attempt: %w", err)
	}
	if n > int64(l.rate.N) {
		return false, start.Add(l.rate.Per).Sub(now), nil
	}
	return true, 0, nil
}

// Refund implements Limiter: it gives back one attempt of the current
// window.
func (l *StoreLimiter) Refund(ctx context.Context, key string, now time.Time) error {
	if _, err := l.store.CountAttempt(ctx, l.storeKey(key), l.window(now), l.rate.Per, -1); err != nil {
		return fmt.Errorf("refund attempt: %w", err)
	}
	return nil
}
