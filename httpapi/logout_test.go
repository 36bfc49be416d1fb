package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// THE POINT OF THE PROJECT: after a 205 logout, the refresh token and
// every access token of its session are refused from the next request.
func TestLogoutRevokesSession(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	minted := []string{e.mustRefresh(p.Refresh).Access, e.mustRefresh(p.Refresh).Access}
	other := e.MustLogin(userEmail, userPass)
	second := e.MustLogin(secondEmail, secondPass)

	want(t, e.logout(p.Access, p.Refresh), http.StatusResetContent, bodyLogoutOK)

	t.Run("RefreshToken", func(t *testing.T) { e.wantRevokedRefresh(p.Refresh) })
	t.Run("CallingAccessToken", func(t *testing.T) { e.wantRevokedAccess(p.Access) })
	for i, a := range minted {
		t.Run("MintedAccessToken"+string(rune('1'+i)), func(t *testing.T) { e.wantRevokedAccess(a) })
	}
	t.Run("LogoutAgainWithRevokedBearer", func(t *testing.T) {
		want(t, e.logout(p.Access, p.Refresh), http.StatusUnauthorized, bearerBody(msgBlacklisted))
	})
	t.Run("LogoutAgainOtherSessionBearer", func(t *testing.T) {
		want(t, e.logout(other.Access, p.Refresh), http.StatusBadRequest, logoutBody(msgBlacklisted))
		e.wantMe(other.Access, userEmail) // a refused logout revokes nothing
	})
	t.Run("OtherSessionKeepsWorking", func(t *testing.T) {
		e.wantMe(other.Access, userEmail)
		e.wantMe(e.mustRefresh(other.Refresh).Access, userEmail)
		want(t, e.verify(other.Refresh), http.StatusOK, bodyEmpty)
	})
	t.Run("OtherUserKeepsWorking", func(t *testing.T) {
		e.wantMe(second.Access, secondEmail)
		e.wantMe(e.mustRefresh(second.Refresh).Access, secondEmail)
	})
	t.Run("NewLoginWorks", func(t *testing.T) {
		n := e.MustLogin(userEmail, userPass)
		e.wantMe(n.Access, userEmail)
		e.wantMe(e.mustRefresh(n.Refresh).Access, userEmail)
	})
}

// Two sessions of one user: logging out session 1 leaves session 2 alone.
func TestLogoutTwoSessions(t *testing.T) {
	e := newEnv(t)
	s1 := e.MustLogin(userEmail, userPass)
	s2 := e.MustLogin(userEmail, userPass)
	s2minted := e.mustRefresh(s2.Refresh).Access
	want(t, e.logout(s1.Access, s1.Refresh), http.StatusResetContent, bodyLogoutOK)
	e.wantRevokedAccess(s1.Access)
	e.wantRevokedRefresh(s1.Refresh)
	e.wantMe(s2.Access, userEmail)
	e.wantMe(s2minted, userEmail)
	e.wantMe(e.mustRefresh(s2.Refresh).Access, userEmail)
	want(t, e.verify(s2.Access), http.StatusOK, bodyEmpty)
	want(t, e.verify(s2.Refresh), http.StatusOK, bodyEmpty)
}

// Logging out session 1 with session 2's access token: session 1 is
// revoked, and so is the access token that made the call.
func TestLogoutWithOtherSessionBearer(t *testing.T) {
	e := newEnv(t)
	s1 := e.MustLogin(userEmail, userPass)
	s2 := e.MustLogin(userEmail, userPass)
	want(t, e.logout(s2.Access, s1.Refresh), http.StatusResetContent, bodyLogoutOK)
	e.wantRevokedRefresh(s1.Refresh)
	e.wantRevokedAccess(s1.Access)
	e.wantRevokedAccess(s2.Access)
	// Session 2's refresh token was not logged out.
	e.wantMe(e.mustRefresh(s2.Refresh).Access, userEmail)
}

// User A's Bearer with user B's refresh token: 403, nothing revoked (the
// seed logged B out).
func TestLogoutForeignRefreshToken(t *testing.T) {
	e := newEnv(t)
	a := e.MustLogin(userEmail, userPass)
	b := e.MustLogin(secondEmail, secondPass)
	r := e.logout(a.Access, b.Refresh)
	wantStatus(t, r, http.StatusForbidden)
	if msg, _ := jsonObject(t, r.Body)["error"].(string); msg == "" {
		t.Errorf("403 body %s: want {\"error\": message}", r.Body)
	}
	e.wantMe(b.Access, secondEmail)
	e.wantMe(e.mustRefresh(b.Refresh).Access, secondEmail)
	want(t, e.verify(b.Refresh), http.StatusOK, bodyEmpty)
	e.wantMe(a.Access, userEmail)
	e.wantMe(e.mustRefresh(a.Refresh).Access, userEmail)
	// And B can still log out.
	want(t, e.logout(b.Access, b.Refresh), http.StatusResetContent, bodyLogoutOK)
}

