package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// "Obtaining tokens: errors" of SEED_BEHAVIOUR.md, at both paths.
func TestObtain(t *testing.T) {
	e := newEnv(t)
	e.createUser("inactive@email.com", userPass)
	e.setActive("inactive@email.com", false)
	const json = "application/json"
	required := `{"email":["This field is required."],"password":["This field is required."]}`
	cases := []struct {
		name        string
		method      string
		contentType string
		body        string
		status      int
		want        string // "" for a pair
	}{
		{"OK", "POST", json, `{"email": "test@email.com", "password": "test123456"}`, 200, ""},
		// DIFFERENCE from the seed: emails match case-insensitively.
		{"EmailOtherCase", "POST", json, `{"email": "TEST@email.com", "password": "test123456"}`, 200, ""},
		{"EmailSurroundingSpaces", "POST", json, `{"email": " test@email.com ", "password": "test123456"}`, 200, ""},
		{"WrongPassword", "POST", json, `{"email": "test@email.com", "password": "wrong"}`, 401, bodyNoActiveAccount},
		{"PasswordOtherCase", "POST", json, `{"email": "test@email.com", "password": "TEST123456"}`, 401, bodyNoActiveAccount},
		{"UnknownEmail", "POST", json, `{"email": "nobody@email.com", "password": "test123456"}`, 401, bodyNoActiveAccount},
		{"InactiveUser", "POST", json, `{"email": "inactive@email.com", "password": "test123456"}`, 401, bodyNoActiveAccount},
		{"EmptyObject", "POST", json, `{}`, 400, required},
		{"NoBody", "POST", "", "", 400, required},
		{"NoBodyJSONType", "POST", json, "", 400, required},
		{"Blank", "POST", json, `{"email": "", "password": ""}`, 400, `{"email":["This field may not be blank."],"password":["This field may not be blank."]}`},
		{"UsernameInsteadOfEmail", "POST", json, `{"username": "test@email.com", "password": "test123456"}`, 400, `{"email":["This field is required."]}`},
		{"NonStrings", "POST", json, `{"email": ["test@email.com"], "password": {"a": 1}}`, 400, `{"email":["Not a valid string."],"password":["Not a valid string."]}`},
		{"Numbers", "POST", json, `{"email": 5, "password": 7}`, 401, bodyNoActiveAccount},
		{"MalformedJSON", "POST", json, `{"email": `, 400, `{"detail":"JSON parse error - Expecting value: line 1 column 11 (char 10)"}`},
		{"JSONArray", "POST", json, `[1,2]`, 400, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
		{"Form", "POST", "application/x-www-form-urlencoded", "email=test%40email.com&password=test123456", 200, ""},
		{"FormWrongPassword", "POST", "application/x-www-form-urlencoded", "email=test%40email.com&password=nope", 401, bodyNoActiveAccount},
		{"JSONWithCharset", "POST", "application/json; charset=utf-8", `{"email": "test@email.com", "password": "test123456"}`, 200, ""},
		{"TextPlain", "POST", "text/plain", "hello", 415, `{"detail":"Unsupported media type \"text/plain\" in request."}`},
		{"Get", "GET", "", "", 405, `{"detail":"Method \"GET\" not allowed."}`},
		{"Put", "PUT", json, `{}`, 405, `{"detail":"Method \"PUT\" not allowed."}`},
	}
	for _, path := range []string{"/api/token/", "/api/auth/token/"} {
		for _, c := range cases {
			t.Run(strings.Trim(path, "/")+"/"+c.name, func(t *testing.T) {
				r := e.do(c.method, path, "", c.contentType, c.body)
				if c.want == "" {
					wantStatus(t, r, c.status)
					if got := objectKeys(t, r.Body); !slices.Equal(got, []string{"refresh", "access"}) {
						t.Errorf("keys: got %v, want [refresh access]", got)
					}
					e.wantMe(decodePair(t, r).Access, userEmail)
					return
				}
				want(t, r, c.status, c.want)
				if c.status == http.StatusMethodNotAllowed && r.Header.Get("Allow") != "POST, OPTIONS" {
					t.Errorf("Allow: got %q, want %q", r.Header.Get("Allow"), "POST, OPTIONS")
				}
			})
		}
	}
	t.Run("MalformedJSON", func(t *testing.T) {
		// "JSON parse error - <what>: <where>", where as Python's json
		// module reports it.
		cases := []struct{ name, body, where string }{
			{"BadValue", `{"email": x}`, "line 1 column 11 (char 10)"},
			{"NoColon", `{"email" "x"}`, "line 1 column 10 (char 9)"},
			{"Unterminated", `{`, "line 1 column 2 (char 1)"},
			{"TrailingComma", `{"a":1,}`, "line 1 column 8 (char 7)"},
			{"ExtraData", `{"email": "a", "password": "b"} x`, "line 1 column 33 (char 32)"},
			{"ExtraDataLaterLine", "{\"email\": \"a\"}\n\n  }", "line 3 column 3 (char 18)"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do(http.MethodPost, "/api/token/", "", "application/json", c.body)
				wantStatus(t, r, http.StatusBadRequest)
				m := jsonObject(t, r.Body)
				d, _ := m["detail"].(string)
				if len(m) != 1 || !strings.HasPrefix(d, "JSON parse error - ") {
					t.Fatalf("body %s: want {\"detail\":\"JSON parse error - ...\"}", r.Body)
				}
				if !strings.HasSuffix(d, ": "+c.where) {
					t.Errorf("detail %q: want the position %q", d, c.where)
				}
			})
		}
	})
	t.Run("NotAnObject", func(t *testing.T) {
		for body, typ := range map[string]string{`"x"`: "str", `5`: "int", `true`: "bool", `[]`: "list"} {
			r := e.do(http.MethodPost, "/api/token/", "", "application/json", body)
			want(t, r, http.StatusBadRequest, `{"non_field_errors":["Invalid data. Expected a dictionary, but got `+typ+`."]}`)
		}
	})
	t.Run("Null", func(t *testing.T) {
		want(t, e.post("/api/token/", "", `{"email": null, "password": null}`), http.StatusBadRequest,
			`{"email":["This field may not be null."],"password":["This field may not be null."]}`)
	})
	t.Run("Multipart", func(t *testing.T) {
		r := e.postMultipart("/api/token/", "", map[string]string{"email": userEmail, "password": userPass})
		wantStatus(t, r, http.StatusOK)
		e.wantMe(decodePair(t, r).Access, userEmail)
	})
	t.Run("AuthorizationHeaderIgnored", func(t *testing.T) {
		r := e.post("/api/token/", "garbage", map[string]string{"email": userEmail, "password": userPass})
		wantStatus(t, r, http.StatusOK)
	})
}

