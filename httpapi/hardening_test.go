package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// loginAt posts {"email","password"} to path with extra headers.
func (e *env) loginAt(path, email, pw string, headers ...string) resp {
	e.t.Helper()
	b, err := json.Marshal(map[string]string{"email": email, "password": pw})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.request(http.MethodPost, path, bytes.NewReader(b), append([]string{"Content-Type", "application/json"}, headers...)...)
}

// throttledBody is DRF's Throttled detail for a wait of n seconds.
func throttledBody(n int) string {
	unit := "seconds"
	if n == 1 {
		unit = "second"
	}
	return fmt.Sprintf(`{"detail":"Request was throttled. Expected available in %d %s."}`, n, unit)
}

// wantThrottled checks a 429 with Retry-After and DRF's body for n seconds.
func wantThrottled(t *testing.T, r resp, n int) {
	t.Helper()
	want(t, r, http.StatusTooManyRequests, throttledBody(n))
	if got := r.Header.Get("Retry-After"); got != strconv.Itoa(n) {
		t.Errorf("Retry-After: got %q, want %d", got, n)
	}
}

func wantLoginOK(t *testing.T, r resp) {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	decodePair(t, r)
}

func wantLoginRefused(t *testing.T, r resp) {
	t.Helper()
	want(t, r, http.StatusUnauthorized, bodyNoActiveAccount)
}

func perMinute(n int) jwtrevoke.Rate { return jwtrevoke.Rate{N: n, Per: time.Minute} }

// TestLoginRateLimitPerAccount: the default LOGIN_RATE_PER_ACCOUNT,
// 5/minute: five failed logins to one email (in any case, on either
// route), then 429 with Retry-After until a token comes back (one every
// 12 s), even with the right password; other accounts are not affected.
func TestLoginRateLimitPerAccount(t *testing.T) {
	clk := newClock(time.Now())
	e := newEnv(t, withClock(clk), withLoginLimits(jwtrevoke.Rate{}, jwtrevoke.Rate{}))
	for i, email := range []string{userEmail, "TEST@email.com", userEmail, "Test@Email.com", userEmail} {
		path := []string{"/api/token/", "/api/auth/token/"}[i%2]
		wantLoginRefused(t, e.loginAt(path, email, "wrong"))
	}
	wantThrottled(t, e.loginAt("/api/token/", "TEST@EMAIL.COM", userPass), 12)
	wantThrottled(t, e.loginAt("/api/auth/token/", userEmail, userPass), 12)
	// Another account from the same address is not limited.
	wantLoginRefused(t, e.loginAt("/api/token/", secondEmail, "wrong"))
	wantLoginOK(t, e.loginAt("/api/token/", secondEmail, secondPass))

	clk.Add(11 * time.Second)
	wantThrottled(t, e.loginAt("/api/token/", userEmail, userPass), 1) // "1 second", singular as in DRF
	clk.Add(time.Second)
	wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass))
	// The success gave its attempt back: one failure is still allowed.
	wantLoginRefused(t, e.loginAt("/api/token/", userEmail, "wrong"))
	wantThrottled(t, e.loginAt("/api/token/", userEmail, "wrong"), 12)
	clk.Add(time.Minute)
	for range 5 {
		wantLoginRefused(t, e.loginAt("/api/token/", userEmail, "wrong"))
	}
	wantThrottled(t, e.loginAt("/api/token/", userEmail, "wrong"), 12)
}

// TestLoginSuccessDoesNotCountAgainstAccount: only failures count per
// account; successful logins in between neither count nor reset.
func TestLoginSuccessDoesNotCountAgainstAccount(t *testing.T) {
	clk := newClock(time.Now())
	e := newEnv(t, withClock(clk), withLoginLimits(perMinute(100), perMinute(5)))
	for range 4 {
		wantLoginRefused(t, e.loginAt("/api/token/", userEmail, "wrong"))
	}
	for range 10 {
		wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass))
	}
	wantLoginRefused(t, e.loginAt("/api/token/", userEmail, "wrong")) // the 5th failure
	wantThrottled(t, e.loginAt("/api/token/", userEmail, "wrong"), 12)
	wantThrottled(t, e.loginAt("/api/token/", userEmail, userPass), 12)
}