// "Logout: errors and edge cases" of SEED_BEHAVIOUR.md, with our
// improvements (clear message for a missing field, 403 for a foreign token).
func TestLogoutErrors(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	now := time.Now()
	noJTI := forge(t, testKey, map[string]any{"token_type": "refresh", "exp": now.Unix() + 3600, "iat": now.Unix(), "user_id": 1})
	expired := forge(t, testKey, simpleJWTClaims("refresh", 1, now.Add(-48*time.Hour), 24*time.Hour))
	const json = "application/json"
	cases := []struct {
		name        string
		contentType string
		body        string
		status      int
		want        string // "" for {"error": <message mentioning refresh>}
	}{
		{"EmptyObject", json, `{}`, 400, ""},
		{"NoBody", "", "", 400, ""},
		{"Null", json, `{"refresh": null}`, 400, ""},
		{"List", json, `{"refresh": ["x"]}`, 400, ""},
		{"Junk", json, `{"refresh": "junk"}`, 400, logoutBody(msgInvalid)},
		{"Empty", json, `{"refresh": ""}`, 400, logoutBody(msgInvalid)},
		{"Number", json, `{"refresh": 5}`, 400, logoutBody(msgInvalid)},
		{"AccessAsRefresh", json, `{"refresh": "` + p.Access + `"}`, 400, logoutBody(msgWrongType)},
		{"Expired", json, `{"refresh": "` + expired + `"}`, 400, logoutBody(msgInvalid)},
		{"NoJTI", json, `{"refresh": "` + noJTI + `"}`, 400, logoutBody(msgNoID)},
		{"MalformedJSON", json, `{"refresh": `, 400, logoutBody("JSON parse error - Expecting value: line 1 column 13 (char 12)")},
		{"JSONArray", json, `["x"]`, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/api/logout/", p.Access, c.contentType, c.body)
			if c.want != "" {
				want(t, r, c.status, c.want)
				return
			}
			wantStatus(t, r, c.status)
			m := jsonObject(t, r.Body)
			msg, _ := m["error"].(string)
			if len(m) != 1 || msg == "" {
				t.Fatalf("body %s: want {\"error\": message}", r.Body)
			}
			if c.name != "JSONArray" && !strings.Contains(strings.ToLower(msg), "refresh") {
				t.Errorf("error %q: want a message naming the refresh field", msg)
			}
		})
	}
	t.Run("TextPlain", func(t *testing.T) {
		r := e.do(http.MethodPost, "/api/logout/", p.Access, "text/plain", "refresh")
		wantStatus(t, r, http.StatusUnsupportedMediaType)
	})
	t.Run("Get", func(t *testing.T) {
		r := e.do(http.MethodGet, "/api/logout/", p.Access, "", "")
		want(t, r, http.StatusMethodNotAllowed, `{"detail":"Method \"GET\" not allowed."}`)
		if r.Header.Get("Allow") != "POST, OPTIONS" {
			t.Errorf("Allow: got %q", r.Header.Get("Allow"))
		}
	})
	t.Run("NothingRevoked", func(t *testing.T) {
		e.wantMe(p.Access, userEmail)
		e.wantMe(e.mustRefresh(p.Refresh).Access, userEmail)
	})
	t.Run("NoAuthorization", func(t *testing.T) {
		want(t, e.logout("", p.Refresh), http.StatusUnauthorized, bodyNoCredentials)
		e.wantMe(e.mustRefresh(p.Refresh).Access, userEmail)
	})
	t.Run("Form", func(t *testing.T) {
		q := e.MustLogin(userEmail, userPass)
		want(t, e.postForm("/api/logout/", q.Access, url.Values{"refresh": {q.Refresh}}), http.StatusResetContent, bodyLogoutOK)
		e.wantRevokedAccess(q.Access)
		e.wantRevokedRefresh(q.Refresh)
	})
	t.Run("Multipart", func(t *testing.T) {
		q := e.MustLogin(userEmail, userPass)
		want(t, e.postMultipart("/api/logout/", q.Access, map[string]string{"refresh": q.Refresh}), http.StatusResetContent, bodyLogoutOK)
		e.wantRevokedAccess(q.Access)
	})
	t.Run("NeverIssuedRefresh", func(t *testing.T) {
		q := e.MustLogin(userEmail, userPass)
		tok := forge(t, testKey, simpleJWTClaims("refresh", 1, now, time.Hour))
		minted := e.mustRefresh(tok).Access
		want(t, e.logout(q.Access, tok), http.StatusResetContent, bodyLogoutOK)
		e.wantRevokedRefresh(tok)
		e.wantRevokedAccess(minted)
		e.wantRevokedAccess(q.Access) // the caller's own access token too
		e.wantMe(e.mustRefresh(q.Refresh).Access, userEmail)
	})
}