// The claims of the tokens we issue have SimpleJWT's shape, plus sid.
func TestTokenClaims(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	a2 := e.mustRefresh(p.Refresh).Access
	p2 := e.MustLogin(userEmail, userPass)

	for name, tok := range map[string]string{"access": p.Access, "refresh": p.Refresh, "refreshed": a2} {
		t.Run("Shape/"+name, func(t *testing.T) {
			if h := strings.Split(tok, ".")[0]; h != hs256Header {
				t.Errorf("header: got %s, want %s", h, hs256Header)
			}
			keys := objectKeys(t, segment(t, tok, 1))
			if w := []string{"token_type", "exp", "iat", "jti", "user_id"}; len(keys) < len(w) || !slices.Equal(keys[:len(w)], w) {
				t.Errorf("payload keys: got %v, want them to start with %v", keys, w)
			}
			c := tokenClaims(t, tok)
			if jti := strClaim(t, c, "jti"); !hexJTI.MatchString(jti) {
				t.Errorf("jti %q: want 32 lower-case hex digits", jti)
			}
			if got := intClaim(t, c, "user_id"); got != 1 {
				t.Errorf("user_id: got %d, want 1", got)
			}
			for _, k := range []string{"iss", "aud", "sub", "nbf"} {
				if _, ok := c[k]; ok {
					t.Errorf("unexpected claim %s", k)
				}
			}
		})
	}

	ca, cr, c2 := tokenClaims(t, p.Access), tokenClaims(t, p.Refresh), tokenClaims(t, a2)
	t.Run("Types", func(t *testing.T) {
		if strClaim(t, ca, "token_type") != "access" || strClaim(t, cr, "token_type") != "refresh" || strClaim(t, c2, "token_type") != "access" {
			t.Errorf("token_type: %v %v %v", ca["token_type"], cr["token_type"], c2["token_type"])
		}
	})
	t.Run("Lifetimes", func(t *testing.T) {
		if d := intClaim(t, ca, "exp") - intClaim(t, ca, "iat"); d != 300 {
			t.Errorf("access exp-iat: got %d, want 300", d)
		}
		if d := intClaim(t, cr, "exp") - intClaim(t, cr, "iat"); d != 86400 {
			t.Errorf("refresh exp-iat: got %d, want 86400", d)
		}
		if intClaim(t, ca, "iat") != intClaim(t, cr, "iat") {
			t.Errorf("access iat %d != refresh iat %d", intClaim(t, ca, "iat"), intClaim(t, cr, "iat"))
		}
		if got, w := intClaim(t, ca, "exp"), intClaim(t, cr, "iat")+300; got != w {
			t.Errorf("access exp: got %d, want refresh iat + 300 = %d", got, w)
		}
	})
	t.Run("RefreshedCopiesIat", func(t *testing.T) {
		if got, w := intClaim(t, c2, "iat"), intClaim(t, cr, "iat"); got != w {
			t.Errorf("refreshed iat: got %d, want the refresh token's %d", got, w)
		}
		if d := intClaim(t, c2, "exp") - time.Now().Unix(); d < 295 || d > 300 {
			t.Errorf("refreshed exp is now%+d s, want about now+300", d)
		}
	})
	t.Run("SessionClaim", func(t *testing.T) {
		sid := strClaim(t, cr, "sid")
		if sid == "" || strClaim(t, ca, "sid") != sid || strClaim(t, c2, "sid") != sid {
			t.Errorf("sid: refresh %v access %v refreshed %v, want all equal and non-empty", cr["sid"], ca["sid"], c2["sid"])
		}
		if other := strClaim(t, tokenClaims(t, p2.Refresh), "sid"); other == sid {
			t.Errorf("two logins share sid %s", sid)
		}
	})
	t.Run("DistinctJTIs", func(t *testing.T) {
		seen := map[string]bool{}
		for _, tok := range []string{p.Access, p.Refresh, a2, p2.Access, p2.Refresh} {
			j := strClaim(t, tokenClaims(t, tok), "jti")
			if seen[j] {
				t.Errorf("jti %s used twice", j)
			}
			seen[j] = true
		}
	})
}