// TestLoginRateLimitPerIP: the default LOGIN_RATE_PER_IP, 20/minute,
// counts every attempt from one address (successes, failures, unknown
// emails), then answers 429 for any account until a token comes back
// (one every 3 s).
func TestLoginRateLimitPerIP(t *testing.T) {
	clk := newClock(time.Now())
	e := newEnv(t, withClock(clk), withLoginLimits(jwtrevoke.Rate{}, jwtrevoke.Rate{}))
	for i := range 20 {
		switch {
		case i < 10:
			wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass))
		case i < 14:
			wantLoginRefused(t, e.loginAt("/api/auth/token/", userEmail, "wrong"))
		default:
			wantLoginRefused(t, e.loginAt("/api/token/", fmt.Sprintf("nobody%d@email.com", i), "wrong"))
		}
	}
	wantThrottled(t, e.loginAt("/api/token/", secondEmail, secondPass), 3)
	wantThrottled(t, e.loginAt("/api/auth/token/", "nobody@email.com", "x"), 3)
	clk.Add(3 * time.Second)
	wantLoginOK(t, e.loginAt("/api/token/", secondEmail, secondPass))
	wantThrottled(t, e.loginAt("/api/token/", secondEmail, secondPass), 3)
	// Requests that never reach a login (400) do not count and are not
	// throttled: they cost nothing.
	want(t, e.post("/api/token/", "", map[string]string{"email": userEmail}), http.StatusBadRequest, `{"password":["This field is required."]}`)
}

// TestLoginRateLimitsIndependent: behind a trusted proxy, clients at
// different addresses have their own per-IP limits; a client throttled
// per IP does not use up the accounts it tries; an account throttled by
// failures from one address is throttled from every address.
func TestLoginRateLimitsIndependent(t *testing.T) {
	clk := newClock(time.Now())
	e := newEnv(t, withClock(clk), withLoginLimits(jwtrevoke.Rate{}, jwtrevoke.Rate{}), withSettings(func(s *jwtrevoke.Settings) {
		s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}))
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	a, b, c := from("198.51.100.1"), from("198.51.100.2"), from("2001:db8:7:7::1")

	for range 20 {
		wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass, a...))
	}
	for range 3 {
		wantLoginRefused(t, e.loginAt("/api/token/", "nobody@email.com", "wrong", b...))
	}
	wantThrottled(t, e.loginAt("/api/token/", userEmail, userPass, a...), 3)
	for range 10 {
		wantThrottled(t, e.loginAt("/api/token/", secondEmail, "wrong", a...), 3) // not counted against second@
	}
	for range 5 {
		wantLoginRefused(t, e.loginAt("/api/token/", secondEmail, "wrong", b...))
	}
	wantThrottled(t, e.loginAt("/api/token/", secondEmail, secondPass, b...), 12) // per account
	wantThrottled(t, e.loginAt("/api/token/", secondEmail, secondPass, c...), 12) // from anywhere
	wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass, b...))           // b's address is fine
	wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass, c...))
	// IPv6 clients are limited per /64: another address of c's network
	// shares its limit.
	for range 18 {
		wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass, from("2001:db8:7:7::2")...))
	}
	wantThrottled(t, e.loginAt("/api/token/", userEmail, userPass, from("2001:db8:7:7:ffff::3")...), 3)
	wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass, from("2001:db8:7:8::1")...))
}

