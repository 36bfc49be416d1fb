package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// testKey signs the tokens of every test server unless a test sets another.
const testKey = "httpapi-test-signing-key-0123456789abcdef"

// refKey is the SECRET_KEY of the seed's reference servers.
const refKey = "reference-insecure-signing-key-for-acceptance-tests"

// The seed's users: created first, so their ids are 1 and 2 as in the seed.
const (
	userEmail   = "test@email.com"
	userPass    = "test123456"
	secondEmail = "second@email.com"
	secondPass  = "test123456"
)

// SimpleJWT's header, {"alg":"HS256","typ":"JWT"}, as PyJWT encodes it.
const hs256Header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// Bodies SimpleJWT writes, byte for byte.
const (
	bodyNoCredentials   = `{"detail":"Authentication credentials were not provided."}`
	bodyNoActiveAccount = `{"detail":"No active account found with the given credentials"}`
	bodyBadHeader       = `{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}`
	bodyNoUserID        = `{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}`
	bodyUserNotFound    = `{"detail":"User not found","code":"user_not_found"}`
	bodyUserInactive    = `{"detail":"User is inactive","code":"user_inactive"}`
	bodyLogoutOK        = `{"detail":"Logout successful."}`
	bodyVerifyBlack     = `{"non_field_errors":["Token is blacklisted"]}`
	bodyEmpty           = `{}`

	msgInvalid     = "Token is invalid or expired"
	msgWrongType   = "Token has wrong type"
	msgBlacklisted = "Token is blacklisted"
	msgNoID        = "Token has no id"
	msgNoType      = "Token has no type"
	msgNoExp       = "Token has no 'exp' claim"
)

const challenge = `Bearer realm="api"`

// bearerBody is the 401 body of Bearer authentication for a bad token.
func bearerBody(msg string) string {
	return `{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"` + msg + `"}]}`
}

// tokenBody is the 401 body of the token views for a bad token.
func tokenBody(msg string) string {
	return `{"detail":"` + msg + `","code":"token_not_valid"}`
}

// logoutBody is the {"error": msg} body of the logout view.
func logoutBody(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}

// cheapHasher keeps the tests fast; the server uses password.Default().
var cheapHasher = &password.Hasher{Memory: 64, Time: 1, Threads: 1}

// clock is a settable time source for jwtrevoke.Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one test server over a fresh memory store.
type env struct {
	t     *testing.T
	mem   *memory.Store
	store jwtrevoke.Store // what the service uses (mem, or a wrapper of it)
	svc   *jwtrevoke.Service
	h     *httpapi.Handler
	srv   *httptest.Server
	key   string
	clock *clock // nil: real time
	users map[string]*jwtrevoke.User
}

type envConfig struct {
	settings []func(*jwtrevoke.Settings)
	clock    *clock
	wrap     func(*memory.Store) jwtrevoke.Store
	noUsers  bool
	svcOpts  []func(*jwtrevoke.Options)
}

type envOption func(*envConfig)

func withSettings(f func(*jwtrevoke.Settings)) envOption {
	return func(c *envConfig) { c.settings = append(c.settings, f) }
}

func withRotation() envOption {
	return withSettings(func(s *jwtrevoke.Settings) { s.RotateRefreshTokens = true })
}

func withKey(key string) envOption {
	return withSettings(func(s *jwtrevoke.Settings) { s.SigningKey = key })
}

// withLoginLimits turns the login rate limits on with these rates
// (DefaultSettings' when zero).
func withLoginLimits(perIP, perAccount jwtrevoke.Rate) envOption {
	return withSettings(func(s *jwtrevoke.Settings) {
		d := jwtrevoke.DefaultSettings()
		s.LoginRatePerIP, s.LoginRatePerAccount = d.LoginRatePerIP, d.LoginRatePerAccount
		s.LoginRateScope = jwtrevoke.ScopeInstance // the token bucket's exact Retry-After values
		if perIP != (jwtrevoke.Rate{}) {
			s.LoginRatePerIP = perIP
		}
		if perAccount != (jwtrevoke.Rate{}) {
			s.LoginRatePerAccount = perAccount
		}
	})
}

