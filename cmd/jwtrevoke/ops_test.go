package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// hookStore wraps a store to hold up or fail some of its operations, and
// records whether it was used after Close.
type hookStore struct {
	jwtrevoke.Store
	// beforeUserByEmail, when set, runs first (and may block).
	beforeUserByEmail func(ctx context.Context, email string) error
	// beforeRevocations, when set, runs first (and may block).
	beforeRevocations func(ctx context.Context) error
	failRevocations   atomic.Bool
	closed            atomic.Bool
	usedAfterClose    atomic.Int64
}

func (h *hookStore) used() {
	if h.closed.Load() {
		h.usedAfterClose.Add(1)
	}
}

func (h *hookStore) UserByEmail(ctx context.Context, email string) (*jwtrevoke.User, error) {
	h.used()
	if h.beforeUserByEmail != nil {
		if err := h.beforeUserByEmail(ctx, email); err != nil {
			return nil, err
		}
	}
	return h.Store.UserByEmail(ctx, email)
}

func (h *hookStore) Revocations(ctx context.Context, after int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	h.used()
	if h.beforeRevocations != nil {
		if err := h.beforeRevocations(ctx); err != nil {
			return nil, err
		}
	}
	if h.failRevocations.Load() {
		return nil, fmt.Errorf("%w: test outage", jwtrevoke.ErrUnavailable)
	}
	return h.Store.Revocations(ctx, after, now)
}

func (h *hookStore) Close() error {
	h.closed.Store(true)
	return h.Store.Close()
}

// hooked returns a Main whose store is wrapped in hs.
func hooked(hs *hookStore) *Main {
	return &Main{wrapStore: func(st jwtrevoke.Store) jwtrevoke.Store { hs.Store = st; return hs }}
}

// get returns the status, body and headers of GET url.
func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// eventually retries cond every 20 ms for 10 s at most.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10 s: %s", what)
		}
	}
}

// TestServeHealthReadyMetrics: /healthz, /readyz and /metrics on the API's
// address, over HTTP, with no credentials.
func TestServeHealthReadyMetrics(t *testing.T) {
	base := server(t, env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey), "--demo")
	if st, body, _ := get(t, base+"/healthz"); st != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("/healthz: %d %s", st, body)
	}
	st, body, hdr := get(t, base+"/readyz")
	var ready status
	if err := json.Unmarshal([]byte(body), &ready); st != 200 || err != nil || ready.Status != "ok" || ready.Revocations == nil || ready.SyncAge == nil {
		t.Fatalf("/readyz: %d %s", st, body)
	}
	if hdr.Get("Content-Type") != "application/json" || hdr.Get("X-Request-Id") == "" {
		t.Errorf("/readyz headers: %v", hdr)
	}
	login(t, base, demoEmail, demoPassword)
	call(t, "POST", base+"/api/token/", "", map[string]string{"email": demoEmail, "password": "wrong"})
	st, body, _ = get(t, base+"/metrics")
	for _, want := range []string{
		`jwtrevoke_logins_total{result="ok"} 1`,
		`jwtrevoke_logins_total{result="failed"} 1`,
		`jwtrevoke_http_requests_total{code="200",route="/readyz"} 1`,
		`jwtrevoke_revocations 0`,
		`jwtrevoke_revocation_sync_age_seconds `,
		`jwtrevoke_store_operation_duration_seconds_count{operation="user_by_email"} `,
		`go_goroutines `,
	} {
		if st != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics: %d, lacks %q", st, want)
		}
	}
	if st, _, _ := get(t, base+"/readyz/"); st != 404 {
		t.Errorf("/readyz/: %d, want the API's 404", st)
	}
	res, err := http.Post(base+"/healthz", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Errorf("POST /healthz: %d, want 405", res.StatusCode)
	}
}

