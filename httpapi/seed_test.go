package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The seed's walkthrough (SEED_TRANSCRIPT.txt section A), row by row, with
// the one deliberate difference: after logout the access tokens of the
// session are refused at once.
func TestSeedWalkthrough(t *testing.T) {
	e := newEnv(t)

	// log in at the walkthrough's path
	r := e.post("/api/auth/token/", "", `{"email": "test@email.com", "password": "test123456"}`)
	wantStatus(t, r, http.StatusOK)
	if got, w := objectKeys(t, r.Body), []string{"refresh", "access"}; !slices.Equal(got, w) {
		t.Fatalf("obtain keys: got %v, want %v", got, w)
	}
	p := decodePair(t, r)

	// and at api/token/: another session
	other := e.MustLogin(userEmail, userPass)

	steps := []struct {
		name   string
		do     func() resp
		status int
		body   string // "" means: check only the keys below
		keys   []string
	}{
		{"Me", func() resp { return e.me(p.Access) }, 200, `{"id":1,"email":"test@email.com"}`, nil},
		{"Refresh", func() resp { return e.refresh(p.Refresh) }, 200, "", []string{"access"}},
		{"VerifyAccess", func() resp { return e.verify(p.Access) }, 200, bodyEmpty, nil},
		{"VerifyRefresh", func() resp { return e.verify(p.Refresh) }, 200, bodyEmpty, nil},
		{"VerifyGarbage", func() resp { return e.verify("not-a-token") }, 401, tokenBody(msgInvalid), nil},
		{"VerifyMissingField", func() resp { return e.post("/api/token/verify/", "", `{}`) }, 400, `{"token":["This field is required."]}`, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := s.do()
			if s.body != "" {
				want(t, r, s.status, s.body)
				return
			}
			wantStatus(t, r, s.status)
			if got := objectKeys(t, r.Body); !slices.Equal(got, s.keys) {
				t.Errorf("keys: got %v, want %v", got, s.keys)
			}
		})
	}

	// an access token minted by refresh before the logout
	access2 := e.mustRefresh(p.Refresh).Access
	e.wantMe(access2, userEmail)

	t.Run("Logout", func(t *testing.T) {
		want(t, e.logout(p.Access, p.Refresh), http.StatusResetContent, bodyLogoutOK)
	})
	after := []struct {
		name   string
		do     func() resp
		status int
		body   string
	}{
		{"RefreshAfterLogout", func() resp { return e.refresh(p.Refresh) }, 401, tokenBody(msgBlacklisted)},
		// THE GAP, closed: the seed answered 200 to the next three.
		{"LoggedOutAccessOnMe", func() resp { return e.me(p.Access) }, 401, bearerBody(msgBlacklisted)},
		{"RefreshedAccessOnMe", func() resp { return e.me(access2) }, 401, bearerBody(msgBlacklisted)},
		{"VerifyLoggedOutAccess", func() resp { return e.verify(p.Access) }, 400, bodyVerifyBlack},
		{"VerifyRefreshedAccess", func() resp { return e.verify(access2) }, 400, bodyVerifyBlack},
		{"VerifyBlacklistedRefresh", func() resp { return e.verify(p.Refresh) }, 400, bodyVerifyBlack},
		// The seed's logout again used the (still valid) access token; ours
		// is revoked, so Bearer authentication refuses it first.
		{"LogoutAgainSameAccess", func() resp { return e.logout(p.Access, p.Refresh) }, 401, bearerBody(msgBlacklisted)},
		{"LogoutAgainOtherSession", func() resp { return e.logout(other.Access, p.Refresh) }, 400, logoutBody(msgBlacklisted)},
		{"BlacklistAfterLogout", func() resp { return e.blacklist(p.Refresh) }, 401, tokenBody(msgBlacklisted)},
	}
	for _, s := range after {
		t.Run(s.name, func(t *testing.T) { want(t, s.do(), s.status, s.body) })
	}

	t.Run("OtherSessionUnaffected", func(t *testing.T) {
		e.wantMe(other.Access, userEmail)
		e.wantMe(e.mustRefresh(other.Refresh).Access, userEmail)
	})
}

