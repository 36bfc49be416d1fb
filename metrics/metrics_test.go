package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/metrics"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
)

const (
	testKey   = "metrics-test-signing-key-0123456789abcdef"
	userEmail = "ann@example.com"
	userPass  = "correct-horse-battery"
)

// fastHasher keeps the tests quick; production parameters are checked by
// the CLI's configuration.
var fastHasher = &password.Hasher{Memory: 64, Time: 1, Threads: 1}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newService returns a service over a memory store with one user.
func newService(t testing.TB, st jwtrevoke.Store, tune func(*jwtrevoke.Settings)) *jwtrevoke.Service {
	t.Helper()
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = testKey
	s.LoginRateScope = jwtrevoke.ScopeInstance
	if tune != nil {
		tune(&s)
	}
	svc, err := jwtrevoke.New(context.Background(), st, s, jwtrevoke.Options{Hasher: fastHasher, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(context.Background(), userEmail, userPass, false); err != nil {
		t.Fatal(err)
	}
	return svc
}

// apiServer serves svc's API through m.Instrument, and m's metrics at
// /metrics, over real HTTP.
func apiServer(t *testing.T, svc *jwtrevoke.Service, m *metrics.Metrics) string {
	t.Helper()
	api := httpapi.New(svc, httpapi.Options{Logger: quiet})
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	mux.Handle("/", api)
	srv := httptest.NewServer(m.Instrument(mux))
	t.Cleanup(srv.Close)
	return srv.URL
}

func post(t *testing.T, url, bearer string, body map[string]string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m
}

// scrape returns the metrics text as a map from series (name and labels,
// as written) to value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
	}
	raw, _ := io.ReadAll(res.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// scrapeOf serves m's metrics over HTTP and scrapes them once.
func scrapeOf(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	return scrape(t, srv.URL)
}

// expect checks the values of some series.
func expect(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

// TestInstrumentOverHTTP drives each counted kind of request through the
// instrumented API and checks the scraped counters.
func TestInstrumentOverHTTP(t *testing.T) {
	m := metrics.New(metrics.Options{})
	svc := newService(t, memory.New(), func(s *jwtrevoke.Settings) { s.LoginRatePerIP = jwtrevoke.Rate{N: 2, Per: time.Hour} })
	m.SetService(svc)
	base := apiServer(t, svc, m)

	st, body := post(t, base+"/api/token/", "", map[string]string{"email": userEmail, "password": userPass})
	if st != 200 {
		t.Fatalf("login: %d %v", st, body)
	}
	refresh, access := body["refresh"].(string), body["access"].(string)
	if st, _ := post(t, base+"/api/token", "", map[string]string{"email": userEmail, "password": "wrong"}); st != 401 {
		t.Fatalf("bad login: %d", st)
	}
	if st, _ := post(t, base+"/api/auth/token/", "", map[string]string{"email": userEmail}); st != 400 {
		t.Fatalf("login without password: %d", st)
	}
	if st, _ := post(t, base+"/api/token/", "", map[string]string{"email": userEmail, "password": userPass}); st != 429 {
		t.Fatalf("3rd counted login within LOGIN_RATE_PER_IP 2/hour: %d, want 429", st)
	}
	if st, _ := post(t, base+"/api/token/refresh/", "", map[string]string{"refresh": refresh}); st != 200 {
		t.Fatalf("refresh: %d", st)
	}
	if st, _ := post(t, base+"/api/token/refresh/", "", map[string]string{"refresh": "x.y.z"}); st != 401 {
		t.Fatalf("bad refresh: %d", st)
	}
	if st, _ := post(t, base+"/api/token/verify/", "", map[string]string{"token": access}); st != 200 {
		t.Fatalf("verify: %d", st)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/me/", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if st, _ := do(t, req); st != 200 {
		t.Fatalf("me: %d", st)
	}
	if st, _ := post(t, base+"/api/logout/", access, map[string]string{"refresh": refresh}); st != 205 {
		t.Fatalf("logout: %d", st)
	}
	if st, _ := post(t, base+"/api/token/verify/", "", map[string]string{"token": access}); st != 400 {
		t.Fatalf("verify after logout: %d", st)
	}
	if st, _ := post(t, base+"/api/token/blacklist/", "", map[string]string{"refresh": refresh}); st != 401 {
		t.Fatalf("blacklist again: %d", st)
	}
	// A GET on the login route is no login attempt.
	req, _ = http.NewRequest(http.MethodGet, base+"/api/token/", nil)
	if st, _ := do(t, req); st != 405 {
		t.Fatalf("GET /api/token/: %d", st)
	}
	// Unknown paths all count as "other", however many there are.
	for i := range 50 {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/nope/%d", base, i), nil)
		if st, _ := do(t, req); st != 404 {
			t.Fatalf("unknown path: %d", st)
		}
	}
	req, _ = http.NewRequest(http.MethodDelete, base+"/api/sessions/abc/", nil)
	if st, _ := do(t, req); st != 401 {
		t.Fatalf("DELETE session without a token: %d", st)
	}

	got := scrape(t, base+"/metrics")
	want := map[string]float64{
		`jwtrevoke_logins_total{result="ok"}`:                                        1,
		`jwtrevoke_logins_total{result="failed"}`:                                    2,
		`jwtrevoke_logins_total{result="throttled"}`:                                 1,
		`jwtrevoke_logins_total{result="error"}`:                                     0,
		`jwtrevoke_refreshes_total{result="ok"}`:                                     1,
		`jwtrevoke_refreshes_total{result="failed"}`:                                 1,
		`jwtrevoke_verifies_total{result="ok"}`:                                      1,
		`jwtrevoke_verifies_total{result="failed"}`:                                  1,
		`jwtrevoke_logouts_total{result="ok"}`:                                       1,
		`jwtrevoke_blacklists_total{result="ok"}`:                                    0,
		`jwtrevoke_blacklists_total{result="failed"}`:                                1,
		`jwtrevoke_rate_limited_total{route="/api/token/"}`:                          1,
		`jwtrevoke_http_requests_total{code="200",route="/api/token/"}`:              1,
		`jwtrevoke_http_requests_total{code="401",route="/api/token/"}`:              1,
		`jwtrevoke_http_requests_total{code="400",route="/api/auth/token/"}`:         1,
		`jwtrevoke_http_requests_total{code="405",route="/api/token/"}`:              1,
		`jwtrevoke_http_requests_total{code="200",route="/api/me/"}`:                 1,
		`jwtrevoke_http_requests_total{code="205",route="/api/logout/"}`:             1,
		`jwtrevoke_http_requests_total{code="404",route="other"}`:                    50,
		`jwtrevoke_http_requests_total{code="401",route="/api/sessions/{id}/"}`:      1,
		`jwtrevoke_http_request_duration_seconds_count{code="200",route="/api/me/"}`: 1,
		`jwtrevoke_revocations`:                                                      float64(svc.RevocationCount()),
	}
	expect(t, got, want)
	if age, ok := got["jwtrevoke_revocation_sync_age_seconds"]; !ok || age < 0 || age > 60 {
		t.Errorf("jwtrevoke_revocation_sync_age_seconds = %v (present %v)", age, ok)
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
	if _, ok := got["process_resident_memory_bytes"]; !ok {
		t.Error("no process metrics")
	}
	routeLabel := regexp.MustCompile(`route="([^"]*)"`)
	for k := range got {
		if mm := routeLabel.FindStringSubmatch(k); mm != nil && metrics.RouteOf(mm[1]) != mm[1] && mm[1] != metrics.OtherRoute {
			t.Errorf("series %s has a route label that is not a known route", k)
		}
	}
}

// TestServiceGaugesAbsentUntilSet: before SetService the revocation gauges
// are not exported (a server still loading has no age to report).
func TestServiceGaugesAbsentUntilSet(t *testing.T) {
	m := metrics.New(metrics.Options{NoRuntime: true})
	got := scrapeOf(t, m)
	for _, k := range []string{"jwtrevoke_revocations", "jwtrevoke_revocation_sync_age_seconds"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s exported before SetService", k)
		}
	}
	now := time.Now()
	m = metrics.New(metrics.Options{NoRuntime: true, Now: func() time.Time { return now }})
	svc := newService(t, memory.New(), nil)
	m.SetService(svc)
	now = svc.LastSync().Add(90 * time.Second)
	if age := scrapeOf(t, m)["jwtrevoke_revocation_sync_age_seconds"]; age != 90 {
		t.Errorf("sync age %v, want 90", age)
	}
}

// TestRoutesCoverTheAPI: every path of the API's OpenAPI document has a
// route label of its own, so a route added to httpapi without one here is
// caught.
func TestRoutesCoverTheAPI(t *testing.T) {
	svc := newService(t, memory.New(), nil)
	rec := httptest.NewRecorder()
	httpapi.New(svc, httpapi.Options{Logger: quiet}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/schema/", nil))
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || len(doc.Paths) == 0 {
		t.Fatalf("schema: %v, %d paths", err, len(doc.Paths))
	}
	for p := range doc.Paths {
		if got := metrics.RouteOf(p); got == metrics.OtherRoute {
			t.Errorf("API path %s has no route label", p)
		}
	}
	for p, want := range map[string]string{
		"/api/me":                   "/api/me/",
		"/api/sessions/0123abcd/":   "/api/sessions/{id}/",
		"/api/sessions/a/b/":        metrics.OtherRoute,
		"/api/token/refresh/extra/": metrics.OtherRoute,
		"/.well-known/jwks.json/":   "/.well-known/jwks.json",
		"/":                         metrics.OtherRoute,
	} {
		if got := metrics.RouteOf(p); got != want {
			t.Errorf("RouteOf(%q) = %q, want %q", p, got, want)
		}
	}
}

// TestInstrumentAllocatesNothing: once a (route, status) pair has been
// seen, counting another request of it allocates nothing.
func TestInstrumentAllocatesNothing(t *testing.T) {
	m := metrics.New(metrics.Options{NoRuntime: true})
	body := []byte(`{}`)
	h := m.Instrument(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	req := httptest.NewRequest(http.MethodGet, "/api/me/", nil)
	w := discardWriter{http.Header{}}
	h.ServeHTTP(w, req)
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, req) }); n != 0 {
		t.Fatalf("%v allocations per request", n)
	}
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// failing is a store whose user lookups fail as an unreachable database
// would.
type failing struct{ jwtrevoke.Store }

func (f failing) UserByID(context.Context, int64) (*jwtrevoke.User, error) {
	return nil, fmt.Errorf("%w: connection refused", jwtrevoke.ErrUnavailable)
}

// TestStoreDecorator: the decorator times each operation, counts failures
// but not answers such as not found, passes results through and unwraps
// to the store it instruments.
func TestStoreDecorator(t *testing.T) {
	m := metrics.New(metrics.Options{NoRuntime: true})
	inner := memory.New()
	st := m.Store(inner)
	if u, ok := st.(interface{ Unwrap() jwtrevoke.Store }); !ok || u.Unwrap() != inner {
		t.Fatal("the decorator does not unwrap to its store")
	}
	svc := newService(t, st, nil)
	ctx := context.Background()
	if _, err := svc.Obtain(ctx, userEmail, userPass, jwtrevoke.ClientInfo{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, jwtrevoke.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	bad := m.Store(failing{inner})
	if _, err := bad.UserByID(ctx, 1); !errors.Is(err, jwtrevoke.ErrUnavailable) {
		t.Fatalf("failing store: %v", err)
	}
	got := scrapeOf(t, m)
	expect(t, got, map[string]float64{
		`jwtrevoke_store_operation_duration_seconds_count{operation="create_user"}`:   1,
		`jwtrevoke_store_operation_duration_seconds_count{operation="user_by_email"}`: 2,
		`jwtrevoke_store_operation_duration_seconds_count{operation="issue_session"}`: 1,
		`jwtrevoke_store_operation_duration_seconds_count{operation="user_by_id"}`:    1,
		`jwtrevoke_store_errors_total{operation="user_by_email"}`:                     0,
		`jwtrevoke_store_errors_total{operation="user_by_id"}`:                        1,
	})
	if got[`jwtrevoke_store_operation_duration_seconds_count{operation="revocations"}`] < 1 {
		t.Error("the initial revocation load was not timed")
	}
}

// TestObserveFlush counts scheduled flushes and what they deleted.
func TestObserveFlush(t *testing.T) {
	m := metrics.New(metrics.Options{NoRuntime: true})
	m.ObserveFlush(jwtrevoke.FlushResult{Outstanding: 3, Sessions: 2}, time.Second, nil)
	m.ObserveFlush(jwtrevoke.FlushResult{Outstanding: 1}, time.Second, errors.New("boom"))
	got := scrapeOf(t, m)
	expect(t, got, map[string]float64{
		`jwtrevoke_flush_runs_total{result="ok"}`:           1,
		`jwtrevoke_flush_runs_total{result="error"}`:        1,
		`jwtrevoke_flush_deleted_total{kind="outstanding"}`: 4,
		`jwtrevoke_flush_deleted_total{kind="sessions"}`:    2,
		`jwtrevoke_flush_duration_seconds_count`:            2,
	})
}

// notifying is a store with a push channel.
type notifying struct{ jwtrevoke.Store }

func (notifying) Notify(ctx context.Context, _ func()) error { <-ctx.Done(); return nil }

// TestStoreDecoratorKeepsOptionalInterfaces: the service still finds a
// wrapped store's push channel (through Unwrap), and the decorator pages
// revocations and reads the blacklist feed when the store does, timing
// them.
func TestStoreDecoratorKeepsOptionalInterfaces(t *testing.T) {
	m := metrics.New(metrics.Options{NoRuntime: true})
	if _, ok := jwtrevoke.NotifierOf(m.Store(notifying{memory.New()})); !ok {
		t.Error("the push channel of a wrapped store is not found")
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wrapped := m.Store(st)
	if _, ok := wrapped.(jwtrevoke.RevocationPager); !ok {
		t.Error("the decorator of a paging store does not page")
	}
	if _, ok := jwtrevoke.FeedOf(wrapped); !ok {
		t.Error("the decorator of a store with a blacklist feed has none")
	}
	if _, ok := m.Store(memory.New()).(jwtrevoke.RevocationPager); ok {
		t.Error("the decorator of a store that does not page claims to")
	}
	newService(t, wrapped, nil)
	got := scrapeOf(t, m)
	for _, op := range []string{"revocations_page", "blacklisted_after"} {
		if got[`jwtrevoke_store_operation_duration_seconds_count{operation="`+op+`"}`] < 1 {
			t.Errorf("%s was not timed", op)
		}
	}
}

// blacklistNewSession logs in with svc and blacklists the refresh token.
func blacklistNewSession(t *testing.T, svc *jwtrevoke.Service) {
	t.Helper()
	pair, err := svc.Obtain(context.Background(), userEmail, userPass, jwtrevoke.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Blacklist(context.Background(), pair.Refresh); err != nil {
		t.Fatal(err)
	}
}

// TestObserver: revocations recorded here count by reason; those another
// instance recorded count in the propagation histogram once this one
// loads them, but not those of its initial load.
func TestObserver(t *testing.T) {
	st := memory.New()
	a := newService(t, st, nil)
	ctx := context.Background()
	blacklistNewSession(t, a) // before b starts: loaded by its initial load
	m := metrics.New(metrics.Options{NoRuntime: true})
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = testKey
	b, err := jwtrevoke.New(ctx, st, s, jwtrevoke.Options{Hasher: fastHasher, Logger: quiet, Observer: m.Observer()})
	if err != nil {
		t.Fatal(err)
	}
	m.SetService(b)
	blacklistNewSession(t, a) // propagated to b
	if _, err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	blacklistNewSession(t, b) // recorded by b
	got := scrapeOf(t, m)
	expect(t, got, map[string]float64{
		`jwtrevoke_revocation_propagation_seconds_count`:           1,
		`jwtrevoke_revocations_recorded_total{reason="blacklist"}`: 1,
		`jwtrevoke_revocations_recorded_total{reason="other"}`:     0,
	})
}
