package jwtrevoke_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

const testKey = "0123456789abcdef0123456789abcdef-service-test"

// cheap keeps the tests fast; the server uses password.Default().
var cheap = &password.Hasher{Memory: 64, Time: 1, Threads: 1}

func mustService(t *testing.T, st jwtrevoke.Store, mod ...func(*jwtrevoke.Settings)) *jwtrevoke.Service {
	t.Helper()
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = testKey
	for _, m := range mod {
		m(&s)
	}
	svc, err := jwtrevoke.New(t.Context(), st, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func mustUser(t *testing.T, svc *jwtrevoke.Service, email string) *jwtrevoke.User {
	t.Helper()
	u, err := svc.CreateUser(t.Context(), email, "pw-"+email, false)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustLogin(t *testing.T, svc *jwtrevoke.Service, email string) jwtrevoke.TokenPair {
	t.Helper()
	p, err := svc.Obtain(t.Context(), email, "pw-"+email, jwtrevoke.ClientInfo{IP: "127.0.0.1", UserAgent: "test"})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return p
}

func mustAuth(t *testing.T, svc *jwtrevoke.Service, access string) *jwtrevoke.Claims {
	t.Helper()
	_, c, err := svc.Authenticate(t.Context(), access)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return c
}

func wantRevoked(t *testing.T, svc *jwtrevoke.Service, access string) {
	t.Helper()
	if _, _, err := svc.Authenticate(t.Context(), access); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
		t.Fatalf("authenticate revoked token: err=%v, want %v", err, jwtrevoke.ErrTokenBlacklisted)
	}
}

func TestGeneratedSigningKeyIsKept(t *testing.T) {
	st := memory.New()
	s := jwtrevoke.DefaultSettings() // no SigningKey
	a, err := jwtrevoke.New(t.Context(), st, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, a, "a@x.io")
	p := mustLogin(t, a, "a@x.io")
	b, err := jwtrevoke.New(t.Context(), st, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, p.Access)
	other, err := jwtrevoke.New(t.Context(), memory.New(), s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Authenticate(t.Context(), p.Access); !errors.Is(err, jwtrevoke.ErrTokenInvalid) {
		t.Fatalf("a store with another generated key accepted the token: %v", err)
	}
}

func TestRevocationsLoadedAtStart(t *testing.T) {
	st := memory.New()
	a := mustService(t, st)
	mustUser(t, a, "a@x.io")
	p := mustLogin(t, a, "a@x.io")
	c := mustAuth(t, a, p.Access)
	if err := a.Logout(t.Context(), c, p.Refresh); err != nil {
		t.Fatal(err)
	}
	b := mustService(t, st)
	if b.RevocationCount() == 0 {
		t.Fatal("no revocation loaded at start")
	}
	wantRevoked(t, b, p.Access)
}

func TestSyncLoadsOtherInstancesRevocations(t *testing.T) {
	st := memory.New()
	a, b := mustService(t, st), mustService(t, st)
	mustUser(t, a, "a@x.io")
	p := mustLogin(t, a, "a@x.io")
	if err := b.Blacklist(t.Context(), p.Refresh); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, b, p.Access)
	n, err := a.Sync(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("Sync = %d, %v; want 1 revocation", n, err)
	}
	wantRevoked(t, a, p.Access)
	if n, _ := a.Sync(t.Context()); n != 0 {
		t.Fatalf("second Sync loaded %d again", n)
	}
}

func TestLogoutRevokesOnlyItsSession(t *testing.T) {
	svc := mustService(t, memory.New())
	mustUser(t, svc, "a@x.io")
	s1, s2 := mustLogin(t, svc, "a@x.io"), mustLogin(t, svc, "a@x.io")
	r1, err := svc.Refresh(t.Context(), s1.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := mustAuth(t, svc, s1.Access), mustAuth(t, svc, s2.Access)
	if c1.SessionID == "" || c1.SessionID == c2.SessionID {
		t.Fatalf("sessions %q and %q: want distinct non-empty sid claims", c1.SessionID, c2.SessionID)
	}
	if got := mustAuth(t, svc, r1.Access).SessionID; got != c1.SessionID {
		t.Fatalf("refreshed access sid %q, want %q", got, c1.SessionID)
	}
	if err := svc.Logout(t.Context(), c1, s1.Refresh); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, svc, s1.Access)
	wantRevoked(t, svc, r1.Access)
	mustAuth(t, svc, s2.Access)
	if _, err := svc.Refresh(t.Context(), s2.Refresh); err != nil {
		t.Fatalf("other session's refresh: %v", err)
	}
	if err := svc.Logout(t.Context(), c2, s1.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
		t.Fatalf("logout with a blacklisted refresh: %v", err)
	}
}

func TestLogoutWithForeignTokenRevokesNothing(t *testing.T) {
	svc := mustService(t, memory.New())
	mustUser(t, svc, "a@x.io")
	mustUser(t, svc, "b@x.io")
	a, b := mustLogin(t, svc, "a@x.io"), mustLogin(t, svc, "b@x.io")
	if err := svc.Logout(t.Context(), mustAuth(t, svc, a.Access), b.Refresh); !errors.Is(err, jwtrevoke.ErrForeignToken) {
		t.Fatalf("err=%v, want ErrForeignToken", err)
	}
	mustAuth(t, svc, a.Access)
	mustAuth(t, svc, b.Access)
	if _, err := svc.Refresh(t.Context(), b.Refresh); err != nil {
		t.Fatalf("b's refresh after the refused logout: %v", err)
	}
}

func TestLogoutWithOtherSessionsRefreshRevokesCaller(t *testing.T) {
	svc := mustService(t, memory.New())
	mustUser(t, svc, "a@x.io")
	s1, s2 := mustLogin(t, svc, "a@x.io"), mustLogin(t, svc, "a@x.io")
	if err := svc.Logout(t.Context(), mustAuth(t, svc, s2.Access), s1.Refresh); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, svc, s1.Access)
	wantRevoked(t, svc, s2.Access) // the token that called logout
	if _, err := svc.Refresh(t.Context(), s2.Refresh); err != nil {
		t.Fatalf("session 2's refresh token: %v", err)
	}
}

// signForeign makes a token as SimpleJWT would: no sid claim.
func signForeign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestLogoutAll(t *testing.T) {
	svc := mustService(t, memory.New())
	u := mustUser(t, svc, "a@x.io")
	mustUser(t, svc, "b@x.io")
	s1, s2, other := mustLogin(t, svc, "a@x.io"), mustLogin(t, svc, "a@x.io"), mustLogin(t, svc, "b@x.io")
	now := time.Now().Unix()
	foreign := signForeign(t, jwt.MapClaims{"token_type": "access", "exp": now + 300, "iat": now - 10,
		"jti": "0123456789abcdef0123456789abcdef", "user_id": u.ID})
	mustAuth(t, svc, foreign)
	if err := svc.LogoutAll(t.Context(), mustAuth(t, svc, s1.Access)); err != nil {
		t.Fatal(err)
	}
	for i, a := range []string{s1.Access, s2.Access, foreign} {
		if _, _, err := svc.Authenticate(t.Context(), a); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
			t.Fatalf("token %d after logout-all: %v", i, err)
		}
	}
	for i, r := range []string{s1.Refresh, s2.Refresh} {
		if _, err := svc.Refresh(t.Context(), r); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
			t.Fatalf("refresh %d after logout-all: %v", i, err)
		}
	}
	mustAuth(t, svc, other.Access)
	fresh := mustLogin(t, svc, "a@x.io") // same second as the logout-all
	mustAuth(t, svc, fresh.Access)
	if _, err := svc.Refresh(t.Context(), fresh.Refresh); err != nil {
		t.Fatalf("new session's refresh: %v", err)
	}
}