// "Refresh: errors" of SEED_BEHAVIOUR.md, and our differences.
func TestRefresh(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	now := time.Now()
	refresh := func(mod func(map[string]any)) string {
		c := simpleJWTClaims("refresh", 1, now, 24*time.Hour)
		if mod != nil {
			mod(c)
		}
		return forge(t, testKey, c)
	}
	blacklisted := e.MustLogin(userEmail, userPass).Refresh
	want(t, e.blacklist(blacklisted), http.StatusOK, bodyEmpty)
	algNone := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(p.Refresh, ".")[1] + "."

	cases := []struct {
		name   string
		body   string
		status int
		want   string // "" for {"access"}
	}{
		{"OK", `{"refresh":"` + p.Refresh + `"}`, 200, ""},
		{"Again", `{"refresh":"` + p.Refresh + `"}`, 200, ""},
		{"Missing", `{}`, 400, `{"refresh":["This field is required."]}`},
		{"Blank", `{"refresh":""}`, 400, `{"refresh":["This field may not be blank."]}`},
		{"NoBody", ``, 400, `{"refresh":["This field is required."]}`},
		{"AccessToken", `{"refresh":"` + p.Access + `"}`, 401, tokenBody(msgWrongType)},
		{"Garbage", `{"refresh":"not-a-token"}`, 401, tokenBody(msgInvalid)},
		{"AlgNone", `{"refresh":"` + algNone + `"}`, 401, tokenBody(msgInvalid)},
		{"AnotherKey", `{"refresh":"` + forge(t, "another-signing-key-of-at-least-32-bytes!!", simpleJWTClaims("refresh", 1, now, time.Hour)) + `"}`, 401, tokenBody(msgInvalid)},
		{"Expired", `{"refresh":"` + refresh(func(c map[string]any) { c["exp"] = now.Unix() - 1 }) + `"}`, 401, tokenBody(msgInvalid)},
		{"Blacklisted", `{"refresh":"` + blacklisted + `"}`, 401, tokenBody(msgBlacklisted)},
		// The seed answered 500 here.
		{"NoJTI", `{"refresh":"` + refresh(func(c map[string]any) { delete(c, "jti") }) + `"}`, 401, tokenBody(msgNoID)},
		{"NoType", `{"refresh":"` + refresh(func(c map[string]any) { delete(c, "token_type") }) + `"}`, 401, tokenBody(msgNoType)},
		{"NoExp", `{"refresh":"` + refresh(func(c map[string]any) { delete(c, "exp") }) + `"}`, 401, tokenBody(msgNoExp)},
		{"UserOfNoOne", `{"refresh":"` + refresh(func(c map[string]any) { c["user_id"] = 999 }) + `"}`, 401, bodyUserNotFound},
		// The signature is the authority: never issued is fine.
		{"NeverIssued", `{"refresh":"` + refresh(nil) + `"}`, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/api/token/refresh/", "", "application/json", c.body)
			if c.want != "" {
				want(t, r, c.status, c.want)
				return
			}
			wantStatus(t, r, c.status)
			if got := objectKeys(t, r.Body); !slices.Equal(got, []string{"access"}) {
				t.Fatalf("keys: got %v, want [access] (no rotation)", got)
			}
			e.wantMe(jsonObject(t, r.Body)["access"].(string), userEmail)
		})
	}
	t.Run("NeverIssuedCopiesExtraClaims", func(t *testing.T) {
		tok := refresh(func(c map[string]any) { c["extra"] = "copied" })
		a := e.mustRefresh(tok).Access
		if got := tokenClaims(t, a)["extra"]; got != "copied" {
			t.Errorf("extra claim: got %v, want copied", got)
		}
	})
	t.Run("Form", func(t *testing.T) {
		r := e.postForm("/api/token/refresh/", "", url.Values{"refresh": {p.Refresh}})
		wantStatus(t, r, http.StatusOK)
	})
	t.Run("Get", func(t *testing.T) {
		want(t, e.do(http.MethodGet, "/api/token/refresh/", "", "", ""), http.StatusMethodNotAllowed, `{"detail":"Method \"GET\" not allowed."}`)
	})
	t.Run("InactiveUser", func(t *testing.T) {
		// DIFFERENCE from the seed, which accepted it.
		e.createUser("later-inactive@email.com", userPass)
		q := e.MustLogin("later-inactive@email.com", userPass)
		e.setActive("later-inactive@email.com", false)
		want(t, e.refresh(q.Refresh), http.StatusUnauthorized, bodyUserInactive)
	})
}

