package admin_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/admin"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

func TestSignInStaffOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) jwtrevoke.Store) {
		e := newEnv(t, envConfig{store: open(t)})
		super := e.createUser("root@example.com", "root-password-1", false)
		super.IsSuperuser = true
		if err := e.store.UpdateUser(t.Context(), super); err != nil {
			t.Fatal(err)
		}
		inactive := e.createUser("gone@example.com", "gone-password-1", true)
		if err := e.svc.SetActive(t.Context(), inactive.ID, false); err != nil {
			t.Fatal(err)
		}

		for _, c := range []struct {
			name, email, pw string
			ok              bool
		}{
			{"staff", staffMail, staffPass, true},
			{"staff, email in another case", strings.ToUpper(staffMail), staffPass, true},
			{"superuser", "root@example.com", "root-password-1", true},
			{"not staff", userMail, userPass, false},
			{"wrong password", staffMail, "wrong-password", false},
			{"unknown email", "nobody@example.com", staffPass, false},
			{"inactive staff", "gone@example.com", "gone-password-1", false},
			{"empty password", staffMail, "", false},
		} {
			t.Run(c.name, func(t *testing.T) {
				b := e.browser()
				p := b.trySignIn(c.email, c.pw)
				if !c.ok {
					if p.StatusCode != http.StatusUnauthorized {
						t.Fatalf("status %d, want 401", p.StatusCode)
					}
					if !strings.Contains(p.body, "Enter the email and password of an active staff account.") {
						t.Errorf("no error message on the page:\n%s", p.body)
					}
					if b.cookie("jwtrevoke_admin") != nil {
						t.Error("a refused sign-in got a session cookie")
					}
					if d := b.get("/admin/"); d.StatusCode != http.StatusSeeOther {
						t.Errorf("dashboard after a refused sign-in: status %d", d.StatusCode)
					}
					return
				}
				if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/" {
					t.Fatalf("status %d, Location %q; want 303 to /admin/", p.StatusCode, p.Header.Get("Location"))
				}
				dash := b.follow(p)
				if dash.StatusCode != http.StatusOK || !strings.Contains(dash.body, "Signed in as") {
					t.Fatalf("dashboard: status %d:\n%s", dash.StatusCode, dash.body)
				}
			})
		}
	})
}

func TestSignInNextAndNoOpenRedirect(t *testing.T) {
	e := newEnv(t, envConfig{})
	b := e.browser()
	p := b.get("/admin/blacklisted/?sort=expires")
	if loc := p.Header.Get("Location"); p.StatusCode != http.StatusSeeOther || loc != "/admin/login/?next="+url.QueryEscape("/admin/blacklisted/?sort=expires") {
		t.Fatalf("status %d, Location %q", p.StatusCode, loc)
	}
	form := b.follow(p)
	if !strings.Contains(form.body, `name="next" value="/admin/blacklisted/?sort=expires"`) {
		t.Fatalf("next not kept in the form:\n%s", form.body)
	}
	for next, want := range map[string]string{
		"/admin/blacklisted/?sort=expires": "/admin/blacklisted/?sort=expires",
		"https://evil.example/":            "/admin/",
		"//evil.example/admin/":            "/admin/",
		"/api/me/":                         "/admin/",
		"/admin/\\evil":                    "/admin/",
	} {
		b := e.browser()
		form := b.get("/admin/login/")
		p := b.post("/admin/login/", url.Values{"csrf": {form.csrf(t)}, "email": {staffMail}, "password": {staffPass}, "next": {next}})
		if got := p.Header.Get("Location"); got != want {
			t.Errorf("next %q: redirected to %q, want %q", next, got, want)
		}
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, envConfig{opts: admin.Options{SecureCookies: secure}})
		b := e.browser()
		form := b.get("/admin/login/")
		login := setCookieHeader(form, "jwtrevoke_admin_login")
		p := b.post("/admin/login/", url.Values{"csrf": {form.csrf(t)}, "email": {staffMail}, "password": {staffPass}})
		sess := setCookieHeader(p, "jwtrevoke_admin")
		for name, line := range map[string]string{"session": sess, "login": login} {
			if line == "" {
				t.Fatalf("secure=%v: no %s cookie set", secure, name)
			}
			for _, attr := range []string{"Path=/admin/", "HttpOnly", "SameSite=Strict"} {
				if !strings.Contains(line, attr) {
					t.Errorf("secure=%v: %s cookie %q lacks %s", secure, name, line, attr)
				}
			}
			if strings.Contains(line, "Secure") != secure {
				t.Errorf("secure=%v: %s cookie %q", secure, name, line)
			}
			if strings.Contains(line, "Expires") || strings.Contains(line, "Max-Age") {
				t.Errorf("%s cookie %q outlives the browser", name, line)
			}
		}
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	e := newEnv(t, envConfig{})
	h := admin.New(e.svc, admin.Options{})
	req := httpRequest(t, http.MethodGet, "https://admin.example/admin/login/")
	rec := serve(h, req)
	if line := rec.Header().Get("Set-Cookie"); !strings.Contains(line, "Secure") {
		t.Errorf("cookie over TLS: %q", line)
	}
	if got := rec.Header().Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("HSTS over TLS: %q", got)
	}
}