// sessionIPs returns the addresses recorded with user's sessions.
func (e *env) sessionIPs(email string) []string {
	e.t.Helper()
	ss, err := e.mem.Sessions(context.Background(), e.users[email].ID, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	var ips []string
	for _, s := range ss {
		ips = append(ips, s.IP)
	}
	return ips
}

// TestLoginXForwardedFor: X-Forwarded-For is ignored from peers that are
// not TRUSTED_PROXIES, so a client cannot dodge the per-IP limit (or fake
// its recorded address) by sending one; from trusted proxies the client
// is the rightmost untrusted address, so what a client prepends is ignored.
func TestLoginXForwardedFor(t *testing.T) {
	t.Run("UntrustedPeer", func(t *testing.T) {
		e := newEnv(t, withClock(newClock(time.Now())), withLoginLimits(perMinute(3), perMinute(100)))
		for i := range 3 {
			wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)))
		}
		wantThrottled(t, e.loginAt("/api/token/", userEmail, userPass, "X-Forwarded-For", "203.0.113.99"), 20)
		wantThrottled(t, e.loginAt("/api/token/", userEmail, userPass), 20)
		for _, ip := range e.sessionIPs(userEmail) {
			if ip != "127.0.0.1" {
				t.Errorf("session recorded from %q, want the peer 127.0.0.1", ip)
			}
		}
	})
	t.Run("TrustedProxy", func(t *testing.T) {
		e := newEnv(t, withClock(newClock(time.Now())), withLoginLimits(perMinute(3), perMinute(100)), withSettings(func(s *jwtrevoke.Settings) {
			s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
		}))
		xff := func(v string) []string { return []string{"X-Forwarded-For", v} }
		wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass, xff("203.0.113.9")...))
		wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass, xff("192.0.2.1, 203.0.113.9")...))          // prepended: ignored
		wantLoginOK(t, e.loginAt("/api/token/", userEmail, userPass, xff("203.0.113.9, 10.1.2.3")...))           // a second trusted hop
		wantThrottled(t, e.loginAt("/api/token/", userEmail, userPass, xff("198.51.100.7, 203.0.113.9")...), 20) // still 203.0.113.9
		wantLoginOK(t, e.loginAt("/api/token/", secondEmail, secondPass, xff("203.0.113.10")...))
		wantLoginOK(t, e.loginAt("/api/token/", secondEmail, secondPass)) // no header: the proxy itself
		ips := e.sessionIPs(secondEmail)
		if len(ips) != 2 || !(ips[0] == "203.0.113.10" || ips[1] == "203.0.113.10") {
			t.Errorf("sessions recorded from %q, want 203.0.113.10 and 127.0.0.1", ips)
		}
	})
}

// countingHasher counts password checks.
type countingHasher struct {
	jwtrevoke.PasswordHasher
	checks atomic.Int32
}

func (h *countingHasher) Check(password, encoded string) (bool, bool, error) {
	h.checks.Add(1)
	return h.PasswordHasher.Check(password, encoded)
}

// TestLoginNoUserEnumeration: an unknown email, a wrong password and an
// inactive account get the same answer (status, headers, body), each
// after one password check, and are throttled alike.
func TestLoginNoUserEnumeration(t *testing.T) {
	var h *countingHasher
	e := newEnv(t, withLoginLimits(perMinute(100), jwtrevoke.Rate{}), withServiceOptions(func(o *jwtrevoke.Options) {
		h = &countingHasher{PasswordHasher: o.Hasher}
		o.Hasher = h
	}))
	e.createUser("inactive@email.com", "inactive-pass")
	e.setActive("inactive@email.com", false)
	answer := func(email, pw string) resp {
		t.Helper()
		before := h.checks.Load()
		r := e.loginAt("/api/token/", email, pw)
		if n := h.checks.Load() - before; n != 1 {
			t.Errorf("login %s: %d password checks, want 1", email, n)
		}
		r.Header.Del("Date")
		return r
	}
	wrong := answer(userEmail, "wrong")
	wantLoginRefused(t, wrong)
	for _, c := range []struct{ email, pw string }{
		{"nobody@email.com", "wrong"},
		{"NOBODY@example.org", userPass},
		{"inactive@email.com", "inactive-pass"},
		{"inactive@email.com", "wrong"},
	} {
		r := answer(c.email, c.pw)
		if r.Status != wrong.Status || !bytes.Equal(r.Body, wrong.Body) || fmt.Sprint(r.Header) != fmt.Sprint(wrong.Header) {
			t.Errorf("login %s/%s: answer %s %v\ndiffers from a wrong password's %s %v", c.email, c.pw, r, r.Header, wrong, wrong.Header)
		}
	}
	// Throttling tells nothing either: it counts unknown emails as known ones.
	for _, email := range []string{secondEmail, "unknown@email.com"} {
		for range 5 {
			wantLoginRefused(t, e.loginAt("/api/token/", email, "wrong"))
		}
		before := h.checks.Load()
		wantThrottled(t, e.loginAt("/api/token/", email, "wrong"), 12)
		if h.checks.Load() != before {
			t.Errorf("throttled login of %s checked a password", email)
		}
	}
}

