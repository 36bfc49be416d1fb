package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/proctest"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
)

// testKey is a fixed signing key, so that processes sharing a database in
// a test also share tokens.
const testKey = "0123456789abcdef0123456789abcdef-test-signing-key"

// TestMain lets the test binary act as the jwtrevoke binary: the SIGKILL
// test re-executes it with JWTREVOKE_TEST_AS_MAIN=1, which is a real,
// separate server process that can be killed.
func TestMain(m *testing.M) {
	if os.Getenv("JWTREVOKE_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// env returns a Getenv over the given variables only, so tests do not
// depend on the environment they run in.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// run runs one command in-process and returns its exit code and output.
func run(t *testing.T, getenv func(string) string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: getenv}
	err := m.Run(t.Context(), args)
	return exitCode(err), out.String(), errb.String()
}

// server runs `serve` in-process on a free port until the test ends.
func server(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	return startServe(t, &Main{}, getenv, args...).base
}

// served is a `serve` running in-process.
type served struct {
	base   string      // http://host:port
	log    *syncBuffer // its Stderr
	stop   func()      // cancels its context
	done   chan error  // receives Run's error once it returns
	waited bool
}

// startServe runs `serve` in-process with m (whose streams, Getenv and
// Ready it sets) on a free port; it is stopped when the test ends, and
// must then return nil, unless the test waited for it itself (wait).
func startServe(t *testing.T, m *Main, getenv func(string) string, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	s := &served{log: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	m.Stdin, m.Stdout, m.Stderr, m.Getenv = strings.NewReader(""), io.Discard, s.log, getenv
	m.Ready = func(addr string) { ready <- addr }
	if !slices.Contains(args, "--addr") {
		args = append([]string{"--addr", "127.0.0.1:0"}, args...)
	}
	go func() { s.done <- m.Run(ctx, append([]string{"serve"}, args...)) }()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			if s.waited {
				return
			}
			cancel()
			if err := <-s.done; err != nil {
				t.Errorf("serve returned %v after shutdown; log:\n%s", err, s.log.String())
			}
		})
		s.base = "http://" + addr
		return s
	case err := <-s.done:
		cancel()
		t.Fatalf("serve exited early: %v\n%s", err, s.log.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not start; log:\n%s", s.log.String())
	}
	return nil
}

// wait stops the server and returns Run's error.
func (s *served) wait(t *testing.T) error {
	t.Helper()
	s.stop()
	s.waited = true
	select {
	case err := <-s.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop; log:\n%s", s.log.String())
	}
	return nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// call makes one JSON request and returns the status and decoded body.
func call(t *testing.T, method, url, bearer string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: status %d, body %q is not a JSON object", method, url, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

func login(t *testing.T, base, email, pass string) (refresh, access string) {
	t.Helper()
	st, body := call(t, "POST", base+"/api/auth/token/", "", map[string]string{"email": email, "password": pass})
	if st != 200 {
		t.Fatalf("login %s: status %d body %v", email, st, body)
	}
	return body["refresh"].(string), body["access"].(string)
}

func dbURL(t *testing.T) string {
	return "sqlite:///" + filepath.Join(t.TempDir(), "auth.db") // four slashes: absolute
}

// databases are the stores the end-to-end tests run on: SQLite always,
// the servers when their JWTREVOKE_TEST_* variable is set.
var databases = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"SQLite", dbURL},
	{"Memory", func(*testing.T) string { return "memory://" }},
	{"PostgreSQL", func(t *testing.T) string { return testdb.Postgres(t) }},
	{"MySQL", func(t *testing.T) string { return testdb.MySQL(t) }},
	{"MongoDB", func(t *testing.T) string { return testdb.Mongo(t) }},
}

func TestServeDemoWalkthrough(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) { walkthrough(t, db.url(t)) })
	}
}

