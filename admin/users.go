package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jwtrevoke/jwtrevoke"
)

// auditLimit is how many audit entries the user page shows.
const auditLimit = 100

// userURL is the page of user id.
func userURL(id int64) string { return Prefix + "users/" + strconv.FormatInt(id, 10) + "/" }

// findUser sends a search by email to the user's page.
func (h *handler) findUser(w http.ResponseWriter, r *http.Request, s *staffRequest) {
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	if email == "" {
		h.page(w, r, s, http.StatusOK, "finduser", "Find a user", "", struct{ Email, Notice string }{})
		return
	}
	u, err := h.svc.Store().UserByEmail(r.Context(), email)
	if errors.Is(err, jwtrevoke.ErrNotFound) {
		h.page(w, r, s, http.StatusNotFound, "finduser", "Find a user", "",
			struct{ Email, Notice string }{email, "No user has the email " + email + "."})
		return
	}
	if err != nil {
		h.storeError(w, r, "find a user", err)
		return
	}
	http.Redirect(w, r, userURL(u.ID), http.StatusSeeOther)
}

// sessionRow is a session on the user page.
type sessionRow struct {
	jwtrevoke.Session
	Live    bool
	Current bool // the session of this very page
}

// userData is the user page's.
type userData struct {
	User      *jwtrevoke.User
	Self      bool // the signed-in staff user
	Sessions  []sessionRow
	Audit     []jwtrevoke.Revocation
	TokensURL string
	URL       string
}

// pathUser loads the user of the path's {id}; it answers (404 or 503)
// and returns nil when there is none.
func (h *handler) pathUser(w http.ResponseWriter, r *http.Request) *jwtrevoke.User {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, http.StatusNotFound, "There is no such user.")
		return nil
	}
	u, err := h.svc.Store().UserByID(r.Context(), id)
	if errors.Is(err, jwtrevoke.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "There is no such user.")
		return nil
	}
	if err != nil {
		h.storeError(w, r, "load a user", err)
		return nil
	}
	return u
}

// userPage shows a user, their unexpired sessions (revoked ones too) and
// their audit trail, with the actions on them.
func (h *handler) userPage(w http.ResponseWriter, r *http.Request, s *staffRequest) {
	u := h.pathUser(w, r)
	if u == nil {
		return
	}
	ctx := r.Context()
	sessions, err := h.svc.Store().Sessions(ctx, u.ID, h.svc.Now())
	if err != nil {
		h.storeError(w, r, "list sessions", err)
		return
	}
	audit, err := h.svc.Audit(ctx, u.ID, auditLimit)
	if err != nil {
		h.storeError(w, r, "audit trail", err)
		return
	}
	d := userData{User: u, Self: u.ID == s.user.ID, Audit: audit, URL: userURL(u.ID),
		TokensURL: Prefix + "tokens/?" + url.Values{"q": {u.Email}}.Encode()}
	for _, ss := range sessions {
		d.Sessions = append(d.Sessions, sessionRow{Session: ss, Live: ss.RevokedAt == nil, Current: ss.ID == s.session.ID})
	}
	h.page(w, r, s, http.StatusOK, "user", u.Email, "", d)
}

// logoutAll revokes every token and session of the user (reason "admin").
func (h *handler) logoutAll(w http.ResponseWriter, r *http.Request, s *staffRequest) {
	u := h.pathUser(w, r)
	if u == nil {
		return
	}
	if err := h.svc.RevokeUser(r.Context(), u.ID, "admin"); err != nil {
		h.storeError(w, r, "log a user out everywhere", err)
		return
	}
	h.log.InfoContext(r.Context(), "admin: user logged out everywhere", "staff_id", s.user.ID, "user_id", u.ID)
	h.done(w, r, s, userURL(u.ID), flashOK, u.Email+" is logged out everywhere: every token issued to them so far is revoked.")
}

// setActive deactivates (revoking every token) or reactivates the user.
func (h *handler) setActive(w http.ResponseWriter, r *http.Request, s *staffRequest) {
	u := h.pathUser(w, r)
	if u == nil {
		return
	}
	active := r.PostFormValue("active") == "true"
	if !active && u.ID == s.user.ID {
		h.done(w, r, s, userURL(u.ID), flashError, "You cannot deactivate your own account.")
		return
	}
	if err := h.svc.SetActive(r.Context(), u.ID, active); err != nil {
		if errors.Is(err, jwtrevoke.ErrUserNotFound) {
			h.errorPage(w, r, http.StatusNotFound, "There is no such user.")
			return
		}
		h.storeError(w, r, "set active", err)
		return
	}
	h.log.InfoContext(r.Context(), "admin: user active flag set", "staff_id", s.user.ID, "user_id", u.ID, "active", active)
	msg := u.Email + " is reactivated: they can log in again (their old tokens stay revoked)."
	if !active {
		msg = u.Email + " is deactivated, and every token issued to them so far is revoked."
	}
	h.done(w, r, s, userURL(u.ID), flashOK, msg)
}

// endSession revokes one live session of the user.
func (h *handler) endSession(w http.ResponseWriter, r *http.Request, s *staffRequest) {
	u := h.pathUser(w, r)
	if u == nil {
		return
	}
	sid := r.PostFormValue("session")
	err := h.svc.EndSession(r.Context(), u.ID, sid)
	switch {
	case errors.Is(err, jwtrevoke.ErrNotFound):
		h.done(w, r, s, userURL(u.ID), flashError, "That session is not live any more.")
	case err != nil:
		h.storeError(w, r, "end a session", err)
	default:
		h.log.InfoContext(r.Context(), "admin: session ended", "staff_id", s.user.ID, "user_id", u.ID, "session", sid)
		h.done(w, r, s, userURL(u.ID), flashOK, "The session is ended: its tokens no longer work.")
	}
}