// The headers every DRF answer carries, and the Allow header of each view.
// Answers carrying a message also vary with Accept-Language (as Django's
// LocaleMiddleware makes them), since the message is translated.
func TestSeedHeaders(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	const varyLang = "Accept, Accept-Language"
	cases := []struct {
		name  string
		r     resp
		allow string
		vary  string
	}{
		{"Obtain", e.post("/api/token/", "", map[string]string{"email": userEmail, "password": userPass}), "POST, OPTIONS", "Accept"},
		{"Refresh", e.refresh(p.Refresh), "POST, OPTIONS", "Accept"},
		{"Verify", e.verify(p.Access), "POST, OPTIONS", "Accept"},
		{"Me", e.me(p.Access), "GET, HEAD, OPTIONS", "Accept"},
		{"MeUnauthenticated", e.me(""), "GET, HEAD, OPTIONS", varyLang},
		{"GetOnObtain", e.do(http.MethodGet, "/api/token/", "", "", ""), "POST, OPTIONS", varyLang},
		{"Logout", e.logout(p.Access, p.Refresh), "POST, OPTIONS", varyLang},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.r.Header
			for name, w := range map[string]string{
				"Content-Type":           "application/json",
				"Allow":                  c.allow,
				"Vary":                   c.vary,
				"X-Frame-Options":        "DENY",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer", // Django's SecurityMiddleware sends same-origin

			} {
				if got := h.Get(name); got != w {
					t.Errorf("%s: got %q, want %q", name, got, w)
				}
			}
		})
	}
}

// Section A's tokens, signed by the seed with the reference key, are
// standard HS256 JWTs, and our service accepts them (and SimpleJWT's
// payload, which has no sid claim) when it shares the key.
func TestSeedReferenceTokens(t *testing.T) {
	const (
		refAccess  = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1MzQzMzU2LCJpYXQiOjE3OTUzNDMwNTYsImp0aSI6Ijg4ODVlZWM4ODZhNDQ5ZmI5NGM5MzY2OTAxZWNkNTc2IiwidXNlcl9pZCI6MX0.xbZUm7_IwD1aqRvL9oMRDqXDyO_JfZCzgXaxS8g_bgg"
		refRefresh = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc5NTQyOTQ1NiwiaWF0IjoxNzk1MzQzMDU2LCJqdGkiOiJhOGM1MTgyNjA4NzQ0ZjljOGYxY2Q0ODU1ZjNmODQyZSIsInVzZXJfaWQiOjF9.UgcHpumtWcOj310NMYJ7-VpxHhYN1TtlewfaPOjagk8"
		refIat     = 1795343056
	)

	t.Run("GolangJWTVerifiesThem", func(t *testing.T) {
		for name, tok := range map[string]string{"access": refAccess, "refresh": refRefresh} {
			parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(refKey), nil },
				jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())
			if err != nil || !parsed.Valid {
				t.Fatalf("%s: parse with the reference key: %v", name, err)
			}
			if got := parsed.Claims.(jwt.MapClaims)["token_type"]; got != name {
				t.Errorf("%s: token_type %v", name, got)
			}
			if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(testKey), nil },
				jwt.WithoutClaimsValidation()); err == nil {
				t.Errorf("%s: verified with another key", name)
			}
		}
	})

	t.Run("ServiceAcceptsThemAtTheirTime", func(t *testing.T) {
		clk := newClock(time.Unix(refIat+1, 0))
		e := newEnv(t, withKey(refKey), withClock(clk))
		e.wantMe(refAccess, userEmail)
		want(t, e.verify(refAccess), http.StatusOK, bodyEmpty)
		want(t, e.verify(refRefresh), http.StatusOK, bodyEmpty)

		// A refresh copies iat (and user_id) from SimpleJWT's refresh token.
		minted := e.mustRefresh(refRefresh).Access
		c := tokenClaims(t, minted)
		if got := intClaim(t, c, "iat"); got != refIat {
			t.Errorf("minted iat: got %d, want %d", got, refIat)
		}
		if got, w := intClaim(t, c, "exp"), clk.Now().Unix()+300; got != w {
			t.Errorf("minted exp: got %d, want %d", got, w)
		}
		if got := intClaim(t, c, "user_id"); got != 1 {
			t.Errorf("minted user_id: got %d, want 1", got)
		}
		e.wantMe(minted, userEmail)

		// Logging out with SimpleJWT's pair revokes both, and the access
		// token minted from the refresh token.
		want(t, e.logout(refAccess, refRefresh), http.StatusResetContent, bodyLogoutOK)
		e.wantRevokedRefresh(refRefresh)
		e.wantRevokedAccess(refAccess)
		e.wantRevokedAccess(minted)

		// And they expire at their exp, with our clock.
		clk.Set(time.Unix(1795343356, 0))
		want(t, e.verify(refAccess), http.StatusUnauthorized, tokenBody(msgInvalid))
	})

	t.Run("SimpleJWTPayloadNow", func(t *testing.T) {
		e := newEnv(t, withKey(refKey))
		now := time.Now()
		access := forge(t, refKey, simpleJWTClaims("access", 1, now, 5*time.Minute))
		refresh := forge(t, refKey, simpleJWTClaims("refresh", 1, now, 24*time.Hour))
		if _, ok := tokenClaims(t, access)["sid"]; ok {
			t.Fatal("forged SimpleJWT token has a sid claim")
		}
		e.wantMe(access, userEmail)
		e.wantMe(e.mustRefresh(refresh).Access, userEmail)
	})
}

