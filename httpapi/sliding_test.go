package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

func withSliding() envOption {
	return withSettings(func(s *jwtrevoke.Settings) {
		s.AuthTokenClasses = []jwtrevoke.TokenType{jwtrevoke.AccessToken, jwtrevoke.SlidingToken}
	})
}

// slidingBearerBody is the 401 of a refused Bearer token when both access
// and sliding tokens authenticate: SimpleJWT reports each class.
func slidingBearerBody(msg string) string {
	return `{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[` +
		`{"token_class":"AccessToken","token_type":"access","message":"` + msg + `"},` +
		`{"token_class":"SlidingToken","token_type":"sliding","message":"` + msg + `"}]}`
}

func (e *env) obtainSliding() string {
	e.t.Helper()
	r := e.post("/api/token/sliding/", "", map[string]string{"email": userEmail, "password": userPass})
	wantStatus(e.t, r, http.StatusOK)
	return jsonObject(e.t, r.Body)["token"].(string)
}

func (e *env) refreshSliding(tok string) resp {
	return e.post("/api/token/sliding/refresh/", "", map[string]string{"token": tok})
}

// Sliding tokens as SimpleJWT: obtained at /api/token/sliding/, refreshed
// (same jti, renewed exp) until refresh_exp, accepted for requests only
// when AUTH_TOKEN_CLASSES includes them.
func TestSlidingTokens(t *testing.T) {
	t.Run("NotAnAuthClassByDefault", func(t *testing.T) {
		e := newEnv(t)
		tok := e.obtainSliding()
		want(t, e.me(tok), http.StatusUnauthorized, bearerBody(msgWrongType))
		want(t, e.refresh(tok), http.StatusUnauthorized, tokenBody(msgWrongType))
		want(t, e.verify(tok), http.StatusOK, bodyEmpty)
	})
	t.Run("Lifecycle", func(t *testing.T) {
		c := newClock(time.Now().Truncate(time.Second))
		e := newEnv(t, withSliding(), withClock(c))
		want(t, e.post("/api/token/sliding/", "", map[string]string{"email": userEmail, "password": "wrong"}), http.StatusUnauthorized, bodyNoActiveAccount)
		want(t, e.post("/api/token/sliding/", "", map[string]string{}), http.StatusBadRequest,
			`{"email":["This field is required."],"password":["This field is required."]}`)
		tok := e.obtainSliding()
		cl := tokenClaims(t, tok)
		if strClaim(t, cl, "token_type") != "sliding" || intClaim(t, cl, "exp")-intClaim(t, cl, "iat") != 300 ||
			intClaim(t, cl, "refresh_exp")-intClaim(t, cl, "iat") != 86400 || strClaim(t, cl, "sid") == "" {
			t.Fatalf("sliding claims %v: want token_type sliding, exp = iat+5m, refresh_exp = iat+24h, a sid", cl)
		}
		e.wantMe(tok, userEmail)
		p := e.MustLogin(userEmail, userPass)
		e.wantMe(p.Access, userEmail) // access tokens still authenticate
		want(t, e.refreshSliding(p.Access), http.StatusUnauthorized, tokenBody(msgWrongType))
		want(t, e.refreshSliding(p.Refresh), http.StatusUnauthorized, tokenBody(msgWrongType))
		want(t, e.post("/api/token/sliding/refresh/", "", map[string]string{}), http.StatusBadRequest, `{"token":["This field is required."]}`)

		c.Add(4 * time.Minute)
		r := e.refreshSliding(tok)
		wantStatus(t, r, http.StatusOK)
		tok2 := jsonObject(t, r.Body)["token"].(string)
		c2 := tokenClaims(t, tok2)
		if strClaim(t, c2, "jti") != strClaim(t, cl, "jti") || strClaim(t, c2, "sid") != strClaim(t, cl, "sid") ||
			intClaim(t, c2, "refresh_exp") != intClaim(t, cl, "refresh_exp") || intClaim(t, c2, "exp") != c.Now().Unix()+300 {
			t.Fatalf("refreshed claims %v: want the same jti, sid and refresh_exp, exp renewed from now", c2)
		}
		c.Add(2 * time.Minute) // the first copy has expired, the refreshed one not
		want(t, e.me(tok), http.StatusUnauthorized, slidingBearerBody(msgInvalid))
		e.wantMe(tok2, userEmail)
		// As SimpleJWT: an expired sliding token cannot be refreshed.
		want(t, e.refreshSliding(tok), http.StatusUnauthorized, tokenBody(msgInvalid))

		// Logging out with a sliding token (no body) ends its session:
		// every copy is refused, the user's other sessions are not.
		want(t, e.post("/api/logout/", tok2, map[string]string{}), http.StatusResetContent, bodyLogoutOK)
		want(t, e.me(tok2), http.StatusUnauthorized, slidingBearerBody(msgBlacklisted))
		want(t, e.verify(tok2), http.StatusBadRequest, bodyVerifyBlack)
		want(t, e.refreshSliding(tok2), http.StatusUnauthorized, tokenBody(msgBlacklisted))
		q := e.MustLogin(userEmail, userPass)
		e.wantMe(q.Access, userEmail)
		// An access token's logout still needs its refresh token.
		want(t, e.post("/api/logout/", q.Access, map[string]string{}), http.StatusBadRequest, logoutBody(`The "refresh" field is required.`))
	})
	t.Run("RefreshExpPassed", func(t *testing.T) {
		c := newClock(time.Now().Truncate(time.Second))
		e := newEnv(t, withSliding(), withClock(c), withSettings(func(s *jwtrevoke.Settings) {
			s.SlidingTokenLifetime, s.SlidingTokenRefreshLifetime = time.Hour, 30*time.Minute
		}))
		tok := e.obtainSliding()
		c.Add(31 * time.Minute)
		want(t, e.refreshSliding(tok), http.StatusUnauthorized, tokenBody("Token 'refresh_exp' claim has expired"))
		e.wantMe(tok, userEmail) // still valid until its exp
	})
	t.Run("LogoutAllRevokesSliding", func(t *testing.T) {
		e := newEnv(t, withSliding())
		tok := e.obtainSliding()
		p := e.MustLogin(userEmail, userPass)
		want(t, e.logoutAll(p.Access), http.StatusResetContent, bodyLogoutOK)
		want(t, e.me(tok), http.StatusUnauthorized, slidingBearerBody(msgBlacklisted))
		want(t, e.refreshSliding(tok), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	})
}
