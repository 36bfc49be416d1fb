package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The "Bearer authentication" table of SEED_BEHAVIOUR.md, on /api/me/
// and on /api/logout/ (both need a valid access token).
func TestBearerHeaderMatrix(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	cases := []struct {
		name   string
		header string // "" sends no Authorization header
		status int
		body   string
	}{
		{"NoHeader", "", 401, bodyNoCredentials},
		{"LowerCaseBearer", "bearer " + p.Access, 401, bodyNoCredentials},
		{"JWTScheme", "JWT " + p.Access, 401, bodyNoCredentials},
		{"TokenScheme", "Token " + p.Access, 401, bodyNoCredentials},
		{"BasicScheme", "Basic dXNlcjpwYXNz", 401, bodyNoCredentials},
		{"ThreeParts", "Bearer " + p.Access + " extra", 401, bodyBadHeader},
		{"BearerAlone", "Bearer", 401, bodyBadHeader},
		{"RefreshAsBearer", "Bearer " + p.Refresh, 401, bearerBody(msgWrongType)},
		{"Garbage", "Bearer not-a-token", 401, bearerBody(msgInvalid)},
		{"Valid", "Bearer " + p.Access, 200, `{"id":1,"email":"test@email.com"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.header != "" {
				hdr = []string{"Authorization", c.header}
			}
			want(t, e.request(http.MethodGet, "/api/me/", nil, hdr...), c.status, c.body)
			if c.status == http.StatusOK {
				return
			}
			// Logout refuses the same way, and revokes nothing.
			hdr = append(hdr, "Content-Type", "application/json")
			r := e.request(http.MethodPost, "/api/logout/", strings.NewReader(`{"refresh":"`+p.Refresh+`"}`), hdr...)
			want(t, r, c.status, c.body)
		})
	}
	// None of the refused logouts revoked anything.
	e.wantMe(p.Access, userEmail)
	e.wantMe(e.mustRefresh(p.Refresh).Access, userEmail)
}

// Forged and odd tokens, signed with the service's key unless the case
// says otherwise (SEED_BEHAVIOUR.md, Bearer table and section G).
func TestBearerForgedTokens(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	access := func(mod func(map[string]any)) string {
		c := simpleJWTClaims("access", 1, now, 5*time.Minute)
		if mod != nil {
			mod(c)
		}
		return forge(t, testKey, c)
	}
	valid := access(nil)
	parts := strings.Split(valid, ".")
	enc := base64.RawURLEncoding

	tamperedPayload := func() string {
		c := simpleJWTClaims("access", 2, now, 5*time.Minute)
		other := strings.Split(forge(t, testKey, c), ".")
		return parts[0] + "." + other[1] + "." + parts[2]
	}()
	tamperedSig := func() string {
		sig, _ := enc.DecodeString(parts[2])
		sig[0] ^= 0x01
		return parts[0] + "." + parts[1] + "." + enc.EncodeToString(sig)
	}()
	algNone := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	hs512 := forgeRaw(testKey, `{"alg":"HS512","typ":"JWT"}`, string(segment(t, valid, 1)))
	// HS512 crafted with golang-jwt too, to be sure it is a good token.
	hs512lib, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims(simpleJWTClaims("access", 1, now, 5*time.Minute))).SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	otherKey := forge(t, "another-signing-key-of-at-least-32-bytes!!", simpleJWTClaims("access", 1, now, 5*time.Minute))
	libSigned, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(simpleJWTClaims("access", 1, now, 5*time.Minute))).SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}

	okBody := `{"id":1,"email":"test@email.com"}`
	cases := []struct {
		name   string
		token  string
		status int
		body   string
	}{
		{"ControlSimpleJWTPayload", valid, 200, okBody},
		{"ControlGolangJWT", libSigned, 200, okBody},
		{"AlgNone", algNone, 401, bearerBody(msgInvalid)},
		{"TamperedPayload", tamperedPayload, 401, bearerBody(msgInvalid)},
		{"TamperedSignature", tamperedSig, 401, bearerBody(msgInvalid)},
		{"AnotherKey", otherKey, 401, bearerBody(msgInvalid)},
		{"HS512RightKey", hs512, 401, bearerBody(msgInvalid)},
		{"HS512RightKeyGolangJWT", hs512lib, 401, bearerBody(msgInvalid)},
		{"TwoParts", parts[0] + "." + parts[1], 401, bearerBody(msgInvalid)},
		{"Empty segments", "..", 401, bearerBody(msgInvalid)},
		{"Oversized", access(func(c map[string]any) { c["pad"] = strings.Repeat("a", 9000) }), 401, bearerBody(msgInvalid)},
		{"Expired", access(func(c map[string]any) { c["exp"] = now.Unix() - 10; c["iat"] = now.Unix() - 310 }), 401, bearerBody(msgInvalid)},
		{"NbfInFuture", access(func(c map[string]any) { c["nbf"] = now.Unix() + 60 }), 401, bearerBody(msgInvalid)},
		{"IatInFuture", access(func(c map[string]any) { c["iat"] = now.Unix() + 60 }), 401, bearerBody(msgInvalid)},
		{"NoJTI", access(func(c map[string]any) { delete(c, "jti") }), 401, bearerBody(msgNoID)},
		{"NoTokenType", access(func(c map[string]any) { delete(c, "token_type") }), 401, bearerBody(msgNoType)},
		{"NoExp", access(func(c map[string]any) { delete(c, "exp") }), 401, bearerBody(msgNoExp)},
		{"Sliding", access(func(c map[string]any) { c["token_type"] = "sliding" }), 401, bearerBody(msgWrongType)},
		{"RefreshType", access(func(c map[string]any) { c["token_type"] = "refresh" }), 401, bearerBody(msgWrongType)},
		{"NoUserID", access(func(c map[string]any) { delete(c, "user_id") }), 401, bodyNoUserID},
		{"UserIDOfNoUser", access(func(c map[string]any) { c["user_id"] = 999 }), 401, bodyUserNotFound},
		// The seed answered 500 (HTML); a numeric string is not a NumericDate.
		{"ExpNumericString", access(func(c map[string]any) { c["exp"] = "1795343361" }), 401, bearerBody(msgInvalid)},
		{"ExpFutureNumericString", access(func(c map[string]any) { c["exp"] = "99999999999" }), 401, bearerBody(msgInvalid)},
		{"NoIat", access(func(c map[string]any) { delete(c, "iat") }), 200, okBody},
		{"UserIDString", access(func(c map[string]any) { c["user_id"] = "1" }), 200, okBody},
		{"JTINotHex", access(func(c map[string]any) { c["jti"] = "x" }), 200, okBody},
		{"ExtraClaims", access(func(c map[string]any) { c["aud"] = "x"; c["iss"] = "y"; c["role"] = "admin" }), 200, okBody},
		{"SecondUser", access(func(c map[string]any) { c["user_id"] = 2 }), 200, `{"id":2,"email":"second@email.com"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want(t, e.me(c.token), c.status, c.body)
		})
	}
}