func walkthrough(t *testing.T, database string) {
	getenv := env("JWTREVOKE_DATABASE", database)
	base := server(t, getenv, "--demo")
	refresh, access := login(t, base, "test@email.com", "test123456")
	if st, body := call(t, "GET", base+"/api/me/", access, nil); st != 200 || body["email"] != "test@email.com" {
		t.Fatalf("me: %d %v", st, body)
	}
	st, body := call(t, "POST", base+"/api/token/refresh/", "", map[string]string{"refresh": refresh})
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, body)
	}
	access2 := body["access"].(string)
	if st, body := call(t, "POST", base+"/api/logout/", access, map[string]string{"refresh": refresh}); st != 205 || body["detail"] != "Logout successful." {
		t.Fatalf("logout: %d %v", st, body)
	}
	if st, body := call(t, "POST", base+"/api/token/refresh/", "", map[string]string{"refresh": refresh}); st != 401 || body["detail"] != "Token is blacklisted" {
		t.Fatalf("refresh after logout: %d %v", st, body)
	}
	for i, a := range []string{access, access2} {
		if st, body := call(t, "GET", base+"/api/me/", a, nil); st != 401 {
			t.Fatalf("access %d after logout: %d %v, want 401", i, st, body)
		}
	}
}

func TestCreateUserCommand(t *testing.T) {
	getenv := env("JWTREVOKE_DATABASE", dbURL(t), "JWTREVOKE_SIGNING_KEY", testKey)
	code, out, errs := run(t, getenv, "s3cret-pass\n", "createuser", "--email", "ann@example.com", "--password-stdin")
	if code != 0 || !strings.Contains(out, "created user 1 <ann@example.com>") {
		t.Fatalf("createuser: code %d out %q err %q", code, out, errs)
	}
	code, _, errs = run(t, getenv, "", "createuser", "--email", "ANN@example.com", "--password", "x")
	if code != 1 || !strings.Contains(errs, "already exists") {
		t.Fatalf("duplicate createuser: code %d err %q, want 1 and 'already exists'", code, errs)
	}
	code, _, errs = run(t, getenv, "", "createuser", "--email", "bob@example.com")
	if code != 2 || !strings.Contains(errs, "--password") {
		t.Fatalf("createuser without password: code %d err %q, want 2", code, errs)
	}
	base := server(t, getenv)
	if r, _ := login(t, base, "ann@example.com", "s3cret-pass"); r == "" {
		t.Fatal("no refresh token")
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"UnknownFlag", []string{"serve", "--nope"}, "unknown flag"},
		{"UnknownCommand", []string{"frobnicate"}, "unknown command"},
		{"BadDuration", []string{"migrate", "--access-token-lifetime", "five"}, "not a duration"},
		{"BadDatabase", []string{"migrate", "--database", "oracle://x"}, "not supported"},
		{"ShortKey", []string{"migrate", "--signing-key", "short"}, "SIGNING_KEY"},
		{"BlacklistNoArg", []string{"blacklist"}, "exactly one"},
		{"FlushNegativeBatch", []string{"flushexpiredtokens", "--batch-size", "-1"}, "--batch-size must be at least 1"},
		{"FlushNiceTooHigh", []string{"flushexpiredtokens", "--nice", "20"}, "--nice must be 0 to 19"},
		{"FlushNiceNegative", []string{"flushexpiredtokens", "--nice", "-5"}, "--nice must be 0 to 19"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := run(t, env("JWTREVOKE_DATABASE", "memory://"), "", c.args...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Fatalf("code %d stderr %q, want 2 and %q", code, errs, c.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"serve", "migrate", "createuser", "issuetoken", "flushexpiredtokens", "blacklist", "tokens", "genkey", "config", "version"} {
		code, out, _ := run(t, env(), "", cmd, "--help")
		if code != 0 || !strings.Contains(out, "--database") {
			t.Errorf("%s --help: code %d, output lacks --database:\n%s", cmd, code, out)
		}
	}
}

func TestBlacklistAndTokensCommands(t *testing.T) {
	getenv := env("JWTREVOKE_DATABASE", dbURL(t), "JWTREVOKE_SIGNING_KEY", testKey)
	base := server(t, getenv, "--demo", "--revocation-poll-interval", "50ms")
	refresh, access := login(t, base, "test@email.com", "test123456")
	code, out, errs := run(t, getenv, "", "blacklist", refresh)
	if code != 0 || !strings.Contains(out, "blacklisted token") {
		t.Fatalf("blacklist: code %d out %q err %q", code, out, errs)
	}
	code, _, errs = run(t, getenv, "", "blacklist", refresh)
	if code != 1 || !strings.Contains(errs, "Token is blacklisted") {
		t.Fatalf("blacklist again: code %d err %q", code, errs)
	}
	code, out, _ = run(t, getenv, "", "tokens", "--blacklisted")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("tokens --blacklisted: code %d out:\n%s", code, out)
	}
	// The running server learns of the CLI's revocation from the store.
	waitRefused(t, base, access, "`jwtrevoke blacklist`")
}

// TestTokenStoreRedis runs every command with users in SQLite and tokens in
// Redis (--token-store): they all see the same data.
func TestTokenStoreRedis(t *testing.T) {
	redisURL := testdb.Redis(t)
	getenv := env("JWTREVOKE_DATABASE", dbURL(t), "JWTREVOKE_SIGNING_KEY", testKey)
	flags := []string{"--token-store", redisURL}
	if code, out, errs := run(t, getenv, "", append([]string{"migrate"}, flags...)...); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, getenv, "pw-0123456789\n", append([]string{"createuser", "--email", "r@example.com", "--password-stdin"}, flags...)...); code != 0 {
		t.Fatalf("createuser: %d %q", code, errs)
	}
	base := server(t, getenv, append([]string{"--revocation-poll-interval", "50ms"}, flags...)...)
	refresh, access := login(t, base, "r@example.com", "pw-0123456789")
	code, out, _ := run(t, getenv, "", append([]string{"tokens"}, flags...)...)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 {
		t.Fatalf("tokens: code %d out:\n%s", code, out)
	}
	// Without --token-store the SQLite database holds no tokens at all.
	if code, out, _ := run(t, getenv, "", "tokens"); code != 0 || len(strings.Split(strings.TrimSpace(out), "\n")) != 1 {
		t.Fatalf("tokens without --token-store: code %d out:\n%s", code, out)
	}
	if code, out, errs := run(t, getenv, "", append([]string{"blacklist", refresh}, flags...)...); code != 0 || !strings.Contains(out, "blacklisted token") {
		t.Fatalf("blacklist: code %d out %q err %q", code, out, errs)
	}
	waitRefused(t, base, access, "`jwtrevoke blacklist --token-store`")
	if code, out, errs := run(t, getenv, "", append([]string{"flushexpiredtokens"}, flags...)...); code != 0 || !strings.Contains(out, "deleted 0 expired") {
		t.Fatalf("flushexpiredtokens: code %d out %q err %q", code, out, errs)
	}
	if code, _, errs := run(t, getenv, "", "serve", "--addr", "127.0.0.1:0", "--token-store", "memcached://x"); code != 2 || !strings.Contains(errs, "not supported") {
		t.Fatalf("serve with an unknown token store: code %d err %q, want 2", code, errs)
	}
}