func TestSignInRateLimit(t *testing.T) {
	st := testSettings()
	st.LoginRatePerAccount = jwtrevoke.Rate{N: 3, Per: time.Minute}
	e := newEnv(t, envConfig{settings: st})
	b := e.browser()
	for i := range 3 {
		if p := b.trySignIn(staffMail, "wrong-password"); p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, p.StatusCode)
		}
	}
	p := b.trySignIn(staffMail, staffPass) // right, but the account's attempts are used up
	if p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th attempt: status %d, want 429", p.StatusCode)
	}
	if p.Header.Get("Retry-After") == "" || !strings.Contains(p.body, "Too many sign-in attempts") {
		t.Errorf("429 without Retry-After or message: %v\n%s", p.Header, p.body)
	}
	// The API's login shares the limit: it is the same check.
	if _, err := e.svc.Obtain(t.Context(), staffMail, staffPass, jwtrevoke.ClientInfo{IP: "127.0.0.1"}); !errors.Is(err, jwtrevoke.ErrThrottled) {
		t.Errorf("API login after the admin's failures: %v, want ErrThrottled", err)
	}
	e.clock.Add(time.Minute)
	b.signIn(staffMail, staffPass)

	st.LoginRatePerAccount = jwtrevoke.Rate{}
	st.LoginRatePerIP = jwtrevoke.Rate{N: 2, Per: time.Minute}
	e = newEnv(t, envConfig{settings: st})
	e.browser().signIn(staffMail, staffPass)
	e.browser().signIn(staffMail, staffPass)
	if p := e.browser().trySignIn(staffMail, staffPass); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("3rd sign-in from one address: status %d, want 429", p.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, envConfig{})
	b := e.browser()
	token := b.signIn(staffMail, staffPass)
	target := "/admin/users/" + itoa(e.user.ID) + "/active/"
	for name, form := range map[string]url.Values{
		"missing": {"active": {"false"}},
		"empty":   {"active": {"false"}, "csrf": {""}},
		"wrong":   {"active": {"false"}, "csrf": {token[:len(token)-2] + "xx"}},
		"other":   {"active": {"false"}, "csrf": {e.browser().signIn(staffMail, staffPass)}},
	} {
		if p := b.post(target, form); p.StatusCode != http.StatusForbidden {
			t.Errorf("%s CSRF token: status %d, want 403", name, p.StatusCode)
		}
	}
	if u, _ := e.store.UserByID(t.Context(), e.user.ID); !u.IsActive {
		t.Fatal("a POST without the right CSRF token deactivated the user")
	}
	if p := b.post(target, url.Values{"active": {"false"}, "csrf": {token}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("right CSRF token: status %d", p.StatusCode)
	}
	if u, _ := e.store.UserByID(t.Context(), e.user.ID); u.IsActive {
		t.Fatal("the user is still active")
	}

	// The sign-in form: its token is tied to its cookie.
	s := e.browser()
	form := s.get("/admin/login/")
	stolen := form.csrf(t)
	other := e.browser()
	other.get("/admin/login/")
	for name, p := range map[string]page{
		"no token":         s.post("/admin/login/", url.Values{"email": {staffMail}, "password": {staffPass}}),
		"another's token":  other.post("/admin/login/", url.Values{"csrf": {stolen}, "email": {staffMail}, "password": {staffPass}}),
		"no cookie at all": e.browser().post("/admin/login/", url.Values{"csrf": {stolen}, "email": {staffMail}, "password": {staffPass}}),
	} {
		if p.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in with %s: status %d, want 403", name, p.StatusCode)
		}
	}
}

func TestCrossOriginRefused(t *testing.T) {
	e := newEnv(t, envConfig{})
	b := e.browser()
	token := b.signIn(staffMail, staffPass)
	logoutAll := "/admin/users/" + itoa(e.user.ID) + "/logout-all/"
	_, jti := e.login(userMail, userPass, "ua")
	for name, hdr := range map[string][2]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site", "same-site"},
		"foreign Origin":            {"Origin", "https://evil.example"},
	} {
		b.hdr = http.Header{hdr[0]: {hdr[1]}}
		if p := b.post(logoutAll, url.Values{"csrf": {token}}); p.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, p.StatusCode)
		}
		if p := b.post("/admin/login/", url.Values{"email": {staffMail}, "password": {staffPass}}); p.StatusCode != http.StatusForbidden {
			t.Errorf("%s sign-in: status %d, want 403", name, p.StatusCode)
		}
	}
	if black, _ := e.store.IsBlacklisted(t.Context(), jti); black {
		t.Fatal("a cross-origin POST logged the user out")
	}
	b.hdr = http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {e.srv.URL}}
	if p := b.post(logoutAll, url.Values{"csrf": {token}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin POST: status %d", p.StatusCode)
	}
	if black, _ := e.store.IsBlacklisted(t.Context(), jti); !black {
		t.Fatal("logout-all did not blacklist the user's token")
	}
}