// Logout-all revokes every token of the user issued before it, and no
// other user's; a new login right afterwards works.
func TestLogoutAll(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		name := "NoRotation"
		var opts []envOption
		if rotate {
			name = "Rotation"
			opts = append(opts, withRotation())
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, opts...)
			var sessions []pair
			var accesses []string
			for range 3 {
				s := e.MustLogin(userEmail, userPass)
				accesses = append(accesses, s.Access)
				r := e.mustRefresh(s.Refresh)
				accesses = append(accesses, r.Access)
				if rotate {
					s.Refresh = r.Refresh
				}
				sessions = append(sessions, s)
			}
			second := e.MustLogin(secondEmail, secondPass)

			want(t, e.logoutAll(sessions[1].Access), http.StatusResetContent, bodyLogoutOK)

			for i, a := range accesses {
				t.Run("Access"+string(rune('0'+i)), func(t *testing.T) { e.wantRevokedAccess(a) })
			}
			for i, s := range sessions {
				t.Run("Refresh"+string(rune('0'+i)), func(t *testing.T) { e.wantRevokedRefresh(s.Refresh) })
			}
			t.Run("LogoutAllAgainWithRevokedBearer", func(t *testing.T) {
				want(t, e.logoutAll(sessions[0].Access), http.StatusUnauthorized, bearerBody(msgBlacklisted))
			})
			t.Run("OtherUser", func(t *testing.T) {
				e.wantMe(second.Access, secondEmail)
				e.wantMe(e.mustRefresh(second.Refresh).Access, secondEmail)
			})
			t.Run("NewLogin", func(t *testing.T) {
				n := e.MustLogin(userEmail, userPass)
				e.wantMe(n.Access, userEmail)
				e.wantMe(e.mustRefresh(n.Refresh).Access, userEmail)
			})
		})
	}
}

// With the clock stopped, logout-all, the tokens it revokes and the next
// login all fall in the same second: the old tokens are refused, the new
// ones accepted.
func TestLogoutAllSameSecond(t *testing.T) {
	clk := newClock(time.Unix(time.Now().Unix(), 500_000_000))
	e := newEnv(t, withClock(clk))
	old := e.MustLogin(userEmail, userPass)
	oldMinted := e.mustRefresh(old.Refresh).Access
	want(t, e.logoutAll(old.Access), http.StatusResetContent, bodyLogoutOK)
	n := e.MustLogin(userEmail, userPass)
	if intClaim(t, tokenClaims(t, n.Access), "iat") != intClaim(t, tokenClaims(t, old.Access), "iat") {
		t.Fatal("the clock moved")
	}
	e.wantRevokedAccess(old.Access)
	e.wantRevokedAccess(oldMinted)
	e.wantRevokedRefresh(old.Refresh)
	e.wantMe(n.Access, userEmail)
	e.wantMe(e.mustRefresh(n.Refresh).Access, userEmail)
	want(t, e.logout(n.Access, n.Refresh), http.StatusResetContent, bodyLogoutOK)

	clk.Add(time.Second)
	n2 := e.MustLogin(userEmail, userPass)
	e.wantMe(n2.Access, userEmail)
}