func TestRotation(t *testing.T) {
	svc := mustService(t, memory.New(), func(s *jwtrevoke.Settings) { s.RotateRefreshTokens = true })
	mustUser(t, svc, "a@x.io")
	p := mustLogin(t, svc, "a@x.io")
	r1, err := svc.Refresh(t.Context(), p.Refresh)
	if err != nil || r1.Refresh == "" {
		t.Fatalf("rotate: %v (refresh %q)", err, r1.Refresh)
	}
	r2, err := svc.Refresh(t.Context(), r1.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	c := mustAuth(t, svc, r2.Access)
	if c.SessionID != mustAuth(t, svc, p.Access).SessionID {
		t.Fatal("rotation changed the session id")
	}
	if err := svc.Logout(t.Context(), c, r2.Refresh); err != nil {
		t.Fatal(err)
	}
	for i, a := range []string{p.Access, r1.Access, r2.Access} {
		wantRevoked(t, svc, a)
		_ = i
	}
}

func TestRefreshRefusesInactiveAndDeletedUsers(t *testing.T) {
	st := memory.New()
	svc := mustService(t, st)
	u := mustUser(t, svc, "a@x.io")
	p := mustLogin(t, svc, "a@x.io")
	u.IsActive = false
	if err := st.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Refresh(t.Context(), p.Refresh); !errors.Is(err, jwtrevoke.ErrUserInactive) {
		t.Fatalf("refresh of inactive user: %v", err)
	}
	if _, _, err := svc.Authenticate(t.Context(), p.Access); !errors.Is(err, jwtrevoke.ErrUserInactive) {
		t.Fatalf("access of inactive user: %v", err)
	}
	if _, err := svc.Obtain(t.Context(), "a@x.io", "pw-a@x.io", jwtrevoke.ClientInfo{}); !errors.Is(err, jwtrevoke.ErrNoActiveAccount) {
		t.Fatalf("login of inactive user: %v", err)
	}
	now := time.Now().Unix()
	ghost := signForeign(t, jwt.MapClaims{"token_type": "refresh", "exp": now + 300, "iat": now,
		"jti": "ffffffffffffffffffffffffffffffff", "user_id": 999})
	if _, err := svc.Refresh(t.Context(), ghost); !errors.Is(err, jwtrevoke.ErrUserNotFound) {
		t.Fatalf("refresh of deleted user: %v", err)
	}
}

// TestDjangoHashRehashedOnLogin imports a user with a Django pbkdf2_sha256
// hash (made with Python's hashlib: pbkdf2_hmac("sha256", b"django-pass",
// b"seasalt123", 1000, 32)) and checks the first login moves it to argon2id.
func TestDjangoHashRehashedOnLogin(t *testing.T) {
	st := memory.New()
	svc := mustService(t, st)
	u := &jwtrevoke.User{Email: "dj@x.io", IsActive: true, DateJoined: time.Now(),
		PasswordHash: "pbkdf2_sha256$1000$seasalt123$DBgLsOXD0F2YQAp7dGqYP0uyNo18lcDqs6fZ5sNzAiE="}
	if err := st.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Obtain(t.Context(), "dj@x.io", "wrong", jwtrevoke.ClientInfo{}); !errors.Is(err, jwtrevoke.ErrNoActiveAccount) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := svc.Obtain(t.Context(), "DJ@x.io", "django-pass", jwtrevoke.ClientInfo{}); err != nil {
		t.Fatalf("login with the Django password: %v", err)
	}
	got, err := st.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.PasswordHash, "argon2$argon2id$") {
		t.Fatalf("hash after login %q, want argon2id", got.PasswordHash)
	}
	if _, err := svc.Obtain(t.Context(), "dj@x.io", "django-pass", jwtrevoke.ClientInfo{}); err != nil {
		t.Fatalf("login after rehash: %v", err)
	}
}

func TestSettingsValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*jwtrevoke.Settings)
		want string
	}{
		{"UnknownAlgorithm", func(s *jwtrevoke.Settings) { s.Algorithm = "none" }, "ALGORITHM"},
		{"ShortHS256Key", func(s *jwtrevoke.Settings) { s.SigningKey = strings.Repeat("k", 31) }, "SIGNING_KEY"},
		{"ShortHS512Key", func(s *jwtrevoke.Settings) { s.Algorithm = "HS512"; s.SigningKey = strings.Repeat("k", 63) }, "SIGNING_KEY"},
		{"ZeroLifetime", func(s *jwtrevoke.Settings) { s.AccessTokenLifetime = 0 }, "ACCESS_TOKEN_LIFETIME"},
		{"NoHeaderTypes", func(s *jwtrevoke.Settings) { s.AuthHeaderTypes = nil }, "AUTH_HEADER_TYPES"},
		{"NegativeLoginRate", func(s *jwtrevoke.Settings) { s.LoginRatePerIP = jwtrevoke.Rate{N: -1, Per: time.Minute} }, "LOGIN_RATE_PER_IP"},
		{"LoginRateWithoutPeriod", func(s *jwtrevoke.Settings) { s.LoginRatePerAccount = jwtrevoke.Rate{N: 5} }, "LOGIN_RATE_PER_ACCOUNT"},
		{"InvalidTrustedProxy", func(s *jwtrevoke.Settings) { s.TrustedProxies = []netip.Prefix{{}} }, "TRUSTED_PROXIES"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := jwtrevoke.DefaultSettings()
			c.mod(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, c.want)
			}
			if _, err := jwtrevoke.New(context.Background(), memory.New(), s, jwtrevoke.Options{Hasher: cheap}); err == nil {
				t.Fatal("New accepted invalid settings")
			}
		})
	}
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = strings.Repeat("k", 32)
	if err := s.Validate(); err != nil {
		t.Fatalf("defaults with a 32-byte key: %v", err)
	}
}

// TestLogoutOfSimpleJWTSession: tokens issued by SimpleJWT (no sid) are
// tied by user and iat, as SimpleJWT's refreshed access tokens copy iat;
// logging out with the refresh token revokes its access tokens too.
func TestLogoutOfSimpleJWTSession(t *testing.T) {
	svc := mustService(t, memory.New())
	u := mustUser(t, svc, "a@x.io")
	now := time.Now().Unix()
	refresh := signForeign(t, jwt.MapClaims{"token_type": "refresh", "exp": now + 3600, "iat": now - 5,
		"jti": "a8c5182608744f9c8f1cd4855f3f842e", "user_id": u.ID})
	access := signForeign(t, jwt.MapClaims{"token_type": "access", "exp": now + 300, "iat": now - 5,
		"jti": "8885eec886a449fb94c9366901ecd576", "user_id": u.ID})
	other := signForeign(t, jwt.MapClaims{"token_type": "access", "exp": now + 300, "iat": now - 60,
		"jti": "9995eec886a449fb94c9366901ecd576", "user_id": u.ID})
	minted, err := svc.Refresh(t.Context(), refresh)
	if err != nil {
		t.Fatal(err)
	}
	caller := mustAuth(t, svc, access)
	if err := svc.Logout(t.Context(), caller, refresh); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, svc, access)
	wantRevoked(t, svc, minted.Access)
	mustAuth(t, svc, other) // another SimpleJWT session of the user
}