// TestServeMetricsSettings: METRICS=false serves no /metrics; METRICS_ADDR
// serves it there and not on the API's address.
func TestServeMetricsSettings(t *testing.T) {
	off := server(t, env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey, "JWTREVOKE_METRICS", "false"))
	if st, body, _ := get(t, off+"/metrics"); st != 404 || !strings.Contains(body, "Not found.") {
		t.Errorf("METRICS=false: /metrics %d %s, want the API's 404", st, body)
	}
	if st, _, _ := get(t, off+"/readyz"); st != 200 {
		t.Errorf("METRICS=false: /readyz %d", st)
	}
	maddr := freeAddr(t)
	base := server(t, env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey), "--metrics-addr", maddr)
	if st, _, _ := get(t, base+"/metrics"); st != 404 {
		t.Errorf("--metrics-addr: /metrics on the API's address: %d, want 404", st)
	}
	get(t, base+"/api/me/")
	st, body, _ := get(t, "http://"+maddr+"/metrics")
	if st != 200 || !strings.Contains(body, `jwtrevoke_http_requests_total{code="401",route="/api/me/"} 1`) {
		t.Errorf("--metrics-addr: /metrics %d:\n%s", st, body)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if st, _, _ := get(t, "http://"+maddr+p); st != 200 {
			t.Errorf("--metrics-addr: %s %d", p, st)
		}
	}
}

// TestServeReadiness: /readyz answers 503 while revocations load (the API
// too, /healthz 200), 200 once they are, 503 with the reason when they are
// stale (fail-closed), and 200 again once the store answers.
func TestServeReadiness(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	hs := &hookStore{beforeRevocations: func(ctx context.Context) error {
		if calls.Add(1) == 1 {
			select { // the initial load waits for the test
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}}
	addr := freeAddr(t)
	getenv := env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey, "JWTREVOKE_REVOCATION_MAX_STALENESS", "400ms")
	started := make(chan *served, 1)
	go func() { started <- startServe(t, hooked(hs), getenv, "--addr", addr) }()
	base := "http://" + addr
	eventually(t, "/healthz answers while loading", func() bool {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == 200
	})
	if st, body, _ := get(t, base+"/readyz"); st != 503 || !strings.Contains(body, "loading revocations") {
		t.Errorf("/readyz while loading: %d %s", st, body)
	}
	if st, body, _ := get(t, base+"/api/me/"); st != 503 || !strings.Contains(body, "service_unavailable") {
		t.Errorf("API while loading: %d %s", st, body)
	}
	close(release)
	<-started
	if st, body, _ := get(t, base+"/readyz"); st != 200 {
		t.Fatalf("/readyz once loaded: %d %s", st, body)
	}
	hs.failRevocations.Store(true)
	eventually(t, "/readyz 503 with stale revocations", func() bool {
		st, body, _ := get(t, base+"/readyz")
		return st == 503 && strings.Contains(body, "REVOCATION_MAX_STALENESS")
	})
	hs.failRevocations.Store(false)
	eventually(t, "/readyz 200 once the store answers", func() bool {
		st, _, _ := get(t, base+"/readyz")
		return st == 200
	})
}

// TestServeReadinessFailOpen: with REVOCATION_FAIL_MODE=open stale
// revocations are reported but the instance stays ready.
func TestServeReadinessFailOpen(t *testing.T) {
	hs := &hookStore{}
	s := startServe(t, hooked(hs), env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey,
		"JWTREVOKE_REVOCATION_MAX_STALENESS", "300ms", "JWTREVOKE_REVOCATION_FAIL_MODE", "open"))
	hs.failRevocations.Store(true)
	eventually(t, "/readyz reports stale revocations", func() bool {
		st, body, _ := get(t, s.base+"/readyz")
		return st == 200 && strings.Contains(body, "REVOCATION_MAX_STALENESS")
	})
}