// failingLimiter cannot answer, as a store-backed limiter whose store is down.
type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string, time.Time) (bool, time.Duration, error) {
	return false, 0, fmt.Errorf("limiter: %w", jwtrevoke.ErrUnavailable)
}

func (failingLimiter) Refund(context.Context, string, time.Time) error {
	return jwtrevoke.ErrUnavailable
}

// TestLoginLimiterUnavailable: a limiter that cannot answer refuses the
// login with 503, never lets it through unchecked.
func TestLoginLimiterUnavailable(t *testing.T) {
	e := newEnv(t, withLoginLimits(jwtrevoke.Rate{}, jwtrevoke.Rate{}), withServiceOptions(func(o *jwtrevoke.Options) {
		o.IPLimiter = failingLimiter{}
	}))
	r := e.loginAt("/api/token/", userEmail, userPass)
	want(t, r, http.StatusServiceUnavailable, `{"detail":"Service temporarily unavailable, try again later.","code":"service_unavailable"}`)
}

// failingStore fails the user lookup of one email, for a 503.
type failingStore struct{ jwtrevoke.Store }

func (s failingStore) UserByEmail(ctx context.Context, email string) (*jwtrevoke.User, error) {
	if email == "down@email.com" {
		return nil, fmt.Errorf("%w: test", jwtrevoke.ErrUnavailable)
	}
	return s.Store.UserByEmail(ctx, email)
}

var wantSecurityHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"Cache-Control":           "no-store",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

func checkSecurityHeaders(t *testing.T, name string, h http.Header, tls bool) {
	t.Helper()
	for k, v := range wantSecurityHeaders {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s: got %q, want %q", name, k, got, v)
		}
	}
	hsts := h.Get("Strict-Transport-Security")
	if tls && hsts != "max-age=31536000" {
		t.Errorf("%s over TLS: Strict-Transport-Security %q, want max-age=31536000", name, hsts)
	}
	if !tls && hsts != "" {
		t.Errorf("%s over plain HTTP: Strict-Transport-Security %q, want none", name, hsts)
	}
}