func TestGetChangesNothing(t *testing.T) {
	e := newEnv(t, envConfig{})
	b := e.browser()
	b.signIn(staffMail, staffPass)
	_, jti := e.login(userMail, userPass, "ua")
	id := itoa(e.user.ID)
	for _, path := range []string{"/admin/logout/", "/admin/flush/", "/admin/tokens/blacklist/?jti=" + jti,
		"/admin/users/" + id + "/logout-all/", "/admin/users/" + id + "/active/?active=false"} {
		if p := b.get(path); p.StatusCode != http.StatusNotFound && p.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: status %d, want 404 or 405", path, p.StatusCode)
		}
	}
	if u, _ := e.store.UserByID(t.Context(), e.user.ID); !u.IsActive {
		t.Error("a GET deactivated the user")
	}
	if black, _ := e.store.IsBlacklisted(t.Context(), jti); black {
		t.Error("a GET blacklisted the token")
	}
	if p := b.get("/admin/"); p.StatusCode != http.StatusOK {
		t.Errorf("a GET signed the staff user out: %d", p.StatusCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) jwtrevoke.Store) {
		opts := admin.Options{SessionIdle: 10 * time.Minute, SessionMaxAge: time.Hour}
		e := newEnv(t, envConfig{store: open(t), opts: opts})

		// Idle: a request after more than SessionIdle without one.
		b := e.browser()
		b.signIn(staffMail, staffPass)
		e.clock.Add(9 * time.Minute)
		if p := b.get("/admin/"); p.StatusCode != http.StatusOK {
			t.Fatalf("after 9 idle minutes: status %d", p.StatusCode)
		}
		old := b.cookie("jwtrevoke_admin").Value
		e.clock.Add(9 * time.Minute) // 9 minutes after the last request: still fine
		if p := b.get("/admin/"); p.StatusCode != http.StatusOK {
			t.Fatalf("9 minutes after the last request: status %d", p.StatusCode)
		}
		e.clock.Add(10*time.Minute + time.Second)
		p := b.get("/admin/tokens/")
		wantRedirectToLogin(t, p)
		if form := b.follow(p); !strings.Contains(form.body, "without activity") {
			t.Errorf("no idle message on the sign-in page:\n%s", form.body)
		}
		// The cookie of an earlier request, idle for longer, is refused too.
		replay := e.browser()
		replay.setCookie("jwtrevoke_admin", old)
		wantRedirectToLogin(t, replay.get("/admin/"))
		live, err := e.svc.Sessions(t.Context(), e.staff.ID)
		if err != nil || len(live) != 0 {
			t.Fatalf("an idle sign-in left its session live: %v %v", live, err)
		}
		if audit, _ := e.svc.Audit(t.Context(), e.staff.ID, 1); len(audit) != 1 || audit[0].Reason != "admin_idle" {
			t.Errorf("audit trail %+v, want admin_idle", audit)
		}

		// Absolute: busy, but past SessionMaxAge.
		b = e.browser()
		b.signIn(staffMail, staffPass)
		for range 6 {
			e.clock.Add(9 * time.Minute)
			if p := b.get("/admin/"); p.StatusCode != http.StatusOK {
				t.Fatalf("busy session refused before its max age: %d", p.StatusCode)
			}
		}
		e.clock.Add(7 * time.Minute) // 61 minutes after the sign-in
		wantRedirectToLogin(t, b.get("/admin/"))
	})
}