// TestServeGracefulShutdown: a request in flight when serve is told to stop
// is answered in full; serve returns once it is, and the store is closed
// after it (and after Maintain stopped: nothing uses the store after
// Close).
func TestServeGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	hs := &hookStore{beforeUserByEmail: func(ctx context.Context, email string) error {
		if email == "slow@example.com" {
			close(entered)
			<-release
		}
		return nil
	}}
	s := startServe(t, hooked(hs), env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey,
		"JWTREVOKE_SHUTDOWN_TIMEOUT", "30s", "JWTREVOKE_REVOCATION_POLL_INTERVAL", "20ms"))
	type answer struct {
		status int
		body   map[string]any
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		res, err := http.Post(s.base+"/api/token/", "application/json", strings.NewReader(`{"email":"slow@example.com","password":"x"}`))
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer res.Body.Close()
		var m map[string]any
		err = json.NewDecoder(res.Body).Decode(&m)
		answered <- answer{res.StatusCode, m, err}
	}()
	<-entered
	s.stop()
	eventually(t, "the listener closes", func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.base, "http://"), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-s.done:
		t.Fatalf("serve returned (%v) with a request in flight", err)
	default:
	}
	if hs.closed.Load() {
		t.Fatal("the store was closed with a request in flight")
	}
	close(release)
	a := <-answered
	if a.err != nil || a.status != 401 || a.body["detail"] == nil {
		t.Fatalf("the request in flight: %d %v %v", a.status, a.body, a.err)
	}
	if err := s.wait(t); err != nil {
		t.Fatalf("serve: %v\n%s", err, s.log.String())
	}
	if !hs.closed.Load() {
		t.Fatal("serve returned without closing the store")
	}
	time.Sleep(100 * time.Millisecond) // Maintain would have polled 5 times
	if n := hs.usedAfterClose.Load(); n != 0 {
		t.Fatalf("the store was used %d times after Close", n)
	}
	log := s.log.String()
	if i, j := strings.Index(log, "shutting down"), strings.Index(log, "store closed"); i < 0 || j < i {
		t.Fatalf("log lacks shutting down, then store closed:\n%s", log)
	}
}

// TestServeShutdownTimeout: a request still running at SHUTDOWN_TIMEOUT
// has its context cancelled and its connection closed; serve reports it,
// and closes the store only once the handler has returned.
func TestServeShutdownTimeout(t *testing.T) {
	entered := make(chan struct{})
	var handlerDone atomic.Bool
	hs := &hookStore{beforeUserByEmail: func(ctx context.Context, email string) error {
		if email != "stuck@example.com" {
			return nil
		}
		close(entered)
		<-ctx.Done() // only the shutdown's cancellation ends it
		time.Sleep(50 * time.Millisecond)
		handlerDone.Store(true)
		return fmt.Errorf("%w: %v", jwtrevoke.ErrUnavailable, ctx.Err())
	}}
	s := startServe(t, hooked(hs), env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey, "JWTREVOKE_SHUTDOWN_TIMEOUT", "300ms"))
	go func() {
		res, err := http.Post(s.base+"/api/token/", "application/json", strings.NewReader(`{"email":"stuck@example.com","password":"x"}`))
		if err == nil {
			res.Body.Close()
		}
	}()
	<-entered
	start := time.Now()
	err := s.wait(t)
	if err == nil || !strings.Contains(err.Error(), "shutdown") {
		t.Fatalf("serve returned %v, want a shutdown error", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 10*time.Second {
		t.Errorf("serve took %v to give up, SHUTDOWN_TIMEOUT is 300ms", d)
	}
	if !handlerDone.Load() || !hs.closed.Load() {
		t.Fatalf("handler done %v, store closed %v", handlerDone.Load(), hs.closed.Load())
	}
	if !strings.Contains(s.log.String(), "requests still in flight at SHUTDOWN_TIMEOUT") {
		t.Errorf("log:\n%s", s.log.String())
	}
}

// secretsFlow drives login, refresh, logout and a failing login with known
// secrets (and a cookie, and request ids) against base, and returns the
// secrets and the id it sent.
func secretsFlow(t *testing.T, base string) (secrets []string, sentID string) {
	t.Helper()
	const (
		pass   = "Pa55-word-only-in-this-test"
		wrong  = "Wr0ng-guess-only-in-this-test"
		cookie = "cookie-value-only-in-this-test"
	)
	sentID = "client-id_0123.ABC"
	send := func(path, bearer, id string, body map[string]string) (int, map[string]any, string) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", "sessionid="+cookie)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m, res.Header.Get("X-Request-Id")
	}
	st, pair, echoed := send("/api/token/", "", sentID, map[string]string{"email": "secret@example.com", "password": pass})
	if st != 200 || echoed != sentID {
		t.Fatalf("login: %d %v, X-Request-Id %q, want %q echoed", st, pair, echoed, sentID)
	}
	refresh, access := pair["refresh"].(string), pair["access"].(string)
	st, again, _ := send("/api/token/refresh/", "", "", map[string]string{"refresh": refresh})
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, again)
	}
	access2 := again["access"].(string)
	unsafe := "bad id\twith a tab"
	if st, _, got := send("/api/logout/", access, unsafe, map[string]string{"refresh": refresh}); st != 205 || got == "" || got == unsafe {
		t.Fatalf("logout: %d, X-Request-Id %q (sent %q, which must be replaced)", st, got, unsafe)
	}
	if st, _, _ := send("/api/token/", "", strings.Repeat("x", 200), map[string]string{"email": "secret@example.com", "password": wrong}); st != 401 {
		t.Fatalf("failing login: %d", st)
	}
	// A token where a path would be: redacted from the access log.
	req, _ := http.NewRequest(http.MethodGet, base+"/api/"+access2, nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	return []string{pass, wrong, cookie, refresh, access, access2, testKey, "Bearer " + access,
		// The parts of the tokens: a log cut at a dot would still leak.
		strings.Split(refresh, ".")[2], strings.Split(access, ".")[2], strings.Split(access2, ".")[2]}, sentID
}