// TestDeactivateAndAuditCommands: deactivate revokes the user's tokens at
// once (on a running server too), activate lets them log in again with new
// tokens only, and audit shows the revocation.
func TestDeactivateAndAuditCommands(t *testing.T) {
	getenv := env("JWTREVOKE_DATABASE", dbURL(t), "JWTREVOKE_SIGNING_KEY", testKey)
	base := server(t, getenv, "--demo", "--revocation-poll-interval", "50ms")
	_, access := login(t, base, demoEmail, demoPassword)
	if code, out, errs := run(t, getenv, "", "deactivate", "--email", demoEmail); code != 0 || !strings.Contains(out, "deactivated user 1") {
		t.Fatalf("deactivate: %d %q %q", code, out, errs)
	}
	waitRefused(t, base, access, "`jwtrevoke deactivate`")
	if st, _ := call(t, "POST", base+"/api/token/", "", map[string]string{"email": demoEmail, "password": demoPassword}); st != 401 {
		t.Fatalf("login of a deactivated user: %d, want 401", st)
	}
	if code, out, errs := run(t, getenv, "", "activate", "--email", demoEmail); code != 0 || !strings.Contains(out, "activated user 1") {
		t.Fatalf("activate: %d %q %q", code, out, errs)
	}
	_, fresh := login(t, base, demoEmail, demoPassword)
	if st, _ := call(t, "GET", base+"/api/me/", fresh, nil); st != 200 {
		t.Fatalf("new token after activate: %d", st)
	}
	if st, _ := call(t, "GET", base+"/api/me/", access, nil); st != 401 {
		t.Fatalf("old token after activate: %d, want 401", st)
	}
	code, out, _ := run(t, getenv, "", "audit", "--email", demoEmail)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "deactivated") || !strings.Contains(lines[1], "jwtrevoke deactivate") {
		t.Fatalf("audit: code %d out:\n%s", code, out)
	}
	if code, _, _ := run(t, getenv, "", "deactivate"); code != 2 {
		t.Fatalf("deactivate without --email: code %d, want 2", code)
	}
	if code, _, _ := run(t, getenv, "", "deactivate", "--email", "nobody@example.com"); code != 1 {
		t.Fatalf("deactivate of an unknown user: code %d, want 1", code)
	}
}