// Tokens issued before a logout-all but not registered as a session here
// (SimpleJWT's, or signed elsewhere with the shared key) are refused too:
// "every refresh and access token of that user issued before" it.
func TestLogoutAllForeignTokens(t *testing.T) {
	t.Run("EarlierSecond", func(t *testing.T) {
		e := newEnv(t)
		before := time.Now().Add(-2 * time.Second)
		refresh := forge(t, testKey, simpleJWTClaims("refresh", 1, before, time.Hour))
		access := forge(t, testKey, simpleJWTClaims("access", 1, before, 5*time.Minute))
		minted := e.mustRefresh(refresh).Access
		caller := e.MustLogin(userEmail, userPass)
		want(t, e.logoutAll(caller.Access), http.StatusResetContent, bodyLogoutOK)
		e.wantRevokedAccess(access)
		e.wantRevokedAccess(minted)
		want(t, e.refresh(refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	})
	// A jti is any string (SimpleJWT accepts "x"); one from another issuer
	// may have '7' where a UUIDv7 has its version digit. Access tokens
	// minted from such a refresh token carry it as their sid, and it must
	// not be read as a session start after the cut-off.
	for _, jti := range []string{
		"ffffffffffff7fffbfffffffffffffff", // "begins" in the year 10889
		"1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", // random hex with a 7 in place
		"x",
	} {
		t.Run("JTILooksTimeOrdered/"+jti, func(t *testing.T) {
			e := newEnv(t)
			c := simpleJWTClaims("refresh", 1, time.Now().Add(-2*time.Second), time.Hour)
			c["jti"] = jti
			refresh := forge(t, testKey, c)
			minted := e.mustRefresh(refresh).Access
			caller := e.MustLogin(userEmail, userPass)
			want(t, e.logoutAll(caller.Access), http.StatusResetContent, bodyLogoutOK)
			e.wantRevokedAccess(minted)
			want(t, e.refresh(refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
		})
	}
	t.Run("SameSecond", func(t *testing.T) {
		clk := newClock(time.Unix(time.Now().Unix(), 100_000_000))
		e := newEnv(t, withClock(clk))
		refresh := forge(t, testKey, simpleJWTClaims("refresh", 1, clk.Now(), time.Hour))
		access := forge(t, testKey, simpleJWTClaims("access", 1, clk.Now(), 5*time.Minute))
		minted := e.mustRefresh(refresh).Access
		caller := e.MustLogin(userEmail, userPass)
		clk.Add(800 * time.Millisecond) // logout-all later in the same second
		want(t, e.logoutAll(caller.Access), http.StatusResetContent, bodyLogoutOK)
		e.wantRevokedAccess(caller.Access)
		e.wantRevokedAccess(access)
		e.wantRevokedAccess(minted)
		want(t, e.refresh(refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	})
}

// Many users log in, refresh, log out at once: each logout revokes its own
// session and nothing else.
func TestLogoutConcurrent(t *testing.T) {
	e := newEnv(t)
	const n = 12
	emails := make([]string, n)
	for i := range n {
		emails[i] = fmt.Sprintf("user%d@email.com", i)
		e.createUser(emails[i], userPass)
	}
	keep := make([]pair, n)
	for i := range n {
		keep[i] = e.MustLogin(emails[i], userPass)
	}
	t.Run("Group", func(t *testing.T) {
		for i := range n {
			t.Run(emails[i], func(t *testing.T) {
				t.Parallel()
				e := e.with(t)
				p := e.MustLogin(emails[i], userPass)
				a2 := e.mustRefresh(p.Refresh).Access
				e.wantMe(a2, emails[i])
				want(t, e.logout(p.Access, p.Refresh), http.StatusResetContent, bodyLogoutOK)
				e.wantRevokedAccess(p.Access)
				e.wantRevokedAccess(a2)
				e.wantRevokedRefresh(p.Refresh)
				e.wantMe(keep[i].Access, emails[i])
			})
		}
	})
	for i := range n {
		e.wantMe(keep[i].Access, emails[i])
	}
}

// The same refresh token logged out by several requests at once: exactly
// one 205, the others 400 blacklisted.
func TestLogoutConcurrentSameToken(t *testing.T) {
	e, bs := newBarrierEnv(t)
	p := e.MustLogin(userEmail, userPass)
	const n = 12
	bs.arm(n)
	ok := 0
	for _, r := range e.concurrently(n, http.MethodPost, "/api/logout/", p.Access, `{"refresh":"`+p.Refresh+`"}`) {
		if r.Status == http.StatusResetContent {
			ok++
			continue
		}
		want(t, r, http.StatusBadRequest, logoutBody(msgBlacklisted))
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent logouts with one refresh token answered 205, want exactly 1", ok, n)
	}
	e.wantRevokedAccess(p.Access)
	e.wantRevokedRefresh(p.Refresh)
}

func TestLogoutAllErrors(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	want(t, e.logoutAll(""), http.StatusUnauthorized, bodyNoCredentials)
	want(t, e.logoutAll(p.Refresh), http.StatusUnauthorized, bearerBody(msgWrongType))
	want(t, e.logoutAll("junk"), http.StatusUnauthorized, bearerBody(msgInvalid))
	want(t, e.do(http.MethodGet, "/api/logout/all/", p.Access, "", ""), http.StatusMethodNotAllowed, `{"detail":"Method \"GET\" not allowed."}`)
	e.wantMe(p.Access, userEmail)
	e.wantMe(e.mustRefresh(p.Refresh).Access, userEmail)
}