// TestServeLogsNoSecrets: with every record on (LOG_LEVEL=debug), in JSON
// and in text, the logs of a session's whole life hold none of its
// secrets; each request has one access line with its request id, and the
// records logged inside a request carry it too.
func TestServeLogsNoSecrets(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			getenv := env("JWTREVOKE_DATABASE", dbURL(t), "JWTREVOKE_SIGNING_KEY", testKey, "JWTREVOKE_LOG_FORMAT", format, "JWTREVOKE_LOG_LEVEL", "debug")
			if code, _, errs := run(t, getenv, "Pa55-word-only-in-this-test\n", "createuser", "--email", "secret@example.com", "--password-stdin"); code != 0 {
				t.Fatalf("createuser: %s", errs)
			}
			hs := &hookStore{beforeUserByEmail: func(_ context.Context, email string) error {
				if email == "broken@example.com" {
					return fmt.Errorf("%w: test outage", jwtrevoke.ErrUnavailable)
				}
				return nil
			}}
			s := startServe(t, hooked(hs), getenv)
			secrets, sentID := secretsFlow(t, s.base)
			req, _ := http.NewRequest(http.MethodPost, s.base+"/api/token/", strings.NewReader(`{"email":"broken@example.com","password":"x"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Request-Id", "store-error-request")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 503 {
				t.Fatalf("login on a failing store: %d", res.StatusCode)
			}
			if err := s.wait(t); err != nil {
				t.Fatal(err)
			}
			log := s.log.String()
			for _, sec := range secrets {
				if strings.Contains(log, sec) {
					t.Errorf("the log holds the secret %.20q...", sec)
				}
			}
			for _, word := range []string{"Authorization", "Cookie", "sessionid", "password\":\"", "Pa55", "Wr0ng"} {
				if strings.Contains(log, word) {
					t.Errorf("the log holds %q", word)
				}
			}
			lines := strings.Split(strings.TrimSpace(log), "\n")
			var access, storeErrors int
			for _, line := range lines {
				rec := parseRecord(t, format, line)
				switch rec["msg"] {
				case "request":
					access++
					if rec["request_id"] == "" {
						t.Errorf("access line without request_id: %s", line)
					}
					if rec["request_id"] == sentID && (rec["path"] != "/api/token/" || rec["status"] != "200" || rec["method"] != "POST") {
						t.Errorf("access line of the login: %s", line)
					}
				case "store error":
					storeErrors++
					if rec["request_id"] != "store-error-request" {
						t.Errorf("a record logged inside a request lacks its id: %s", line)
					}
				}
			}
			if access != 6 || storeErrors != 1 {
				t.Errorf("%d access lines (want 6), %d store errors (want 1):\n%s", access, storeErrors, log)
			}
			if !strings.Contains(log, "/api/[redacted]") {
				t.Errorf("the token-shaped path is not redacted:\n%s", log)
			}
		})
	}
}

// parseRecord reads one log line into its top-level keys, as strings.
func parseRecord(t *testing.T, format, line string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if format == "json" {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON record: %q", line)
		}
		for k, v := range m {
			out[k] = fmt.Sprint(v)
		}
		return out
	}
	sc := bufio.NewScanner(strings.NewReader(line))
	sc.Split(splitLogfmt)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		if uq, err := unquote(v); err == nil {
			v = uq
		}
		out[k] = v
	}
	return out
}

// splitLogfmt splits a text record into key=value fields; quoted values
// may hold spaces.
func splitLogfmt(data []byte, atEOF bool) (int, []byte, error) {
	i := 0
	for i < len(data) && data[i] == ' ' {
		i++
	}
	start, quoted := i, false
	for ; i < len(data); i++ {
		switch {
		case data[i] == '\\' && quoted:
			i++
		case data[i] == '"':
			quoted = !quoted
		case data[i] == ' ' && !quoted:
			return i + 1, data[start:i], nil
		}
	}
	if atEOF && start < len(data) {
		return len(data), data[start:], nil
	}
	if atEOF {
		return len(data), nil, nil
	}
	return start, nil, nil
}

func unquote(v string) (string, error) {
	if !strings.HasPrefix(v, `"`) {
		return v, nil
	}
	return strconv.Unquote(v)
}

// TestServeScheduledFlush: with FLUSH_EXPIRED_EVERY serve deletes expired
// rows by itself, logs and counts each flush, and stops flushing with the
// server.
func TestServeScheduledFlush(t *testing.T) {
	getenv := env("JWTREVOKE_DATABASE", dbURL(t), "JWTREVOKE_SIGNING_KEY", testKey, "JWTREVOKE_LOGIN_RATE_SCOPE", "instance",
		"JWTREVOKE_ACCESS_TOKEN_LIFETIME", "1s", "JWTREVOKE_REFRESH_TOKEN_LIFETIME", "1s", "JWTREVOKE_FLUSH_EXPIRED_EVERY", "200ms")
	s := startServe(t, &Main{}, getenv, "--demo")
	login(t, s.base, demoEmail, demoPassword)
	// The token expires after 1 s, its session one access lifetime later.
	eventually(t, "scheduled flushes delete the expired token and session", func() bool {
		_, body, _ := get(t, s.base+"/metrics")
		return strings.Contains(body, `jwtrevoke_flush_deleted_total{kind="outstanding"} 1`) &&
			strings.Contains(body, `jwtrevoke_flush_deleted_total{kind="sessions"} 1`) &&
			strings.Contains(body, `jwtrevoke_flush_runs_total{result="error"} 0`)
	})
	if code, out, _ := run(t, getenv, "", "tokens"); code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("tokens after the scheduled flush: code %d out:\n%s", code, out)
	}
	if !strings.Contains(s.log.String(), `msg="scheduled flush of expired rows" outstanding=1 blacklisted=0`) {
		t.Errorf("no flush logged with its counts:\n%s", s.log.String())
	}
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}
	log := s.log.String()
	closed := strings.Index(log, "store closed")
	time.Sleep(500 * time.Millisecond)
	if after := s.log.String()[closed:]; closed < 0 || strings.Contains(after, "flush") {
		t.Errorf("flushes after the store was closed:\n%s", after)
	}
	if n := strings.Count(log, "scheduled flush of expired rows"); n < 2 {
		t.Errorf("%d scheduled flushes, want them repeated", n)
	}
}