// TestFlushExpiredTokensCommand: --dry-run reports exactly what the flush
// then deletes, and deletes nothing; off a terminal the progress is plain
// lines, on one a progress bar.
func TestFlushExpiredTokensCommand(t *testing.T) {
	getenv := env("JWTREVOKE_DATABASE", dbURL(t), "JWTREVOKE_SIGNING_KEY", testKey,
		"JWTREVOKE_ACCESS_TOKEN_LIFETIME", "3s", "JWTREVOKE_REFRESH_TOKEN_LIFETIME", "3s",
		// Attempt counters in the store would expire with the clock's minute.
		"JWTREVOKE_LOGIN_RATE_SCOPE", "instance")
	base := server(t, getenv, "--demo")
	r1, _ := login(t, base, "test@email.com", "test123456")
	login(t, base, "test@email.com", "test123456")
	if st, body := call(t, "POST", base+"/api/token/blacklist/", "", map[string]string{"refresh": r1}); st != 200 {
		t.Fatalf("blacklist: %d %v", st, body)
	}
	time.Sleep(6100 * time.Millisecond)
	want := "2 expired outstanding tokens (1 of them blacklisted), 2 sessions, 1 revocations, 0 rotations, 0 audit entries, 0 attempt counters"
	for range 2 { // a dry run changes nothing, so a second one says the same
		code, out, errs := run(t, getenv, "", "flushexpiredtokens", "--dry-run")
		if code != 0 || out != "would delete "+want+" (dry run: nothing was deleted)\n" || errs != "" {
			t.Fatalf("dry run: code %d out %q err %q, want %q", code, out, errs, want)
		}
	}
	if code, out, _ := run(t, getenv, "", "tokens"); code != 0 || len(strings.Split(strings.TrimSpace(out), "\n")) != 3 {
		t.Fatalf("tokens after the dry run: code %d out:\n%s", code, out)
	}
	terminal := true
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: getenv, terminal: &terminal}
	if err := m.Run(t.Context(), []string{"flushexpiredtokens", "--batch-size", "1"}); err != nil || out.String() != "deleted "+want+"\n" {
		t.Fatalf("flush: %v out %q err %q, want %q", err, out.String(), errb.String(), want)
	}
	if bar := errb.String(); !strings.Contains(bar, "100%") || !strings.Contains(bar, "5/5") || !strings.Contains(bar, "\r") {
		t.Errorf("on a terminal: no progress bar to 5/5 rows:\n%q", bar)
	}
	code, plain, errs := run(t, getenv, "", "flushexpiredtokens")
	if code != 0 || !strings.Contains(plain, "deleted 0 expired outstanding tokens (0 of them blacklisted), 0 sessions, 0 revocations") {
		t.Fatalf("second flush: %q", plain)
	}
	if errs != "flushexpiredtokens: 0 expired rows deleted\n" {
		t.Errorf("off a terminal: stderr %q, want one plain line of counts", errs)
	}
}

