package admin

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/jwtrevoke/jwtrevoke"
)

// loginData is the sign-in page's.
type loginData struct {
	Email string
	Next  string
	Token string // the form's CSRF token
	Error string
}

// msgBadCredentials answers every refused sign-in, whatever the cause.
const msgBadCredentials = "Enter the email and password of an active staff account."

// loginForm shows the sign-in form, or sends a signed-in user on.
func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	key, err := h.keys.get(r.Context())
	if err != nil {
		h.storeError(w, r, "cookie key", err)
		return
	}
	next := localPath(r.URL.Query().Get("next"), Prefix)
	if cred, state := h.openSession(key, r, h.svc.Now()); state == cookieOK {
		if _, _, err := h.svc.StaffSession(r.Context(), cred); err == nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
	}
	h.showLogin(w, r, key, http.StatusOK, loginData{Next: next})
}

// showLogin renders the sign-in form with a CSRF token: the MAC of a
// random cookie, set here if the browser has none.
func (h *handler) showLogin(w http.ResponseWriter, r *http.Request, key []byte, status int, d loginData) {
	secret := ""
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) >= 43 {
		secret = c.Value
	} else {
		secret = randomToken()
		h.setCookie(w, r, loginCookie, secret, 0)
	}
	d.Token = sign(key, macLogin, secret)
	h.render(w, r, status, "login", &view{Title: "Sign in", Flash: h.takeFlash(w, r, key), Data: d})
}

// loginSubmit checks a sign-in (Service.CheckStaff: the API login's rate
// limits and password check, staff only) and starts a session.
func (h *handler) loginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key, err := h.keys.get(ctx)
	if err != nil {
		h.storeError(w, r, "cookie key", err)
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !signed(key, macLogin, c.Value, r.PostFormValue("csrf")) {
		h.log.WarnContext(ctx, "admin: sign-in CSRF token missing or wrong")
		h.errorPage(w, r, http.StatusForbidden, "This sign-in form has expired or did not come from this site. Reload the sign-in page and try again.")
		return
	}
	email := r.PostFormValue("email")
	d := loginData{Email: email, Next: localPath(r.PostFormValue("next"), Prefix)}
	info := jwtrevoke.ClientInfoFrom(ctx)
	u, err := h.svc.CheckStaff(ctx, email, r.PostFormValue("password"), info)
	var throttled *jwtrevoke.ThrottledError
	switch {
	case errors.As(err, &throttled):
		secs := int64(math.Ceil(throttled.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
		d.Error = fmt.Sprintf("Too many sign-in attempts. Try again in %d %s.", max(secs, 1), plural(max(secs, 1), "second", "seconds"))
		h.log.WarnContext(ctx, "admin: sign-in throttled", "limit", throttled.Limit, "ip", info.IP)
		h.showLogin(w, r, key, http.StatusTooManyRequests, d)
		return
	case errors.Is(err, jwtrevoke.ErrNoActiveAccount):
		d.Error = msgBadCredentials
		h.log.InfoContext(ctx, "admin: sign-in refused", "ip", info.IP)
		h.showLogin(w, r, key, http.StatusUnauthorized, d)
		return
	case err != nil:
		h.storeError(w, r, "sign in", err)
		return
	}
	cred, _, err := h.svc.StartStaffSession(ctx, u, h.opts.SessionMaxAge, info)
	if err != nil {
		h.storeError(w, r, "start a session", err)
		return
	}
	h.log.InfoContext(ctx, "admin: signed in", "staff_id", u.ID, "ip", info.IP)
	h.clearCookie(w, r, loginCookie)
	h.setCookie(w, r, sessionCookie, sessionValue(key, cred, h.svc.Now()), 0)
	h.setFlash(w, r, key, flashOK, "Signed in as "+u.Email+".")
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout ends the session on every instance and deletes the cookie.
func (h *handler) logout(w http.ResponseWriter, r *http.Request, s *staffRequest) {
	if err := h.svc.EndStaffSession(r.Context(), s.cred, "admin_signout"); err != nil {
		h.storeError(w, r, "sign out", err)
		return
	}
	h.log.InfoContext(r.Context(), "admin: signed out", "staff_id", s.user.ID)
	h.clearCookie(w, r, sessionCookie)
	h.done(w, r, s, Prefix+"login/", flashOK, "You are signed out.")
}
