package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jwtrevoke/jwtrevoke/internal/reqlog"
)

// kind is what a route's requests count as besides HTTP requests.
type kind int

const (
	plain kind = iota
	login
	refresh
	verify
	blacklist
	logout
)

// route is one label value of the route label: a path of the API as its
// documentation writes it.
type route struct {
	path   string
	kind   kind
	method string // the method whose answers count for kind
}

// OtherRoute is the route label of every path the API does not know.
const OtherRoute = "other"

// routes are the paths httpapi.New serves, and serve's own; index 0 is
// OtherRoute. The sessions item is matched by its prefix.
var routes = []route{
	{path: OtherRoute},
	{"/api/token/", login, http.MethodPost},
	{"/api/auth/token/", login, http.MethodPost},
	{"/api/token/refresh/", refresh, http.MethodPost},
	{"/api/token/sliding/", login, http.MethodPost},
	{"/api/token/sliding/refresh/", refresh, http.MethodPost},
	{"/api/token/verify/", verify, http.MethodPost},
	{"/api/token/blacklist/", blacklist, http.MethodPost},
	{"/api/logout/", logout, http.MethodPost},
	{"/api/logout/all/", logout, http.MethodPost},
	{"/api/me/", plain, ""},
	{"/api/password/change/", plain, ""},
	{"/api/sessions/", plain, ""},
	{"/api/sessions/{id}/", plain, ""},
	{"/api/audit/", plain, ""},
	{"/.well-known/jwks.json", plain, ""},
	{"/api/schema/", plain, ""},
	{"/api/docs/", plain, ""},
	{"/api/docs/docs.js", plain, ""},
	{"/api/docs/docs.css", plain, ""},
	{"/metrics", plain, ""},
	{"/healthz", plain, ""},
	{"/readyz", plain, ""},
}

const sessionItemPrefix = "/api/sessions/"

var (
	routeIndex   = map[string]int{}
	sessionsItem int
)

func init() {
	for i, rt := range routes[1:] {
		routeIndex[strings.TrimSuffix(rt.path, "/")] = i + 1
		if rt.path == sessionItemPrefix+"{id}/" {
			sessionsItem = i + 1
		}
	}
}

// RouteOf returns the route label of a request path: the API's route it
// names (with or without its trailing slash, as the API answers), or
// OtherRoute.
func RouteOf(path string) string { return routes[routeOf(path)].path }

func routeOf(path string) int {
	p := strings.TrimSuffix(path, "/")
	if i, ok := routeIndex[p]; ok {
		return i
	}
	if id, ok := strings.CutPrefix(p, sessionItemPrefix); ok && id != "" && !strings.Contains(id, "/") {
		return sessionsItem
	}
	return 0
}

// statuses are the codes whose series are resolved once and kept; any
// other code is looked up on each request (they are rare).
var statuses = []int{200, 201, 204, 205, 301, 302, 304, 400, 401, 403, 404, 405, 406, 413, 415, 429, 500, 502, 503, 504}

// statusSlot maps a code to its index in statuses plus one; 0 for others.
var statusSlot [600]uint8

func init() {
	for i, c := range statuses {
		statusSlot[c] = uint8(i + 1)
	}
}

// series are the metrics one (route, status) answer updates, resolved
// once.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
	// domain counts the answer as a login, refresh, ... when the request
	// had the route's method.
	domain []prometheus.Counter
}

type httpMetrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	logins      *prometheus.CounterVec
	refreshes   *prometheus.CounterVec
	verifies    *prometheus.CounterVec
	blacklists  *prometheus.CounterVec
	logouts     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec

	// table[route][slot] is made on the first answer of that pair.
	table [][]atomic.Pointer[series]
}