func TestMigrateAndVersion(t *testing.T) {
	getenv := env("JWTREVOKE_DATABASE", dbURL(t))
	for range 2 {
		if code, out, errs := run(t, getenv, "", "migrate"); code != 0 || !strings.Contains(out, "up to date") {
			t.Fatalf("migrate: %d %q %q", code, out, errs)
		}
	}
	if code, out, _ := run(t, getenv, "", "version"); code != 0 || !strings.HasPrefix(out, "jwtrevoke ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

// TestLogoutSurvivesSIGKILL kills the server process with SIGKILL right
// after it answered 205 to a logout, restarts it on the same database, and
// checks that the refresh token and both access tokens of the session are
// still refused: the logout was durable before it was acknowledged.
func TestLogoutSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	for _, d := range databases {
		if d.name == "Memory" {
			continue // nothing survives a restart by design
		}
		t.Run(d.name, func(t *testing.T) { logoutSurvivesSIGKILL(t, "JWTREVOKE_DATABASE="+d.url(t)) })
	}
	t.Run("SQLite+Redis", func(t *testing.T) {
		logoutSurvivesSIGKILL(t, "JWTREVOKE_DATABASE="+dbURL(t), "JWTREVOKE_TOKEN_STORE="+testdb.Redis(t))
	})
}

func logoutSurvivesSIGKILL(t *testing.T, stores ...string) {
	start := func() *proctest.Proc {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		return proctest.Start(t, exe, append([]string{"JWTREVOKE_TEST_AS_MAIN=1", "JWTREVOKE_SIGNING_KEY=" + testKey}, stores...),
			"serve", "--addr", "127.0.0.1:0", "--demo")
	}
	proc := start()
	base := proc.URL
	refresh, access := login(t, base, "test@email.com", "test123456")
	st, body := call(t, "POST", base+"/api/token/refresh/", "", map[string]string{"refresh": refresh})
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, body)
	}
	access2 := body["access"].(string)
	st, body = call(t, "POST", base+"/api/logout/", access, map[string]string{"refresh": refresh})
	if st != 205 {
		t.Fatalf("logout: %d %v", st, body)
	}
	proc.Kill()

	base = start().URL
	if st, body := call(t, "POST", base+"/api/token/refresh/", "", map[string]string{"refresh": refresh}); st != 401 || body["detail"] != "Token is blacklisted" {
		t.Fatalf("refresh after restart: %d %v, want 401 blacklisted", st, body)
	}
	for i, a := range []string{access, access2} {
		if st, body := call(t, "GET", base+"/api/me/", a, nil); st != 401 {
			t.Fatalf("access token %d after restart: %d %v, want 401", i, st, body)
		}
		if st, body := call(t, "POST", base+"/api/token/verify/", "", map[string]string{"token": a}); st != 400 {
			t.Fatalf("verify access token %d after restart: %d %v, want 400", i, st, body)
		}
	}
	// Another session is untouched by the restart.
	_, other := login(t, base, "test@email.com", "test123456")
	if st, _ := call(t, "GET", base+"/api/me/", other, nil); st != 200 {
		t.Fatalf("new session after restart: %d", st)
	}
}

// TestUnreachableDatabase: a store that does not answer stops the command
// with a clear error, never a server that authenticates without it.
func TestUnreachableDatabase(t *testing.T) {
	for _, url := range []string{
		"postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
		"mysql://root@127.0.0.1:1/test?timeout=2s",
		"mongodb://127.0.0.1:1/test?serverSelectionTimeoutMS=2000",
	} {
		code, _, errs := run(t, env("JWTREVOKE_DATABASE", url), "", "serve", "--addr", "127.0.0.1:0")
		if code != 1 || !strings.Contains(errs, "open") {
			t.Errorf("serve on %s: code %d, stderr %q; want 1 and an error opening the store", url, code, errs)
		}
	}
}