// Section H: expiry, driven by the service's clock (no sleeping).
func TestSeedExpiry(t *testing.T) {
	start := time.Unix(time.Now().Unix(), 0)
	clk := newClock(start)
	e := newEnv(t, withClock(clk))
	p := e.MustLogin(userEmail, userPass)
	accessExp := intClaim(t, tokenClaims(t, p.Access), "exp")
	refreshExp := intClaim(t, tokenClaims(t, p.Refresh), "exp")
	if accessExp != start.Unix()+300 || refreshExp != start.Unix()+86400 {
		t.Fatalf("exp: access %d refresh %d, want %d and %d", accessExp, refreshExp, start.Unix()+300, start.Unix()+86400)
	}

	clk.Set(time.Unix(accessExp-1, 0))
	e.wantMe(p.Access, userEmail)

	// A token is expired from its exp second on, with no leeway.
	clk.Set(time.Unix(accessExp, 0))
	want(t, e.me(p.Access), http.StatusUnauthorized, bearerBody(msgInvalid))
	want(t, e.verify(p.Access), http.StatusUnauthorized, tokenBody(msgInvalid))

	// The refresh token still works; the minted access token keeps the
	// refresh token's iat and expires 300 s after the refresh.
	a2 := e.mustRefresh(p.Refresh).Access
	c := tokenClaims(t, a2)
	if got := intClaim(t, c, "iat"); got != start.Unix() {
		t.Errorf("refreshed iat: got %d, want %d", got, start.Unix())
	}
	if got := intClaim(t, c, "exp"); got != accessExp+300 {
		t.Errorf("refreshed exp: got %d, want %d", got, accessExp+300)
	}
	e.wantMe(a2, userEmail)

	clk.Set(time.Unix(refreshExp, 0))
	fresh := e.MustLogin(userEmail, userPass) // a bearer that is still valid
	want(t, e.refresh(p.Refresh), http.StatusUnauthorized, tokenBody(msgInvalid))
	want(t, e.logout(fresh.Access, p.Refresh), http.StatusBadRequest, logoutBody(msgInvalid))
	want(t, e.blacklist(p.Refresh), http.StatusUnauthorized, tokenBody(msgInvalid))
	want(t, e.verify(p.Refresh), http.StatusUnauthorized, tokenBody(msgInvalid))
	e.wantMe(fresh.Access, userEmail)
}