// withServiceOptions changes the Options the service is built with (the
// hasher, the limiters).
func withServiceOptions(f func(*jwtrevoke.Options)) envOption {
	return func(c *envConfig) { c.svcOpts = append(c.svcOpts, f) }
}

func withClock(c *clock) envOption { return func(cfg *envConfig) { cfg.clock = c } }

func withStore(wrap func(*memory.Store) jwtrevoke.Store) envOption {
	return func(c *envConfig) { c.wrap = wrap }
}

// newEnv starts a server with the seed's settings, the test key, and the
// seed's two users (test@email.com id 1, second@email.com id 2).
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	var cfg envConfig
	for _, o := range opts {
		o(&cfg)
	}
	settings := jwtrevoke.DefaultSettings()
	settings.SigningKey = testKey
	// The login rate limits are off unless a test turns them on
	// (withLoginLimits): most tests log in more often than they allow.
	settings.LoginRatePerIP, settings.LoginRatePerAccount = jwtrevoke.Rate{}, jwtrevoke.Rate{}
	// Tests change users in the store directly (e.setActive): load them on
	// every request unless a test turns the cache on.
	settings.UserCacheTTL = 0
	for _, f := range cfg.settings {
		f(&settings)
	}
	e := &env{t: t, mem: memory.New(), key: settings.SigningKey, clock: cfg.clock, users: map[string]*jwtrevoke.User{}}
	e.store = e.mem
	if cfg.wrap != nil {
		e.store = cfg.wrap(e.mem)
	}
	o := jwtrevoke.Options{Hasher: cheapHasher, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	if cfg.clock != nil {
		o.Now = cfg.clock.Now
	}
	for _, f := range cfg.svcOpts {
		f(&o)
	}
	svc, err := jwtrevoke.New(t.Context(), e.store, settings, o)
	if err != nil {
		t.Fatalf("jwtrevoke.New: %v", err)
	}
	e.svc = svc
	// Store errors are logged: send them to the test's output.
	e.h = httpapi.New(svc, httpapi.Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	if !cfg.noUsers {
		e.createUser(userEmail, userPass)
		e.createUser(secondEmail, secondPass)
	}
	return e
}

// with returns e for use by a subtest (helpers report to t).
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

func (e *env) createUser(email, pw string) *jwtrevoke.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), email, pw, false)
	if err != nil {
		e.t.Fatalf("create user %s: %v", email, err)
	}
	e.users[email] = u
	return u
}

// setActive flips a user's active flag directly in the store, as the seed
// did with the ORM.
func (e *env) setActive(email string, active bool) {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.mem.UserByEmail(ctx, email)
	if err != nil {
		e.t.Fatalf("user %s: %v", email, err)
	}
	u.IsActive = active
	if err := e.mem.UpdateUser(ctx, u); err != nil {
		e.t.Fatalf("update user %s: %v", email, err)
	}
}

// resp is an answer, read whole.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// request sends one request with the headers given (name, value pairs).
func (e *env) request(method, path string, body io.Reader, headers ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// do sends method path with an optional Bearer token and an optional body
// of the given content type.
func (e *env) do(method, path, bearer, contentType, body string) resp {
	e.t.Helper()
	return e.doWith(method, path, bearer, contentType, body)
}

// doWith is do with more headers (name, value pairs).
func (e *env) doWith(method, path, bearer, contentType, body string, hdr ...string) resp {
	e.t.Helper()
	if bearer != "" {
		hdr = append(hdr, "Authorization", "Bearer "+bearer)
	}
	if contentType != "" {
		hdr = append(hdr, "Content-Type", contentType)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return e.request(method, path, rd, hdr...)
}

// post sends a JSON body (v marshalled unless it is already a string).
func (e *env) post(path, bearer string, v any) resp {
	e.t.Helper()
	body, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			e.t.Fatalf("marshal: %v", err)
		}
		body = string(b)
	}
	return e.do(http.MethodPost, path, bearer, "application/json", body)
}

func (e *env) postForm(path, bearer string, vals url.Values) resp {
	e.t.Helper()
	return e.do(http.MethodPost, path, bearer, "application/x-www-form-urlencoded", vals.Encode())
}

func (e *env) postMultipart(path, bearer string, fields map[string]string) resp {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		e.t.Fatal(err)
	}
	return e.do(http.MethodPost, path, bearer, mw.FormDataContentType(), b.String())
}