func TestSignOut(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) jwtrevoke.Store) {
		st := open(t)
		e := newEnv(t, envConfig{store: st})
		// A second instance on the same store.
		other, err := jwtrevoke.New(t.Context(), st, testSettings(), jwtrevoke.Options{Hasher: cheapHasher, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		otherAdmin := admin.New(other, admin.Options{})

		b := e.browser()
		token := b.signIn(staffMail, staffPass)
		cookie := b.cookie("jwtrevoke_admin").Value
		if rec := serveWithCookie(otherAdmin, "/admin/", cookie); rec.Code != http.StatusOK {
			t.Fatalf("the other instance refuses the live session: %d", rec.Code)
		}
		p := b.post("/admin/logout/", url.Values{"csrf": {token}})
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/login/" {
			t.Fatalf("sign out: status %d, Location %q", p.StatusCode, p.Header.Get("Location"))
		}
		if !strings.Contains(setCookieHeader(p, "jwtrevoke_admin"), "Max-Age=0") {
			t.Errorf("sign-out does not delete the cookie: %q", p.Header.Values("Set-Cookie"))
		}
		if form := b.follow(p); !strings.Contains(form.body, "You are signed out.") {
			t.Errorf("no sign-out message:\n%s", form.body)
		}
		replay := e.browser()
		replay.setCookie("jwtrevoke_admin", cookie)
		wantRedirectToLogin(t, replay.get("/admin/"))
		if p := replay.post("/admin/flush/", url.Values{"csrf": {token}}); p.StatusCode != http.StatusForbidden {
			t.Errorf("POST with the old cookie: status %d, want 403", p.StatusCode)
		}
		if rec := serveWithCookie(otherAdmin, "/admin/", cookie); rec.Code != http.StatusSeeOther {
			t.Errorf("the other instance still takes the signed-out cookie: %d", rec.Code)
		}
		if audit, _ := e.svc.Audit(t.Context(), e.staff.ID, 1); len(audit) != 1 || audit[0].Reason != "admin_signout" || audit[0].IP == "" {
			t.Errorf("audit trail %+v, want admin_signout with the address", audit)
		}
	})
}

func TestSessionEndsWithTheUser(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) jwtrevoke.Store) {
		e := newEnv(t, envConfig{store: open(t)})
		ctx := t.Context()
		for _, c := range []struct {
			name string
			end  func(t *testing.T, b *browser)
		}{
			{"deactivated", func(t *testing.T, b *browser) {
				if err := e.svc.SetActive(ctx, e.staff.ID, false); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = e.svc.SetActive(ctx, e.staff.ID, true) })
			}},
			{"logged out everywhere", func(t *testing.T, b *browser) {
				if err := e.svc.RevokeUser(ctx, e.staff.ID, "logout_all"); err != nil {
					t.Fatal(err)
				}
			}},
			{"staff flag removed", func(t *testing.T, b *browser) {
				u, _ := e.store.UserByID(ctx, e.staff.ID)
				u.IsStaff = false
				if err := e.store.UpdateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { u.IsStaff = true; _ = e.store.UpdateUser(ctx, u) })
			}},
			{"session ended through the API", func(t *testing.T, b *browser) {
				live, err := e.svc.Sessions(ctx, e.staff.ID) // newest first: this sign-in's
				if err != nil || len(live) == 0 {
					t.Fatalf("sessions %v %v", live, err)
				}
				if err := e.svc.EndSession(ctx, e.staff.ID, live[0].ID); err != nil {
					t.Fatal(err)
				}
			}},
			{"its row blacklisted in the store", func(t *testing.T, b *browser) {
				rows, err := e.store.OutstandingTokens(ctx, jwtrevoke.TokenQuery{UserID: &e.staff.ID, Status: jwtrevoke.TokenLive, Limit: 1})
				if err != nil || len(rows) != 1 || rows[0].Token != jwtrevoke.StaffSessionToken {
					t.Fatalf("rows %+v %v", rows, err)
				}
				if _, err := e.store.Blacklist(ctx, rows[0]); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.clock.Add(time.Second) // a sign-in after the last cut-off
				b := e.browser()
				b.signIn(staffMail, staffPass)
				c.end(t, b)
				p := b.get("/admin/")
				wantRedirectToLogin(t, p)
				if form := b.follow(p); !strings.Contains(form.body, "Your session has ended") {
					t.Errorf("no message on the sign-in page:\n%s", form.body)
				}
			})
		}
	})
}