// TestSecurityHeaders: every answer of the API, errors included, carries
// the security headers; HSTS only over TLS.
func TestSecurityHeaders(t *testing.T) {
	clk := newClock(time.Now())
	e := newEnv(t, withClock(clk), withLoginLimits(perMinute(1000), perMinute(1)), withStore(func(m *memory.Store) jwtrevoke.Store { return failingStore{m} }))
	tlsSrv := httptest.NewTLSServer(e.h)
	t.Cleanup(tlsSrv.Close)
	for _, srv := range []*httptest.Server{e.srv, tlsSrv} {
		tls := srv == tlsSrv
		name := map[bool]string{false: "HTTP", true: "TLS"}[tls]
		t.Run(name, func(t *testing.T) {
			ee := e.with(t)
			ee.srv = srv
			clk.Add(time.Minute) // the limits refill between runs
			p := ee.MustLogin(userEmail, userPass)
			q := ee.MustLogin(userEmail, userPass)
			big := `{"refresh":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`
			cases := []struct {
				name   string
				r      resp
				status int
			}{
				{"Obtain", ee.loginAt("/api/token/", userEmail, userPass), 200},
				{"ObtainWrongPassword", ee.loginAt("/api/token/", secondEmail, "wrong"), 401},
				{"ObtainThrottled", ee.loginAt("/api/auth/token/", secondEmail, "wrong"), 429},
				{"ObtainStoreDown", ee.loginAt("/api/token/", "down@email.com", "x"), 503},
				{"ObtainMissingField", ee.post("/api/token/", "", `{}`), 400},
				{"ObtainBadJSON", ee.post("/api/token/", "", `{`), 400},
				{"ObtainUnsupportedMedia", ee.do(http.MethodPost, "/api/token/", "", "text/plain", "x"), 415},
				{"ObtainTooLarge", ee.post("/api/token/", "", big), 413},
				{"GetOnObtain", ee.do(http.MethodGet, "/api/token/", "", "", ""), 405},
				{"OptionsObtain", ee.do(http.MethodOptions, "/api/token/", "", "", ""), 200},
				{"NotFound", ee.do(http.MethodGet, "/nothing", "", "", ""), 404},
				{"Refresh", ee.refresh(p.Refresh), 200},
				{"RefreshBadToken", ee.refresh("x.y.z"), 401},
				{"Verify", ee.verify(p.Access), 200},
				{"Me", ee.me(p.Access), 200},
				{"HeadMe", ee.do(http.MethodHead, "/api/me/", p.Access, "", ""), 200},
				{"MeNoCredentials", ee.me(""), 401},
				{"MeBadToken", ee.me("x.y.z"), 401},
				{"Logout", ee.logout(p.Access, p.Refresh), 205},
				{"LogoutTooLarge", ee.post("/api/logout/", q.Access, big), 413},
				{"Blacklist", ee.blacklist(p.Refresh), 401},
				{"LogoutAll", ee.logoutAll(q.Access), 205},
			}
			for _, c := range cases {
				if c.r.Status != c.status {
					t.Errorf("%s: status %d, want %d (%s)", c.name, c.r.Status, c.status, c.r.Body)
				}
				checkSecurityHeaders(t, c.name, c.r.Header, tls)
				// Pragma: no-cache beside no-store on the endpoints that
				// answer with tokens (RFC 6749 section 5.1), errors
				// included; nowhere else.
				tokens := strings.HasPrefix(c.name, "Obtain") || strings.HasSuffix(c.name, "Obtain") || strings.HasPrefix(c.name, "Refresh")
				if got, want := c.r.Header.Get("Pragma"), map[bool]string{true: "no-cache"}[tokens]; got != want {
					t.Errorf("%s: Pragma %q, want %q", c.name, got, want)
				}
			}
			// The JWKS is public and meant to be cached: its own
			// Cache-Control, no Pragma; the other headers as everywhere.
			r := ee.do(http.MethodGet, "/.well-known/jwks.json", "", "", "")
			if r.Status != 200 || r.Header.Get("Cache-Control") != "public, max-age=300" || r.Header.Get("Pragma") != "" {
				t.Errorf("JWKS: %d, Cache-Control %q, Pragma %q", r.Status, r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
			}
			for _, k := range []string{"X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Content-Security-Policy"} {
				if r.Header.Get(k) != wantSecurityHeaders[k] {
					t.Errorf("JWKS: %s %q", k, r.Header.Get(k))
				}
			}
		})
	}
	// Protect on a route of one's own: its 401s carry the headers too.
	t.Run("Protect", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.Handle("/orders/", e.h.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
		for _, tls := range []bool{false, true} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/orders/", nil)
			if tls {
				req = httptest.NewRequest(http.MethodGet, "https://example.com/orders/", nil)
			}
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d", rec.Code)
			}
			checkSecurityHeaders(t, "Protect", rec.Header(), tls)
		}
	})
	// Options.NotFound answers with its own headers (an HTML page would
	// break under the API's Content-Security-Policy).
	t.Run("NotFoundHandler", func(t *testing.T) {
		h := httpapi.New(e.svc, httpapi.Options{NotFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "<html>admin</html>")
		})})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/", nil))
		if got := rec.Header().Get("Content-Security-Policy"); got != "" {
			t.Errorf("NotFound handler's answer got Content-Security-Policy %q", got)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/me/", nil))
		checkSecurityHeaders(t, "API beside a NotFound handler", rec.Header(), false)
	})
}

// TestBodyCapOnEveryRoute: every route that reads a body answers 413 to
// one over MaxBodyBytes, and one that does not read it is not disturbed.
func TestBodyCapOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	big := `{"refresh":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`
	for _, c := range []struct{ path, bearer string }{
		{"/api/token/", ""}, {"/api/auth/token/", ""}, {"/api/token/refresh/", ""},
		{"/api/token/verify/", ""}, {"/api/token/blacklist/", ""}, {"/api/logout/", p.Access},
	} {
		r := e.post(c.path, c.bearer, big)
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with %d bytes: %s, want 413", c.path, len(big), r)
		}
	}
	// Form and multipart bodies go through the same cap.
	form := "refresh=" + strings.Repeat("a", httpapi.MaxBodyBytes)
	if r := e.do(http.MethodPost, "/api/token/refresh/", "", "application/x-www-form-urlencoded", form); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("form body: %s, want 413", r)
	}
	if r := e.postMultipart("/api/token/verify/", "", map[string]string{"token": strings.Repeat("a", httpapi.MaxBodyBytes)}); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("multipart body: %s, want 413", r)
	}
	e.wantMe(p.Access, userEmail)
}