func (e *env) me(bearer string) resp {
	e.t.Helper()
	return e.do(http.MethodGet, "/api/me/", bearer, "", "")
}

func (e *env) refresh(refresh string) resp {
	e.t.Helper()
	return e.post("/api/token/refresh/", "", map[string]any{"refresh": refresh})
}

func (e *env) verify(token string) resp {
	e.t.Helper()
	return e.post("/api/token/verify/", "", map[string]any{"token": token})
}

func (e *env) blacklist(refresh string) resp {
	e.t.Helper()
	return e.post("/api/token/blacklist/", "", map[string]any{"refresh": refresh})
}

func (e *env) logout(bearer, refresh string) resp {
	e.t.Helper()
	return e.post("/api/logout/", bearer, map[string]any{"refresh": refresh})
}

func (e *env) logoutAll(bearer string) resp {
	e.t.Helper()
	return e.do(http.MethodPost, "/api/logout/all/", bearer, "", "")
}

type pair struct {
	Refresh string `json:"refresh"`
	Access  string `json:"access"`
}

// MustLogin obtains a pair at /api/token/.
func (e *env) MustLogin(email, pw string) pair {
	e.t.Helper()
	r := e.post("/api/token/", "", map[string]string{"email": email, "password": pw})
	if r.Status != http.StatusOK {
		e.t.Fatalf("login %s: got %s, want 200", email, r)
	}
	return decodePair(e.t, r)
}

func decodePair(t *testing.T, r resp) pair {
	t.Helper()
	var p pair
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("decode pair %s: %v", r.Body, err)
	}
	if p.Access == "" || p.Refresh == "" {
		t.Fatalf("pair %s: want both tokens", r.Body)
	}
	return p
}

// mustRefresh returns the access token (and the refresh token with
// rotation) a refresh answers.
func (e *env) mustRefresh(refresh string) pair {
	e.t.Helper()
	r := e.refresh(refresh)
	if r.Status != http.StatusOK {
		e.t.Fatalf("refresh: got %s, want 200", r)
	}
	var p pair
	if err := json.Unmarshal(r.Body, &p); err != nil || p.Access == "" {
		e.t.Fatalf("refresh body %s: %v", r.Body, err)
	}
	return p
}

// wantMe asserts that bearer authenticates as the user with this email.
func (e *env) wantMe(bearer, email string) {
	e.t.Helper()
	u := e.users[email]
	if u == nil {
		e.t.Fatalf("unknown user %s", email)
	}
	want(e.t, e.me(bearer), http.StatusOK, fmt.Sprintf(`{"id":%d,"email":"%s"}`, u.ID, u.Email))
}

// wantRevokedAccess asserts that an access token is refused as revoked
// by /api/me/ and by verify.
func (e *env) wantRevokedAccess(access string) {
	e.t.Helper()
	want(e.t, e.me(access), http.StatusUnauthorized, bearerBody(msgBlacklisted))
	want(e.t, e.verify(access), http.StatusBadRequest, bodyVerifyBlack)
}