func TestActions(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) jwtrevoke.Store) {
		e := newEnv(t, envConfig{store: open(t)})
		ctx := t.Context()
		b := e.browser()
		token := b.signIn(staffMail, staffPass)
		userPage := "/admin/users/" + itoa(e.user.ID) + "/"

		// Blacklist one token: it and its session are revoked.
		pair, jti := e.login(userMail, userPass, "curl/8")
		other, _ := e.login(userMail, userPass, "curl/8")
		p := b.post("/admin/tokens/blacklist/", url.Values{"csrf": {token}, "jti": {jti}, "back": {"/admin/tokens/?q=" + userMail}})
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/tokens/?q="+userMail {
			t.Fatalf("blacklist: status %d, Location %q", p.StatusCode, p.Header.Get("Location"))
		}
		if list := b.follow(p); !strings.Contains(list.body, "Token "+jti+" is blacklisted") {
			t.Errorf("no flash after blacklisting:\n%s", list.body)
		}
		if black, _ := e.store.IsBlacklisted(ctx, jti); !black {
			t.Fatal("the token is not blacklisted in the store")
		}
		if _, err := e.svc.Refresh(ctx, pair.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
			t.Errorf("refresh of the blacklisted token: %v", err)
		}
		if _, _, err := e.svc.Authenticate(ctx, pair.Access); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
			t.Errorf("access token of the blacklisted session: %v", err)
		}
		if _, err := e.svc.Refresh(ctx, other.Refresh); err != nil {
			t.Errorf("another session of the user was revoked too: %v", err)
		}
		p = b.post("/admin/tokens/blacklist/", url.Values{"csrf": {token}, "jti": {jti}})
		if f := b.follow(p); !strings.Contains(f.body, "already blacklisted") {
			t.Errorf("second blacklisting:\n%s", f.body)
		}
		p = b.post("/admin/tokens/blacklist/", url.Values{"csrf": {token}, "jti": {"no-such-jti"}})
		if f := b.follow(p); !strings.Contains(f.body, "There is no outstanding token with the jti no-such-jti") {
			t.Errorf("unknown jti:\n%s", f.body)
		}

		// End one session from the user page.
		live, err := e.svc.Sessions(ctx, e.user.ID)
		if err != nil || len(live) != 1 {
			t.Fatalf("live sessions %+v %v", live, err)
		}
		p = b.post(userPage+"end-session/", url.Values{"csrf": {token}, "session": {live[0].ID}})
		if f := b.follow(p); !strings.Contains(f.body, "The session is ended") {
			t.Errorf("end session:\n%s", f.body)
		}
		if _, err := e.svc.Refresh(ctx, other.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
			t.Errorf("refresh after the session was ended: %v", err)
		}

		// Log out everywhere.
		third, _ := e.login(userMail, userPass, "curl/8")
		e.clock.Add(time.Second)
		p = b.post(userPage+"logout-all/", url.Values{"csrf": {token}})
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != userPage {
			t.Fatalf("logout-all: status %d, Location %q", p.StatusCode, p.Header.Get("Location"))
		}
		if f := b.follow(p); !strings.Contains(f.body, "is logged out everywhere") {
			t.Errorf("logout-all flash:\n%s", f.body)
		}
		if _, _, err := e.svc.Authenticate(ctx, third.Access); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
			t.Errorf("access token after logout-all: %v", err)
		}
		audit, err := e.svc.Audit(ctx, e.user.ID, 1)
		if err != nil || len(audit) != 1 || audit[0].Reason != "admin" || audit[0].IP != "127.0.0.1" {
			t.Errorf("audit after logout-all: %+v %v", audit, err)
		}

		// Deactivate, then reactivate.
		p = b.post(userPage+"active/", url.Values{"csrf": {token}, "active": {"false"}})
		if f := b.follow(p); !strings.Contains(f.body, "is deactivated") || !strings.Contains(f.body, "inactive") {
			t.Errorf("deactivate:\n%s", f.body)
		}
		if _, err := e.svc.Obtain(ctx, userMail, userPass, jwtrevoke.ClientInfo{}); !errors.Is(err, jwtrevoke.ErrNoActiveAccount) {
			t.Errorf("login of a deactivated user: %v", err)
		}
		p = b.post(userPage+"active/", url.Values{"csrf": {token}, "active": {"true"}})
		if f := b.follow(p); !strings.Contains(f.body, "is reactivated") {
			t.Errorf("reactivate:\n%s", f.body)
		}
		if _, err := e.svc.Obtain(ctx, userMail, userPass, jwtrevoke.ClientInfo{}); err != nil {
			t.Errorf("login after reactivation: %v", err)
		}

		// One's own account cannot be deactivated.
		p = b.post("/admin/users/"+itoa(e.staff.ID)+"/active/", url.Values{"csrf": {token}, "active": {"false"}})
		if f := b.follow(p); !strings.Contains(f.body, "You cannot deactivate your own account.") {
			t.Errorf("self-deactivation:\n%s", f.body)
		}
		if u, _ := e.store.UserByID(ctx, e.staff.ID); !u.IsActive {
			t.Fatal("the staff user deactivated themselves")
		}

		// Flush: what expired is deleted, and the flash says how much.
		e.clock.Add(25 * time.Hour) // every refresh token has expired
		b = e.browser()
		token = b.signIn(staffMail, staffPass)
		before, err := e.svc.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if before.Expired.Outstanding < 4 {
			t.Fatalf("stats before the flush: %+v", before)
		}
		p = b.post("/admin/flush/", url.Values{"csrf": {token}})
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/" {
			t.Fatalf("flush: status %d, Location %q", p.StatusCode, p.Header.Get("Location"))
		}
		f := b.follow(p)
		wantFlash := "Deleted " + itoa(before.Expired.Outstanding) + " outstanding tokens"
		if !strings.Contains(f.body, wantFlash) {
			t.Errorf("flush flash lacks %q:\n%s", wantFlash, f.body)
		}
		after, err := e.svc.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.ExpiredTokens != 0 || after.Expired.Outstanding != 0 || after.LiveSessions != 1 {
			t.Errorf("stats after the flush: %+v", after)
		}
	})
}