// durationBuckets span a cached authenticated request (tens of
// microseconds) to a login under load (argon2id, hundreds of milliseconds).
var durationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	result := []string{"result"}
	h := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_http_requests_total",
			Help: "HTTP requests answered, by route (the API's routes, other for unknown paths) and status code."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "jwtrevoke_http_request_duration_seconds",
			Help: "Time to answer HTTP requests, by route and status code.", Buckets: durationBuckets}, []string{"route", "code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_logins_total",
			Help: "Login attempts (pair and sliding): ok, failed (refused credentials or request), throttled (429) or error (5xx)."}, result),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_refreshes_total",
			Help: "Refreshes (pair and sliding): ok, failed or error (5xx)."}, result),
		verifies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_verifies_total",
			Help: "Token verifications: ok (valid), failed (invalid or revoked) or error (5xx)."}, result),
		blacklists: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_blacklists_total",
			Help: "Refresh token blacklistings: ok, failed or error (5xx)."}, result),
		logouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_logouts_total",
			Help: "Logouts (one session or all): ok, failed or error (5xx)."}, result),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_rate_limited_total",
			Help: "Requests refused with 429 by the login rate limits, by route."}, []string{"route"}),
	}
	reg.MustRegister(h.requests, h.duration, h.logins, h.refreshes, h.verifies, h.blacklists, h.logouts, h.rateLimited)
	// Outcomes that never happened are still worth a zero: a dashboard's
	// rate of failed logins is then 0, not absent.
	for _, r := range []string{"ok", "failed", "throttled", "error"} {
		h.logins.WithLabelValues(r)
	}
	for _, v := range []*prometheus.CounterVec{h.refreshes, h.verifies, h.blacklists, h.logouts} {
		for _, r := range []string{"ok", "failed", "error"} {
			v.WithLabelValues(r)
		}
	}
	h.table = make([][]atomic.Pointer[series], len(routes))
	for i := range h.table {
		h.table[i] = make([]atomic.Pointer[series], len(statuses)+1)
	}
	return h
}

// seriesFor returns the series of (route, code), resolving them on the
// pair's first answer.
func (h *httpMetrics) seriesFor(rt, code int) *series {
	slot := 0
	if code >= 0 && code < len(statusSlot) {
		slot = int(statusSlot[code])
	}
	if slot != 0 {
		if s := h.table[rt][slot].Load(); s != nil {
			return s
		}
	}
	s := h.resolve(rt, code)
	if slot != 0 {
		h.table[rt][slot].Store(s)
	}
	return s
}

func (h *httpMetrics) resolve(rt, code int) *series {
	r := routes[rt]
	c := strconv.Itoa(code)
	s := &series{requests: h.requests.WithLabelValues(r.path, c), duration: h.duration.WithLabelValues(r.path, c)}
	outcome := "failed"
	switch {
	case code >= 500:
		outcome = "error"
	case code == http.StatusOK || r.kind == logout && code == http.StatusResetContent:
		outcome = "ok"
	case code == http.StatusTooManyRequests && r.kind == login:
		outcome = "throttled"
	}
	switch r.kind {
	case login:
		s.domain = append(s.domain, h.logins.WithLabelValues(outcome))
	case refresh:
		s.domain = append(s.domain, h.refreshes.WithLabelValues(outcome))
	case verify:
		s.domain = append(s.domain, h.verifies.WithLabelValues(outcome))
	case blacklist:
		s.domain = append(s.domain, h.blacklists.WithLabelValues(outcome))
	case logout:
		s.domain = append(s.domain, h.logouts.WithLabelValues(outcome))
	}
	if code == http.StatusTooManyRequests {
		s.domain = append(s.domain, h.rateLimited.WithLabelValues(r.path))
	}
	return s
}

// Instrument returns next counting every request it answers: by route and
// status, with its duration, and as a login, refresh, verify, blacklist or
// logout by its route and status. Per request it costs a map lookup of the
// path and a few atomic additions: the series of each (route, status) are
// resolved once. When an outer reqlog.Middleware already wraps the
// ResponseWriter, its writer is reused.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	h := m.http
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw, reused := w.(*reqlog.StatusWriter)
		if !reused {
			sw = reqlog.Wrap(w)
		}
		next.ServeHTTP(sw, r)
		rt := routeOf(r.URL.Path)
		s := h.seriesFor(rt, sw.Status())
		if !reused {
			sw.Release()
		}
		s.requests.Inc()
		s.duration.Observe(time.Since(start).Seconds())
		if r.Method == routes[rt].method {
			for _, c := range s.domain {
				c.Inc()
			}
		}
	})
}