// A user made inactive after login is refused on every request, and can
// no longer refresh (the seed accepted the refresh; we do not).
func TestBearerInactiveUser(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	e.wantMe(p.Access, userEmail)
	e.setActive(userEmail, false)
	want(t, e.me(p.Access), http.StatusUnauthorized, bodyUserInactive)
	want(t, e.refresh(p.Refresh), http.StatusUnauthorized, bodyUserInactive)
	want(t, e.post("/api/token/", "", map[string]string{"email": userEmail, "password": userPass}),
		http.StatusUnauthorized, bodyNoActiveAccount)
	e.setActive(userEmail, true)
	e.wantMe(p.Access, userEmail)
}

func TestMeMethods(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	want(t, e.do(http.MethodPost, "/api/me/", p.Access, "", ""), http.StatusMethodNotAllowed, `{"detail":"Method \"POST\" not allowed."}`)
	if r := e.do(http.MethodPost, "/api/me/", p.Access, "", ""); r.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("Allow: got %q", r.Header.Get("Allow"))
	}
	r := e.do(http.MethodHead, "/api/me/", p.Access, "", "")
	if r.Status != http.StatusOK {
		t.Errorf("HEAD /api/me/: got %d, want 200", r.Status)
	}
	want(t, e.do(http.MethodGet, "/api/me", p.Access, "", ""), http.StatusOK, `{"id":1,"email":"test@email.com"}`)
}