func TestDashboard(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := t.Context()
	b := e.browser()
	b.signIn(staffMail, staffPass)
	_, jti := e.login(userMail, userPass, "ua")
	e.login(userMail, userPass, "ua")
	if err := e.svc.Blacklist(ctx, mustToken(t, e, jti)); err != nil {
		t.Fatal(err)
	}
	p := b.get("/admin/")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d", p.StatusCode)
	}
	st, err := e.svc.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range map[string]int64{
		"live-sessions": st.LiveSessions, "live-tokens": st.LiveTokens, "expired-tokens": st.ExpiredTokens,
		"blacklisted-tokens": st.BlacklistedTokens, "revoked-hour": st.RevokedLastHour, "revoked-day": st.RevokedLastDay,
	} {
		want := `id="` + id + `">` + itoa(n) + `<`
		if !strings.Contains(p.body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if st.LiveSessions != 2 || st.BlacklistedTokens != 1 || st.RevokedLastHour != 1 { // the staff sign-in is a session
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(p.body, "answering</span> in") || !strings.Contains(p.body, "current</span>") {
		t.Errorf("store health not shown:\n%s", p.body)
	}

	// A store that stops answering: the page says so (and the session
	// check fails closed).
	mem := e.store.(*memory.Store)
	mem.Close()
	if p := b.get("/admin/"); p.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dashboard over a closed store: %d", p.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, envConfig{})
	b := e.browser()
	b.signIn(staffMail, staffPass)
	if p := e.browser().get("/admin/login/"); p.StatusCode != http.StatusOK || p.Header.Get("Content-Security-Policy") != b.get("/admin/").Header.Get("Content-Security-Policy") {
		t.Errorf("sign-in page: %d %v", p.StatusCode, p.Header)
	}
	if p := b.get("/admin/login/"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/" {
		t.Errorf("sign-in page when signed in: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	for _, path := range []string{"/admin/", "/admin/tokens/", "/admin/blacklisted/", "/admin/users/" + itoa(e.user.ID) + "/", "/admin/nope"} {
		p := b.get(path)
		if got := p.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, got)
		}
		if got := p.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, got)
		}
		if p.Header.Get("X-Content-Type-Options") != "nosniff" || p.Header.Get("X-Frame-Options") != "DENY" || p.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: headers %v", path, p.Header)
		}
		if path != "/admin/nope" && (p.StatusCode != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html")) {
			t.Errorf("%s: status %d, type %q", path, p.StatusCode, p.Header.Get("Content-Type"))
		}
	}
	if p := b.get("/admin/nope"); p.StatusCode != http.StatusNotFound || !strings.Contains(p.body, "There is no such page") {
		t.Errorf("unknown page: %d", p.StatusCode)
	}
	css := b.get("/admin/static/admin.css")
	if css.StatusCode != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, "tbody tr:nth-child(even)") {
		t.Errorf("style sheet: %d %q", css.StatusCode, css.Header.Get("Content-Type"))
	}
	if p := b.get("/admin"); p.StatusCode != http.StatusMovedPermanently || p.Header.Get("Location") != "/admin/" {
		t.Errorf("/admin: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	// The API is untouched beside it.
	if p := b.get("/api/me/"); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/me/ without a token: %d", p.StatusCode)
	}
	if p := b.get("/elsewhere"); p.StatusCode != http.StatusNotFound {
		t.Errorf("/elsewhere: %d", p.StatusCode)
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	e := newEnv(t, envConfig{})
	const evilMail = `"><script>alert(1)</script>@evil.example`
	const evilUA = `<img src=x onerror=alert(2)>"'&`
	evil := e.createUser(evilMail, "evil-password-1", false)
	pair, jti := e.login(evilMail, "evil-password-1", evilUA)
	ctx := jwtrevoke.WithClientInfo(t.Context(), jwtrevoke.ClientInfo{IP: "198.51.100.9", UserAgent: evilUA})
	if err := e.svc.Blacklist(ctx, pair.Refresh); err != nil {
		t.Fatal(err)
	}
	e.login(evilMail, "evil-password-1", evilUA)
	b := e.browser()
	b.signIn(staffMail, staffPass)
	for _, path := range []string{
		"/admin/users/" + itoa(evil.ID) + "/",
		"/admin/tokens/?q=" + url.QueryEscape(evilMail),
		"/admin/blacklisted/",
		"/admin/tokens/?q=" + url.QueryEscape(`<b>x</b>`),
		"/admin/users/?email=" + url.QueryEscape(`<i>nobody</i>@x.example`),
	} {
		p := b.get(path)
		for _, raw := range []string{"<script>", "<img", "<b>x", "<i>nobody"} {
			if strings.Contains(p.body, raw) {
				t.Errorf("%s: unescaped %q in the page", path, raw)
			}
		}
		if path == "/admin/users/"+itoa(evil.ID)+"/" {
			for _, esc := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;"} {
				if !strings.Contains(p.body, esc) {
					t.Errorf("user page lacks %q", esc)
				}
			}
		}
	}
	// The flash of an action naming the email is escaped too.
	token := b.get("/admin/").csrf(t)
	p := b.post("/admin/users/"+itoa(evil.ID)+"/logout-all/", url.Values{"csrf": {token}})
	if f := b.follow(p); strings.Contains(f.body, "<script>") || !strings.Contains(f.body, "&lt;script&gt;") {
		t.Errorf("flash not escaped:\n%s", f.body)
	}
	if p := b.get("/admin/tokens/?q=" + jti); !strings.Contains(p.body, `&#34;&gt;&lt;script&gt;`) {
		t.Errorf("token row of the hostile user not escaped:\n%s", p.body)
	}
}