// wantRevokedRefresh asserts that a refresh token is refused as
// blacklisted by refresh, verify and blacklist.
func (e *env) wantRevokedRefresh(refresh string) {
	e.t.Helper()
	want(e.t, e.refresh(refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	want(e.t, e.verify(refresh), http.StatusBadRequest, bodyVerifyBlack)
	want(e.t, e.blacklist(refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
}

// want checks status and body byte for byte, the JSON content type, and
// the Bearer challenge on every 401.
func want(t *testing.T, r resp, status int, body string) {
	t.Helper()
	wantStatus(t, r, status)
	if string(r.Body) != body {
		t.Errorf("body:\n got %s\nwant %s", r.Body, body)
	}
}

// wantStatus checks the status, the JSON content type, and the Bearer
// challenge on a 401 (and its absence otherwise).
func wantStatus(t *testing.T, r resp, status int) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status: got %d, want %d (body %s)", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	wa := r.Header.Get("WWW-Authenticate")
	if r.Status == http.StatusUnauthorized && wa != challenge {
		t.Errorf("WWW-Authenticate on 401: got %q, want %q", wa, challenge)
	}
	if r.Status != http.StatusUnauthorized && wa != "" {
		t.Errorf("WWW-Authenticate on %d: got %q, want none", r.Status, wa)
	}
	if !json.Valid(r.Body) {
		t.Errorf("body is not JSON: %q", r.Body)
	}
}

// jsonObject decodes a JSON object body.
func jsonObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not an object", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	return keys
}

// segment decodes part i (0 header, 1 payload) of a JWT.
func segment(t *testing.T, tok string, i int) []byte {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q: %d parts, want 3", tok, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("token segment %d: %v", i, err)
	}
	return b
}

// tokenClaims is a decoded payload (numbers as json.Number).
func tokenClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(segment(t, tok, 1)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return m
}

func intClaim(t *testing.T, c map[string]any, name string) int64 {
	t.Helper()
	n, ok := c[name].(json.Number)
	if !ok {
		t.Fatalf("claim %s = %#v, want an integer", name, c[name])
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("claim %s = %s, want an integer", name, n)
	}
	return i
}

func strClaim(t *testing.T, c map[string]any, name string) string {
	t.Helper()
	s, ok := c[name].(string)
	if !ok {
		t.Fatalf("claim %s = %#v, want a string", name, c[name])
	}
	return s
}

var hexJTI = regexp.MustCompile(`^[0-9a-f]{32}$`)

// forgeRaw signs header and payload (both raw JSON) by hand with HMAC.
func forgeRaw(key, header, payload string) string {
	var h func() hash.Hash
	switch {
	case strings.Contains(header, `"HS512"`):
		h = sha512.New
	default:
		h = sha256.New
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(h, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// forge signs claims with HS256 and SimpleJWT's header.
func forge(t *testing.T, key string, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return forgeRaw(key, `{"alg":"HS256","typ":"JWT"}`, string(b))
}

// simpleJWTClaims are the claims SimpleJWT writes (no sid), issued at now.
func simpleJWTClaims(typ string, userID any, now time.Time, life time.Duration) map[string]any {
	return map[string]any{
		"token_type": typ,
		"exp":        now.Add(life).Unix(),
		"iat":        now.Unix(),
		"jti":        newHexJTI(),
		"user_id":    userID,
	}
}

// newHexJTI returns a fresh 32-hex-digit jti, as uuid4().hex.
func newHexJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// barrierStore holds every IsBlacklisted call, once armed, until n callers
// are waiting (or a second has passed), so that n concurrent requests all
// pass their blacklist check before any of them writes: the write itself
// must then let only one through.
type barrierStore struct {
	jwtrevoke.Store
	n       int
	mu      sync.Mutex
	armed   bool
	arrived int
	release chan struct{}
}

func (s *barrierStore) arm(n int) {
	s.mu.Lock()
	s.n, s.armed, s.arrived, s.release = n, true, 0, make(chan struct{})
	s.mu.Unlock()
}

func (s *barrierStore) IsBlacklisted(ctx context.Context, jti string) (bool, error) {
	s.mu.Lock()
	armed, release := s.armed, s.release
	if armed {
		s.arrived++
		if s.arrived == s.n {
			close(s.release)
			s.armed = false
		}
	}
	s.mu.Unlock()
	black, err := s.Store.IsBlacklisted(ctx, jti) // look first, then wait
	if armed {
		select {
		case <-release:
		case <-time.After(time.Second):
		}
	}
	return black, err
}

func newBarrierEnv(t *testing.T, opts ...envOption) (*env, *barrierStore) {
	t.Helper()
	var bs *barrierStore
	opts = append(opts, withStore(func(m *memory.Store) jwtrevoke.Store {
		bs = &barrierStore{Store: m}
		return bs
	}))
	return newEnv(t, opts...), bs
}

// concurrently sends the same request n times at once, from plain
// goroutines (not parallel subtests, which -test.parallel would throttle
// below n and so deadlock a barrier), and returns the answers.
func (e *env) concurrently(n int, method, path, bearer, body string) []resp {
	e.t.Helper()
	out := make([]resp, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			res, err := e.srv.Client().Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			out[i], errs[i] = resp{Status: res.StatusCode, Header: res.Header, Body: b}, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}