// Rotation (section I): refresh answers {"access","refresh"}, the old
// refresh token is blacklisted, and logging out with the newest refresh
// token revokes every token of the session.
func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, withRotation())
	p := e.MustLogin(userEmail, userPass)
	r := e.refresh(p.Refresh)
	wantStatus(t, r, http.StatusOK)
	if got := objectKeys(t, r.Body); !slices.Equal(got, []string{"access", "refresh"}) {
		t.Fatalf("keys: got %v, want [access refresh]", got)
	}
	p1 := decodePair(t, r)
	c0, c1, a1 := tokenClaims(t, p.Refresh), tokenClaims(t, p1.Refresh), tokenClaims(t, p1.Access)
	if strClaim(t, c0, "jti") == strClaim(t, c1, "jti") {
		t.Error("rotated refresh token kept its jti")
	}
	if d := intClaim(t, c1, "exp") - intClaim(t, c1, "iat"); d != 86400 {
		t.Errorf("rotated refresh exp-iat: got %d, want 86400", d)
	}
	if intClaim(t, a1, "iat") != intClaim(t, c0, "iat") {
		t.Errorf("access minted at rotation: iat %d, want the old refresh token's %d", intClaim(t, a1, "iat"), intClaim(t, c0, "iat"))
	}
	if strClaim(t, c1, "sid") != strClaim(t, c0, "sid") || strClaim(t, a1, "sid") != strClaim(t, c0, "sid") {
		t.Error("rotation changed the sid")
	}

	p2 := e.mustRefresh(p1.Refresh)
	if p2.Refresh == "" {
		t.Fatal("second rotation: no refresh token")
	}
	for _, a := range []string{p.Access, p1.Access, p2.Access} {
		e.wantMe(a, userEmail)
	}
	other := e.MustLogin(userEmail, userPass)

	want(t, e.logout(p2.Access, p2.Refresh), http.StatusResetContent, bodyLogoutOK)
	for i, a := range []string{p.Access, p1.Access, p2.Access} {
		t.Run("AccessRevoked/"+string(rune('0'+i)), func(t *testing.T) { e.wantRevokedAccess(a) })
	}
	e.wantRevokedRefresh(p2.Refresh)
	want(t, e.refresh(p1.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	e.wantMe(other.Access, userEmail)
	e.wantMe(e.mustRefresh(other.Refresh).Access, userEmail)
}

// Reuse detection: presenting a rotated refresh token again revokes the
// whole session (every refresh and access token of that login) and
// answers 401; other sessions of the user keep working.
func TestRefreshReuseRevokesSession(t *testing.T) {
	for _, blacklistOld := range []bool{true, false} {
		t.Run(fmt.Sprintf("BLACKLIST_AFTER_ROTATION=%v", blacklistOld), func(t *testing.T) {
			e := newEnv(t, withRotation(), withSettings(func(s *jwtrevoke.Settings) { s.BlacklistAfterRotation = blacklistOld }))
			p := e.MustLogin(userEmail, userPass)
			other := e.MustLogin(userEmail, userPass)
			p1 := e.mustRefresh(p.Refresh)
			p2 := e.mustRefresh(p1.Refresh)
			// An attacker replays the stolen first refresh token.
			want(t, e.refresh(p.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
			// The legitimate client's newest tokens die with it.
			want(t, e.refresh(p2.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
			for _, a := range []string{p.Access, p1.Access, p2.Access} {
				e.wantRevokedAccess(a)
			}
			want(t, e.verify(p2.Refresh), http.StatusBadRequest, bodyVerifyBlack)
			e.wantMe(other.Access, userEmail)
			e.wantMe(e.mustRefresh(other.Refresh).Access, userEmail)
		})
	}
}

// REFRESH_REUSE_GRACE: a retry of the same rotation within the window gets
// the same answer, byte for byte; after it, the retry is a reuse.
func TestRefreshReuseGrace(t *testing.T) {
	c := newClock(time.Now())
	e := newEnv(t, withRotation(), withClock(c), withSettings(func(s *jwtrevoke.Settings) { s.RefreshReuseGrace = 30 * time.Second }))
	p := e.MustLogin(userEmail, userPass)
	first := e.refresh(p.Refresh)
	wantStatus(t, first, http.StatusOK)
	c.Add(10 * time.Second)
	again := e.refresh(p.Refresh)
	want(t, again, http.StatusOK, string(first.Body))
	p1 := decodePair(t, first)
	e.wantMe(p1.Access, userEmail)
	c.Add(21 * time.Second) // 31 s after the rotation
	want(t, e.refresh(p.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	e.wantRevokedAccess(p1.Access)
	want(t, e.refresh(p1.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
}

// Concurrent refreshes of one token within the grace window all get the
// same pair: one rotation, never two live children.
func TestRefreshRotationConcurrentWithinGrace(t *testing.T) {
	e, bs := newBarrierEnv(t, withRotation(), withSettings(func(s *jwtrevoke.Settings) { s.RefreshReuseGrace = time.Minute }))
	p := e.MustLogin(userEmail, userPass)
	const n = 50
	bs.arm(n)
	var body string
	for i, r := range e.concurrently(n, http.MethodPost, "/api/token/refresh/", "", `{"refresh":"`+p.Refresh+`"}`) {
		wantStatus(t, r, http.StatusOK)
		if i == 0 {
			body = string(r.Body)
		} else if string(r.Body) != body {
			t.Fatalf("answer %d differs from the first:\n%s\n%s", i, r.Body, body)
		}
	}
	toks, err := e.store.OutstandingTokens(t.Context(), jwtrevoke.TokenQuery{})
	if err != nil || len(toks) != 2 {
		t.Fatalf("%d outstanding tokens (%v), want 2: the login's and one child", len(toks), err)
	}
}

// Concurrent refreshes of one refresh token with rotation on and no grace:
// exactly one rotates it; the others are reuses, so the session is revoked
// and no child stays alive.
func TestRefreshRotationConcurrentReuse(t *testing.T) {
	e, bs := newBarrierEnv(t, withRotation())
	p := e.MustLogin(userEmail, userPass)
	const n = 16
	bs.arm(n)
	ok := 0
	for _, r := range e.concurrently(n, http.MethodPost, "/api/token/refresh/", "", `{"refresh":"`+p.Refresh+`"}`) {
		if r.Status == http.StatusOK {
			ok++
			continue
		}
		want(t, r, http.StatusUnauthorized, tokenBody(msgBlacklisted))
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent refreshes of one token rotated it, want exactly 1", ok, n)
	}
	toks, err := e.store.OutstandingTokens(t.Context(), jwtrevoke.TokenQuery{})
	if err != nil || len(toks) != 2 {
		t.Fatalf("%d outstanding tokens (%v), want 2: the login's and one child", len(toks), err)
	}
	for _, tk := range toks {
		if tk.JTI != strClaim(t, tokenClaims(t, p.Refresh), "jti") {
			want(t, e.refresh(tk.Token), http.StatusUnauthorized, tokenBody(msgBlacklisted))
		}
	}
}

// Verify (section A and "Verify" of SEED_BEHAVIOUR.md).
func TestVerify(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	now := time.Now()
	black := e.MustLogin(userEmail, userPass)
	want(t, e.blacklist(black.Refresh), http.StatusOK, bodyEmpty)
	cases := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"Access", `{"token":"` + p.Access + `"}`, 200, bodyEmpty},
		{"Refresh", `{"token":"` + p.Refresh + `"}`, 200, bodyEmpty},
		{"Missing", `{}`, 400, `{"token":["This field is required."]}`},
		{"Garbage", `{"token":"not-a-token"}`, 401, tokenBody(msgInvalid)},
		{"Expired", `{"token":"` + forge(t, testKey, simpleJWTClaims("access", 1, now.Add(-time.Hour), time.Minute)) + `"}`, 401, tokenBody(msgInvalid)},
		{"NoJTI", `{"token":"` + forge(t, testKey, map[string]any{"token_type": "access", "exp": now.Unix() + 60, "user_id": 1}) + `"}`, 401, tokenBody(msgNoID)},
		{"BlacklistedRefresh", `{"token":"` + black.Refresh + `"}`, 400, bodyVerifyBlack},
		// SimpleJWT would answer 200: we revoke access tokens too.
		{"AccessOfBlacklistedSession", `{"token":"` + black.Access + `"}`, 400, bodyVerifyBlack},
		{"MalformedJSON", `{"token": `, 400, `{"detail":"JSON parse error - Expecting value: line 1 column 11 (char 10)"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want(t, e.do(http.MethodPost, "/api/token/verify/", "", "application/json", c.body), c.status, c.want)
		})
	}
}

// The blacklist endpoint (section E), which also revokes the session.
func TestBlacklist(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	a2 := e.mustRefresh(p.Refresh).Access
	other := e.MustLogin(userEmail, userPass)
	now := time.Now()

	want(t, e.blacklist(p.Refresh), http.StatusOK, bodyEmpty)
	want(t, e.blacklist(p.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	e.wantRevokedRefresh(p.Refresh)
	// Our design: blacklisting a refresh token revokes its session.
	e.wantRevokedAccess(p.Access)
	e.wantRevokedAccess(a2)
	e.wantMe(other.Access, userEmail)

	cases := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"Missing", `{}`, 400, `{"refresh":["This field is required."]}`},
		{"AccessToken", `{"refresh":"` + other.Access + `"}`, 401, tokenBody(msgWrongType)},
		{"Garbage", `{"refresh":"x"}`, 401, tokenBody(msgInvalid)},
		{"Expired", `{"refresh":"` + forge(t, testKey, simpleJWTClaims("refresh", 1, now.Add(-48*time.Hour), 24*time.Hour)) + `"}`, 401, tokenBody(msgInvalid)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want(t, e.do(http.MethodPost, "/api/token/blacklist/", "", "application/json", c.body), c.status, c.want)
		})
	}
	// None of the refusals touched the other session.
	e.wantMe(other.Access, userEmail)
	e.wantMe(e.mustRefresh(other.Refresh).Access, userEmail)

	t.Run("NeverIssued", func(t *testing.T) {
		tok := forge(t, testKey, simpleJWTClaims("refresh", 1, now, time.Hour))
		minted := e.mustRefresh(tok).Access
		want(t, e.blacklist(tok), http.StatusOK, bodyEmpty)
		e.wantRevokedRefresh(tok)
		e.wantRevokedAccess(minted)
	})
}

// Routing: unknown paths, trailing slashes, oversized bodies.
func TestRoutes(t *testing.T) {
	e := newEnv(t)
	t.Run("UnknownPath", func(t *testing.T) {
		want(t, e.do(http.MethodGet, "/api/nothing/", "", "", ""), http.StatusNotFound, `{"detail":"Not found."}`)
		want(t, e.do(http.MethodPost, "/api/tokens/", "", "application/json", `{}`), http.StatusNotFound, `{"detail":"Not found."}`)
	})
	t.Run("NoTrailingSlash", func(t *testing.T) {
		r := e.post("/api/token", "", map[string]string{"email": userEmail, "password": userPass})
		wantStatus(t, r, http.StatusOK)
		p := decodePair(t, r)
		e.wantMe(p.Access, userEmail)
		wantStatus(t, e.post("/api/auth/token", "", map[string]string{"email": userEmail, "password": userPass}), http.StatusOK)
		wantStatus(t, e.post("/api/token/refresh", "", map[string]string{"refresh": p.Refresh}), http.StatusOK)
		want(t, e.post("/api/token/verify", "", map[string]string{"token": p.Access}), http.StatusOK, bodyEmpty)
		want(t, e.do(http.MethodGet, "/api/me", p.Access, "", ""), http.StatusOK, `{"id":1,"email":"test@email.com"}`)
		q := e.MustLogin(userEmail, userPass)
		want(t, e.post("/api/token/blacklist", "", map[string]string{"refresh": q.Refresh}), http.StatusOK, bodyEmpty)
		want(t, e.post("/api/logout", p.Access, map[string]string{"refresh": p.Refresh}), http.StatusResetContent, bodyLogoutOK)
		s := e.MustLogin(userEmail, userPass)
		want(t, e.do(http.MethodPost, "/api/logout/all", s.Access, "", ""), http.StatusResetContent, bodyLogoutOK)
	})
	t.Run("BodyTooLarge", func(t *testing.T) {
		big := `{"email":"` + strings.Repeat("a", 2<<20) + `","password":"x"}`
		r := e.do(http.MethodPost, "/api/token/", "", "application/json", big)
		wantStatus(t, r, http.StatusRequestEntityTooLarge)
		if d, _ := jsonObject(t, r.Body)["detail"].(string); d == "" {
			t.Errorf("413 body %s: want a detail", r.Body)
		}
	})
	t.Run("BodyJustUnderLimit", func(t *testing.T) {
		body := `{"email":"test@email.com","password":"test123456","pad":"`
		body += strings.Repeat("a", 1<<20-len(body)-2) + `"}`
		if len(body) != 1<<20 {
			t.Fatalf("len %d", len(body))
		}
		wantStatus(t, e.do(http.MethodPost, "/api/token/", "", "application/json", body), http.StatusOK)
	})
	t.Run("Options", func(t *testing.T) {
		r := e.do(http.MethodOptions, "/api/token/", "", "", "")
		wantStatus(t, r, http.StatusOK)
		if r.Header.Get("Allow") != "POST, OPTIONS" {
			t.Errorf("Allow: got %q", r.Header.Get("Allow"))
		}
	})
}