func TestFlashCannotBeForged(t *testing.T) {
	e := newEnv(t, envConfig{})
	b := e.browser()
	b.signIn(staffMail, staffPass)
	b.setCookie("jwtrevoke_admin_flash", "ok.Q2FsbCA1NTUtMDEwMA.forged")
	if p := b.get("/admin/"); strings.Contains(p.body, "Call 555-0100") {
		t.Error("a forged flash cookie was shown")
	}
}

func TestFindUser(t *testing.T) {
	e := newEnv(t, envConfig{})
	b := e.browser()
	b.signIn(staffMail, staffPass)
	p := b.get("/admin/users/?email=" + url.QueryEscape(strings.ToUpper(userMail)))
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/users/"+itoa(e.user.ID)+"/" {
		t.Fatalf("find by email: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	if p := b.get("/admin/users/?email=nobody%40example.com"); p.StatusCode != http.StatusNotFound || !strings.Contains(p.body, "No user has the email nobody@example.com.") {
		t.Errorf("unknown email: %d", p.StatusCode)
	}
	if p := b.get("/admin/users/999/"); p.StatusCode != http.StatusNotFound {
		t.Errorf("unknown user id: %d", p.StatusCode)
	}
	if p := b.get("/admin/users/x/"); p.StatusCode != http.StatusNotFound {
		t.Errorf("bad user id: %d", p.StatusCode)
	}
}

func TestUserPage(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) jwtrevoke.Store) {
		e := newEnv(t, envConfig{store: open(t)})
		ctx := t.Context()
		pair, _ := e.login(userMail, userPass, "Firefox/140")
		e.login(userMail, userPass, "Safari/18")
		if err := e.svc.Blacklist(jwtrevoke.WithClientInfo(ctx, jwtrevoke.ClientInfo{IP: "203.0.113.5", UserAgent: "Edge/1"}), pair.Refresh); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.signIn(staffMail, staffPass)
		p := b.get("/admin/users/" + itoa(e.user.ID) + "/")
		if p.StatusCode != http.StatusOK {
			t.Fatalf("user page: %d", p.StatusCode)
		}
		for _, want := range []string{userMail, "Firefox/140", "Safari/18", "192.0.2.7", "203.0.113.5", "Edge/1",
			`<span class="badge reason">blacklist</span>`, "End session", "Log out everywhere", "Deactivate", `<span class="badge live">live</span>`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("user page lacks %q", want)
			}
		}
		if strings.Count(p.body, "End session") != 1 {
			t.Errorf("want one live session to end")
		}
		own := b.get("/admin/users/" + itoa(e.staff.ID) + "/")
		if !strings.Contains(own.body, "this sign-in") || strings.Contains(own.body, `id="deactivate"`) {
			t.Errorf("own page:\n%s", own.body)
		}
	})
}

func TestAdminSessionInTokenList(t *testing.T) {
	e := newEnv(t, envConfig{})
	b := e.browser()
	token := b.signIn(staffMail, staffPass)
	p := b.get("/admin/tokens/?q=" + url.QueryEscape(staffMail))
	if !strings.Contains(p.body, "admin sign-in") || strings.Contains(p.body, ">Blacklist</button>") {
		t.Errorf("the admin sign-in row:\n%s", p.body)
	}
	rows, err := e.store.OutstandingTokens(t.Context(), jwtrevoke.TokenQuery{UserID: &e.staff.ID})
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	p = b.post("/admin/tokens/blacklist/", url.Values{"csrf": {token}, "jti": {rows[0].JTI}})
	if f := b.follow(p); !strings.Contains(f.body, "is an admin sign-in") {
		t.Errorf("blacklisting an admin sign-in row:\n%s", f.body)
	}
}

