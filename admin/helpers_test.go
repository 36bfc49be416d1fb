package admin_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/admin"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
)

const (
	testKey   = "admin-test-signing-key-0123456789abcdef"
	staffMail = "staff@example.com"
	staffPass = "staff-password-1"
	userMail  = "user@example.com"
	userPass  = "user-password-1"
)

// cheapHasher keeps the tests fast.
var cheapHasher = &password.Hasher{Memory: 64, Time: 1, Threads: 1}

// clock is a time source the tests move: Unix nanoseconds.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// stores are the stores every store-dependent test runs on.
var stores = []struct {
	name string
	open func(t *testing.T) jwtrevoke.Store
}{
	{"memory", func(t *testing.T) jwtrevoke.Store { return memory.New() }},
	{"sqlite", func(t *testing.T) jwtrevoke.Store {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "admin.db"))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// eachStore runs f on every store.
func eachStore(t *testing.T, f func(t *testing.T, open func(t *testing.T) jwtrevoke.Store)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { f(t, s.open) })
	}
}

// testSettings turn the login rate limits off (the tests sign in often
// from one address) unless a test sets them.
func testSettings() jwtrevoke.Settings {
	st := jwtrevoke.DefaultSettings()
	st.SigningKey = testKey
	st.LoginRatePerIP = jwtrevoke.Rate{}
	st.LoginRatePerAccount = jwtrevoke.Rate{}
	st.UserCacheTTL = 0
	return st
}

// env is a server with the API and the admin pages over one store.
type env struct {
	t     *testing.T
	store jwtrevoke.Store
	svc   *jwtrevoke.Service
	clock *clock
	srv   *httptest.Server
	staff *jwtrevoke.User
	user  *jwtrevoke.User
}

type envConfig struct {
	settings jwtrevoke.Settings
	opts     admin.Options
	store    jwtrevoke.Store // nil: a new memory store
	clock    *clock          // nil: a new one, stopped at the real time
	realTime bool            // the service runs on time.Now instead
}

func newEnv(t *testing.T, cfg envConfig) *env {
	t.Helper()
	if cfg.settings.Algorithm == "" {
		cfg.settings = testSettings()
	}
	if cfg.store == nil {
		cfg.store = memory.New()
	}
	if cfg.clock == nil {
		cfg.clock = newClock(time.Now().Truncate(time.Second))
	}
	quiet := slog.New(slog.DiscardHandler)
	now := cfg.clock.Now
	if cfg.realTime {
		now = time.Now
	}
	svc, err := jwtrevoke.New(t.Context(), cfg.store, cfg.settings, jwtrevoke.Options{Hasher: cheapHasher, Now: now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.opts.Logger == nil {
		cfg.opts.Logger = quiet
	}
	e := &env{t: t, store: cfg.store, svc: svc, clock: cfg.clock}
	e.srv = httptest.NewServer(httpapi.New(svc, httpapi.Options{Logger: quiet, NotFound: admin.New(svc, cfg.opts)}))
	t.Cleanup(e.srv.Close)
	e.staff = e.createUser(staffMail, staffPass, true)
	e.user = e.createUser(userMail, userPass, false)
	return e
}

func (e *env) createUser(email, pw string, staff bool) *jwtrevoke.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), email, pw, staff)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// login logs email in through the service and returns the pair and the
// refresh token's jti.
func (e *env) login(email, pw, ua string) (jwtrevoke.TokenPair, string) {
	e.t.Helper()
	pair, err := e.svc.Obtain(context.Background(), email, pw, jwtrevoke.ClientInfo{IP: "192.0.2.7", UserAgent: ua})
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.svc.ParseRefresh(pair.Refresh)
	if err != nil {
		e.t.Fatal(err)
	}
	return pair, c.JTI
}

// browser is a client with cookies that does not follow redirects.
type browser struct {
	t   *testing.T
	e   *env
	c   *http.Client
	hdr http.Header // added to every request
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{t: e.t, e: e, hdr: http.Header{}, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is an answer, its body read.
type page struct {
	*http.Response
	body string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range b.hdr {
		req.Header[k] = vs
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{resp, string(raw)}
}

func (b *browser) get(path string) page { return b.do(http.MethodGet, path, nil) }

func (b *browser) post(path string, form url.Values) page { return b.do(http.MethodPost, path, form) }

// follow gets the page p redirects to.
func (b *browser) follow(p page) page {
	b.t.Helper()
	if p.StatusCode != http.StatusSeeOther && p.StatusCode != http.StatusFound && p.StatusCode != http.StatusMovedPermanently {
		b.t.Fatalf("%s %s: status %d, want a redirect; body:\n%s", p.Request.Method, p.Request.URL.Path, p.StatusCode, p.body)
	}
	return b.get(p.Header.Get("Location"))
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the first form on p.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on %s:\n%s", p.Request.URL.Path, p.body)
	}
	return html.UnescapeString(m[1])
}

// signIn signs email in and returns the dashboard's CSRF token.
func (b *browser) signIn(email, pw string) string {
	b.t.Helper()
	p := b.trySignIn(email, pw)
	if p.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign in %s: status %d:\n%s", email, p.StatusCode, p.body)
	}
	dash := b.follow(p)
	if dash.StatusCode != http.StatusOK {
		b.t.Fatalf("dashboard after sign-in: status %d:\n%s", dash.StatusCode, dash.body)
	}
	return dash.csrf(b.t)
}

// trySignIn posts the sign-in form (with its CSRF token) and returns
// the answer.
func (b *browser) trySignIn(email, pw string) page {
	b.t.Helper()
	form := b.get("/admin/login/")
	if form.StatusCode != http.StatusOK {
		b.t.Fatalf("sign-in form: status %d", form.StatusCode)
	}
	return b.post("/admin/login/", url.Values{"csrf": {form.csrf(b.t)}, "email": {email}, "password": {pw}})
}

// cookie returns the browser's cookie name for the admin pages.
func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.e.srv.URL + "/admin/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// setCookie gives the browser a cookie for the admin pages.
func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.e.srv.URL + "/admin/")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/admin/"}})
}

// wantRedirectToLogin checks that p sends the browser to sign in.
func wantRedirectToLogin(t *testing.T, p page) {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/admin/login/") {
		t.Fatalf("%s: status %d, Location %q; want a redirect to the sign-in page", p.Request.URL, p.StatusCode, p.Header.Get("Location"))
	}
}

// setCookieHeader returns the Set-Cookie line of p for name.
func setCookieHeader(p page, name string) string {
	for _, v := range p.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return v
		}
	}
	return ""
}

func itoa[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

func httpRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, target, nil)
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// serveWithCookie gets path from h with the session cookie value.
func serveWithCookie(h http.Handler, path, value string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.AddCookie(&http.Cookie{Name: "jwtrevoke_admin", Value: value})
	return serve(h, r)
}