// waitRefused waits (10 s at most) until the running server at base
// refuses access, which what (another process's command) revoked in the
// store: the server learns of it by its push channel or its poll.
func waitRefused(t *testing.T, base, access, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := call(t, "GET", base+"/api/me/", access, nil)
		if st == 401 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("access token still accepted 10 s after %s: status %d", what, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIssueTokenCommand: issuetoken opens sessions as a login does, each
// pair working (and revocable) on a running server, without a password;
// an unknown or inactive user gets none.
func TestIssueTokenCommand(t *testing.T) {
	getenv := env("JWTREVOKE_DATABASE", dbURL(t), "JWTREVOKE_SIGNING_KEY", testKey)
	base := server(t, getenv, "--demo", "--revocation-poll-interval", "50ms")
	code, out, errs := run(t, getenv, "", "issuetoken", "--email", demoEmail, "--count", "3")
	if code != 0 {
		t.Fatalf("issuetoken: code %d err %q", code, errs)
	}
	var pairs []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p map[string]string
		if err := json.Unmarshal([]byte(line), &p); err != nil || p["refresh"] == "" || p["access"] == "" {
			t.Fatalf("issuetoken line %q: %v", line, err)
		}
		pairs = append(pairs, p)
	}
	if len(pairs) != 3 || pairs[0]["refresh"] == pairs[1]["refresh"] {
		t.Fatalf("want 3 different pairs, got:\n%s", out)
	}
	for _, p := range pairs {
		if st, body := call(t, "GET", base+"/api/me/", p["access"], nil); st != 200 || body["email"] != demoEmail {
			t.Fatalf("GET /api/me/ with an issued access token: %d %v", st, body)
		}
	}
	if st, _ := call(t, "POST", base+"/api/token/refresh/", "", map[string]string{"refresh": pairs[0]["refresh"]}); st != 200 {
		t.Fatalf("refresh of an issued token: %d", st)
	}
	// Each pair is a session of its own: logging one out leaves the others.
	if st, _ := call(t, "POST", base+"/api/logout/", pairs[1]["access"], map[string]string{"refresh": pairs[1]["refresh"]}); st != 205 {
		t.Fatalf("logout of an issued session: %d", st)
	}
	if st, _ := call(t, "GET", base+"/api/me/", pairs[1]["access"], nil); st != 401 {
		t.Fatalf("the logged-out session's access token: %d, want 401", st)
	}
	if st, _ := call(t, "GET", base+"/api/me/", pairs[2]["access"], nil); st != 200 {
		t.Fatalf("another issued session after that logout: %d, want 200", st)
	}
	if code, _, errs := run(t, getenv, "", "issuetoken", "--email", "nobody@example.com"); code != 1 || !strings.Contains(errs, "no user") {
		t.Fatalf("issuetoken for an unknown user: code %d err %q", code, errs)
	}
	if code, _, _ := run(t, getenv, "", "issuetoken"); code != 2 {
		t.Fatalf("issuetoken without --email: code %d, want 2", code)
	}
	if code, _, _ := run(t, getenv, "", "issuetoken", "--email", demoEmail, "--count", "0"); code != 2 {
		t.Fatalf("issuetoken --count 0: code %d, want 2", code)
	}
	if code, _, errs := run(t, getenv, "", "deactivate", "--email", demoEmail); code != 0 {
		t.Fatalf("deactivate: %d %q", code, errs)
	}
	if code, out, errs := run(t, getenv, "", "issuetoken", "--email", demoEmail); code != 1 || !strings.Contains(errs, "not active") || out != "" {
		t.Fatalf("issuetoken for an inactive user: code %d out %q err %q", code, out, errs)
	}
}