// mustToken returns the encoded token of the outstanding row jti.
func mustToken(t *testing.T, e *env, jti string) string {
	t.Helper()
	rows, err := e.store.OutstandingTokens(t.Context(), jwtrevoke.TokenQuery{JTI: jti})
	if err != nil || len(rows) != 1 {
		t.Fatalf("token %s: %v %v", jti, rows, err)
	}
	return rows[0].Token
}

func TestStaffCredential(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) jwtrevoke.Store) {
		e := newEnv(t, envConfig{store: open(t)})
		ctx := t.Context()
		if _, _, err := e.svc.StartStaffSession(ctx, e.user, time.Hour, jwtrevoke.ClientInfo{}); !errors.Is(err, jwtrevoke.ErrNoActiveAccount) {
			t.Errorf("a session for a user who is not staff: %v", err)
		}
		cred, sess, err := e.svc.StartStaffSession(ctx, e.staff, time.Hour, jwtrevoke.ClientInfo{IP: "192.0.2.1", UserAgent: "ua"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(cred, "secret") || !strings.HasPrefix(cred, itoa(e.staff.ID)+"."+sess.ID+".") {
			t.Fatalf("credential %q for session %s", cred, sess.ID)
		}
		u, got, err := e.svc.StaffSession(ctx, cred)
		if err != nil || u.ID != e.staff.ID || got.ID != sess.ID || got.IP != "192.0.2.1" {
			t.Fatalf("StaffSession: %+v %+v %v", u, got, err)
		}
		parts := strings.Split(cred, ".")
		flip := func(s string) string {
			b := []byte(s)
			if b[len(b)-2] == 'A' {
				b[len(b)-2] = 'B'
			} else {
				b[len(b)-2] = 'A'
			}
			return string(b)
		}
		for name, bad := range map[string]string{
			"empty":           "",
			"garbage":         "a.b.c",
			"other user":      itoa(e.user.ID) + "." + parts[1] + "." + parts[2],
			"altered secret":  parts[0] + "." + parts[1] + "." + flip(parts[2]),
			"altered session": parts[0] + "." + flip(parts[1]) + "." + parts[2],
			"short secret":    parts[0] + "." + parts[1] + "." + parts[2][:20],
			"extra part":      cred + ".x",
		} {
			if _, _, err := e.svc.StaffSession(ctx, bad); !errors.Is(err, jwtrevoke.ErrStaffSession) {
				t.Errorf("%s credential: %v, want ErrStaffSession", name, err)
			}
		}
		// The store holds the session id, never the secret.
		rows, err := e.store.OutstandingTokens(ctx, jwtrevoke.TokenQuery{JTI: sess.ID})
		if err != nil || len(rows) != 1 || rows[0].Token != jwtrevoke.StaffSessionToken || strings.Contains(rows[0].Token, parts[2]) {
			t.Fatalf("outstanding row %+v %v", rows, err)
		}
		if err := e.svc.EndStaffSession(ctx, cred, "admin_signout"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.EndStaffSession(ctx, cred, "admin_signout"); err != nil {
			t.Errorf("ending an ended session: %v", err)
		}
		if _, _, err := e.svc.StaffSession(ctx, cred); !errors.Is(err, jwtrevoke.ErrStaffSession) {
			t.Errorf("an ended session: %v", err)
		}
	})
}

func TestTamperedCookie(t *testing.T) {
	e := newEnv(t, envConfig{})
	b := e.browser()
	b.signIn(staffMail, staffPass)
	v := b.cookie("jwtrevoke_admin").Value
	i := strings.LastIndexByte(v, '.')
	j := strings.LastIndexByte(v[:i], '.')
	later := itoa(e.clock.Now().Add(time.Hour).Unix())
	for name, bad := range map[string]string{
		"moved idle time": v[:j+1] + later + v[i:],
		"no MAC":          v[:i],
		"bad MAC":         v[:i+1] + "AAAA",
		"garbage":         "x",
	} {
		t.Run(name, func(t *testing.T) {
			c := e.browser()
			c.setCookie("jwtrevoke_admin", bad)
			wantRedirectToLogin(t, c.get("/admin/"))
		})
	}
}

func TestStoreDownAtSignIn(t *testing.T) {
	mem := memory.New()
	e := newEnv(t, envConfig{store: mem})
	b := e.browser()
	form := b.get("/admin/login/")
	mem.Close()
	p := b.post("/admin/login/", url.Values{"csrf": {form.csrf(t)}, "email": {staffMail}, "password": {staffPass}})
	if p.StatusCode != http.StatusServiceUnavailable || b.cookie("jwtrevoke_admin") != nil {
		t.Errorf("sign-in over a closed store: %d", p.StatusCode)
	}
}
