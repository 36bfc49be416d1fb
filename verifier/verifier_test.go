package verifier_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
	"github.com/jwtrevoke/jwtrevoke/verifier"
)

var cheap = &password.Hasher{Memory: 64, Time: 1, Threads: 1}

// tokensOnly hides the user methods of a store: the verifier gets a
// TokenStore and nothing else.
type tokensOnly struct{ jwtrevoke.TokenStore }

// authServer is a jwtrevoke server on a real HTTP listener whose service
// can be replaced (a restart with other keys) at the same URL.
type authServer struct {
	t     *testing.T
	store *memory.Store
	h     atomic.Pointer[httpapi.Handler]
	srv   *httptest.Server
}

func newAuthServer(t *testing.T, key string, previous ...jwtrevoke.KeySpec) *authServer {
	a := &authServer{t: t, store: memory.New()}
	a.restart(key, previous...)
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.h.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// restart replaces the server's service by one with key (and previous
// keys), over the same store.
func (a *authServer) restart(key string, previous ...jwtrevoke.KeySpec) *jwtrevoke.Service {
	a.t.Helper()
	s := jwtrevoke.DefaultSettings()
	s.Algorithm, s.SigningKey, s.PreviousKeys = "ES256", key, previous
	s.LoginRatePerIP, s.LoginRatePerAccount = jwtrevoke.Rate{}, jwtrevoke.Rate{}
	svc, err := jwtrevoke.New(a.t.Context(), a.store, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		a.t.Fatal(err)
	}
	a.h.Store(httpapi.New(svc, httpapi.Options{}))
	return svc
}

func (a *authServer) jwksURL() string { return a.srv.URL + "/.well-known/jwks.json" }

func (a *authServer) post(path, bearer string, body any) (int, map[string]string) {
	a.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]string{}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (a *authServer) login(email string) (access, refresh string) {
	a.t.Helper()
	code, out := a.post("/api/token/", "", map[string]string{"email": email, "password": "pw-" + email})
	if code != http.StatusOK {
		a.t.Fatalf("login: %d %v", code, out)
	}
	return out["access"], out["refresh"]
}

func (a *authServer) user(email string) {
	a.t.Helper()
	h, err := cheap.Hash("pw-" + email)
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.store.CreateUser(a.t.Context(), &jwtrevoke.User{Email: email, PasswordHash: h, IsActive: true}); err != nil {
		a.t.Fatal(err)
	}
}

func genKey(t *testing.T) string {
	t.Helper()
	priv, _, err := jwtrevoke.GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func publicOf(t *testing.T, private string) string {
	t.Helper()
	k, err := jwtrevoke.ParseKey("ES256", private)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func newVerifier(t *testing.T, url string, st jwtrevoke.TokenStore) *verifier.Verifier {
	t.Helper()
	v, err := verifier.New(t.Context(), verifier.Options{JWKURL: url, Store: tokensOnly{st}})
	if err != nil {
		t.Fatal(err)
	}
	go v.Run(t.Context())
	t.Cleanup(func() { _ = v.Close() })
	return v
}

func mustVerify(t *testing.T, v *verifier.Verifier, tok string) *jwtrevoke.Claims {
	t.Helper()
	c, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return c
}

func wantErr(t *testing.T, v *verifier.Verifier, tok string, want error) {
	t.Helper()
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, want) {
		t.Fatalf("Verify: got %v, want %v", err, want)
	}
}

func TestVerifyAndLogout(t *testing.T) {
	a := newAuthServer(t, genKey(t))
	a.user("a@x.io")
	v := newVerifier(t, a.jwksURL(), a.store)

	access, refresh := a.login("a@x.io")
	c := mustVerify(t, v, access)
	if c.Type != jwtrevoke.AccessToken || !c.HasUser || c.SessionID == "" {
		t.Fatalf("claims: %+v", c)
	}
	wantErr(t, v, refresh, jwtrevoke.ErrTokenWrongType)
	wantErr(t, v, "not.a.token", jwtrevoke.ErrTokenInvalid)

	// Another session of the same user stays valid after the logout.
	other, _ := a.login("a@x.io")

	if code, out := a.post("/api/logout/", access, map[string]string{"refresh": refresh}); code != http.StatusResetContent {
		t.Fatalf("logout: %d %v", code, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := v.Verify(t.Context(), access)
		if errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
			break
		}
		if err != nil {
			t.Fatalf("Verify after logout: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the logged-out access token is still accepted after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustVerify(t, v, other)
}

func TestLogoutAll(t *testing.T) {
	a := newAuthServer(t, genKey(t))
	a.user("a@x.io")
	v := newVerifier(t, a.jwksURL(), a.store)
	access, _ := a.login("a@x.io")
	mustVerify(t, v, access)
	if code, out := a.post("/api/logout/all/", access, nil); code/100 != 2 {
		t.Fatalf("logout all: %d %v", code, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !errors.Is(func() error { _, err := v.Verify(t.Context(), access); return err }(), jwtrevoke.ErrTokenBlacklisted) {
		if time.Now().After(deadline) {
			t.Fatal("still accepted after logout-all")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestForgedSameKID: a token signed by another key under the server's
// kid is refused, and so is one with an unknown kid, a none token, and an
// HS256 token keyed with the public key.
func TestForgedTokens(t *testing.T) {
	a := newAuthServer(t, genKey(t))
	a.user("a@x.io")
	v := newVerifier(t, a.jwksURL(), a.store)
	access, _ := a.login("a@x.io")
	mustVerify(t, v, access)

	parsed, _, err := jwt.NewParser().ParseUnverified(access, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	claims := parsed.Claims.(jwt.MapClaims)
	kid := parsed.Header["kid"].(string)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	forge := func(m jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(m, claims)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	wantErr(t, v, forge(jwt.SigningMethodES256, kid, other), jwtrevoke.ErrTokenInvalid)
	wantErr(t, v, forge(jwt.SigningMethodES256, "", other), jwtrevoke.ErrTokenInvalid)
	wantErr(t, v, forge(jwt.SigningMethodES256, "unknown-kid", other), jwtrevoke.ErrTokenInvalid)
	pubDER, _ := x509.MarshalPKIXPublicKey(v.Keys()[0].Public())
	wantErr(t, v, forge(jwt.SigningMethodHS256, kid, pubDER), jwtrevoke.ErrTokenInvalid)
	wantErr(t, v, forge(jwt.SigningMethodNone, kid, jwt.UnsafeAllowNoneSignatureType), jwtrevoke.ErrTokenInvalid)
}

// TestKeyRotation: the server restarts with a new key, keeping the old
// one as a previous key; the verifier fetches the JWKS again on the new
// kid, and tokens of both keys verify.
func TestKeyRotation(t *testing.T) {
	oldKey, newKey := genKey(t), genKey(t)
	a := newAuthServer(t, oldKey)
	a.user("a@x.io")
	v := newVerifier(t, a.jwksURL(), a.store) // RefreshInterval 5m: only the unknown kid triggers a fetch
	oldAccess, _ := a.login("a@x.io")
	mustVerify(t, v, oldAccess)

	svc := a.restart(newKey, jwtrevoke.KeySpec{Algorithm: "ES256", Material: publicOf(t, oldKey)})
	newAccess, _ := a.login("a@x.io")
	if headerKID(t, newAccess) != svc.Keys()[0].ID || headerKID(t, newAccess) == headerKID(t, oldAccess) {
		t.Fatal("the new token is not signed with the new key")
	}
	mustVerify(t, v, newAccess)
	mustVerify(t, v, oldAccess)
	if len(v.Keys()) != 2 {
		t.Fatalf("keys: %d", len(v.Keys()))
	}

	// Retire the old key: the next refresh drops it.
	a.restart(newKey)
	if err := v.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, v, newAccess)
	// The old kid is unknown again, but a fetch for it happened less than
	// 30s ago: refused without a fetch.
	wantErr(t, v, oldAccess, jwtrevoke.ErrTokenInvalid)
}

// TestUnknownKIDFetchIsRateLimited: tokens with unknown kids cause at most
// one fetch per UnknownKeyRefetch.
func TestUnknownKIDFetchIsRateLimited(t *testing.T) {
	a := newAuthServer(t, genKey(t))
	var fetches atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		a.h.Load().ServeHTTP(w, r)
	}))
	defer jwks.Close()
	v := newVerifier(t, jwks.URL+"/.well-known/jwks.json", a.store)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for i := range 20 {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"token_type": "access", "exp": time.Now().Add(time.Minute).Unix(), "jti": "x", "user_id": 1})
		tok.Header["kid"] = "kid-" + string(rune('a'+i))
		s, _ := tok.SignedString(other)
		wantErr(t, v, s, jwtrevoke.ErrTokenInvalid)
	}
	if n := fetches.Load(); n != 2 { // New, then one for the unknown kids
		t.Fatalf("%d fetches, want 2", n)
	}
}

// TestJWKSDownKeepsKeys: when the JWKS server goes away, refreshes fail
// and the last good keys stay in use.
func TestJWKSDownKeepsKeys(t *testing.T) {
	a := newAuthServer(t, genKey(t))
	a.user("a@x.io")
	var down atomic.Bool
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		a.h.Load().ServeHTTP(w, r)
	}))
	v, err := verifier.New(t.Context(), verifier.Options{
		JWKURL: jwks.URL + "/.well-known/jwks.json", Store: tokensOnly{a.store},
		RefreshInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	go v.Run(t.Context())
	defer v.Close()
	access, _ := a.login("a@x.io")
	mustVerify(t, v, access)

	down.Store(true)
	if err := v.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh succeeded against a failing JWKS")
	}
	jwks.Close() // now the listener is gone too
	if err := v.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh succeeded against a closed JWKS")
	}
	time.Sleep(100 * time.Millisecond) // a few periodic refreshes fail
	mustVerify(t, v, access)
	if len(v.Keys()) != 1 {
		t.Fatalf("keys: %d", len(v.Keys()))
	}
}

func headerKID(t *testing.T, tok string) string {
	t.Helper()
	p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := p.Header["kid"].(string)
	return kid
}

func jwksOf(t *testing.T, keys ...any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func goodJWK(t *testing.T) (jose.JSONWebKey, *ecdsa.PrivateKey) {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k, err := jwtrevoke.PublicKey("ES256", &priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: &priv.PublicKey, KeyID: k.ID, Algorithm: "ES256", Use: "sig"}, priv
}

// TestBadJWKSRefused: a JWKS with an unfit key is refused whole, at New
// and at a refresh (which keeps the previous keys).
func TestBadJWKSRefused(t *testing.T) {
	good, priv := goodJWK(t)
	wrongKID := good
	wrongKID.KeyID = "not-the-thumbprint"
	noAlg := good
	noAlg.Algorithm = ""
	noKID := good
	noKID.KeyID = ""
	wrongAlg := good
	wrongAlg.Algorithm = "ES384"
	encUse := good
	encUse.Use = "enc"
	hsAlg := good
	hsAlg.Algorithm = "HS256"
	private := good
	private.Key = priv
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edKey, _ := jwtrevoke.PublicKey("EdDSA", edPriv.Public())
	edAsES := jose.JSONWebKey{Key: edPriv.Public(), KeyID: edKey.ID, Algorithm: "ES256"}
	oct := map[string]string{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQ", "alg": "HS256", "kid": "x"}

	cases := map[string][]byte{
		"Oct":           jwksOf(t, good, oct),
		"KIDMismatch":   jwksOf(t, good, wrongKID),
		"NoAlg":         jwksOf(t, noAlg),
		"NoKID":         jwksOf(t, noKID),
		"WrongCurveAlg": jwksOf(t, wrongAlg),
		"EncUse":        jwksOf(t, encUse),
		"HMACAlg":       jwksOf(t, hsAlg),
		"PrivateKey":    jwksOf(t, private),
		"KeyTypeAlg":    jwksOf(t, edAsES),
		"Empty":         jwksOf(t),
		"NotJSON":       []byte("<html>"),
	}
	var body atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(*body.Load())
	}))
	defer srv.Close()
	st := memory.New()
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := verifier.ParseJWKS(b); err == nil {
				t.Fatal("ParseJWKS accepted it")
			}
			body.Store(&b)
			if _, err := verifier.New(t.Context(), verifier.Options{JWKURL: srv.URL, Store: st}); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}

	// Refresh to a bad set keeps the good one.
	ok := jwksOf(t, good)
	body.Store(&ok)
	v, err := verifier.New(t.Context(), verifier.Options{JWKURL: srv.URL, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	bad := cases["Oct"]
	body.Store(&bad)
	if err := v.Refresh(t.Context()); err == nil || !strings.Contains(err.Error(), "oct") {
		t.Fatalf("Refresh: %v", err)
	}
	if ks := v.Keys(); len(ks) != 1 || ks[0].ID != good.KeyID {
		t.Fatalf("keys after a refused refresh: %v", ks)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := verifier.New(t.Context(), verifier.Options{Store: memory.New()}); err == nil {
		t.Fatal("no JWKURL accepted")
	}
	if _, err := verifier.New(t.Context(), verifier.Options{JWKURL: "http://127.0.0.1:1/"}); err == nil {
		t.Fatal("no Store accepted")
	}
	if _, err := verifier.New(t.Context(), verifier.Options{JWKURL: "http://127.0.0.1:1/", Store: memory.New()}); err == nil {
		t.Fatal("unreachable JWKS accepted")
	}
}

// TestStaleWithoutRun: without Run nothing reloads revocations, and in
// fail-closed mode the verifier refuses once its view is too old.
func TestStaleWithoutRun(t *testing.T) {
	a := newAuthServer(t, genKey(t))
	a.user("a@x.io")
	s := jwtrevoke.DefaultSettings()
	s.RevocationPollInterval, s.RevocationMaxStaleness = 10*time.Millisecond, 50*time.Millisecond
	v, err := verifier.New(t.Context(), verifier.Options{JWKURL: a.jwksURL(), Store: tokensOnly{a.store}, Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	access, _ := a.login("a@x.io")
	time.Sleep(100 * time.Millisecond)
	wantErr(t, v, access, jwtrevoke.ErrRevocationsStale)
	go v.Run(t.Context())
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := v.Verify(t.Context(), access); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still stale with Run")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
