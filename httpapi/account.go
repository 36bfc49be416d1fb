package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// passwordChanged is dj-rest-auth's answer to a password change.
const passwordChanged = "New password has been saved."

// passwordChange answers POST /api/password/change/ (Bearer):
// {"old_password","new_password"} → 200. Every token of the user, the
// caller's included, is revoked: the client logs in again.
func (h *Handler) passwordChange(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(w, r)
	if err != nil {
		bodyErrorAnswer(w, r, err)
		return
	}
	vals, errs := fields(data, "old_password", "new_password")
	if errs != nil {
		fieldErrors(w, r, errs)
		return
	}
	err = h.svc.ChangePassword(r.Context(), UserFromContext(r.Context()).ID, vals[0], vals[1])
	var fe *jwtrevoke.FieldError
	switch {
	case err == nil:
		answer(w, r, http.StatusOK, msg(passwordChanged))
	case errors.As(err, &fe):
		fieldErrors(w, r, object{{fe.Field, fe.Messages}})
	case errors.Is(err, jwtrevoke.ErrUserNotFound):
		h.authError(w, r, err)
	default:
		h.unavailable(w, r, err)
	}
}

const sessionsPath = "/api/sessions"

// sessions answers GET /api/sessions/ (Bearer): the caller's live
// sessions, newest first, with the device each login came from.
func (h *Handler) sessions(w http.ResponseWriter, r *http.Request) {
	caller := ClaimsFromContext(r.Context())
	live, err := h.svc.Sessions(r.Context(), caller.UserID)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	list := make([]object, 0, len(live))
	for _, s := range live {
		list = append(list, object{
			{"id", s.ID},
			{"created_at", s.CreatedAt.UTC().Format(time.RFC3339)},
			{"expires_at", s.ExpiresAt.UTC().Format(time.RFC3339)},
			{"ip", s.IP},
			{"user_agent", s.UserAgent},
			{"current", s.ID == caller.SessionID},
		})
	}
	writeJSON(w, http.StatusOK, list)
}

// endSession answers DELETE /api/sessions/{id}/ (Bearer) → 204: every
// token of that login of the caller stops working. Another user's session
// or one that is no longer live is a 404.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request) {
	err := h.svc.EndSession(r.Context(), ClaimsFromContext(r.Context()).UserID, r.PathValue("id"))
	switch {
	case err == nil:
		setSecurityHeaders(w.Header(), r)
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, jwtrevoke.ErrNotFound):
		answer(w, r, http.StatusNotFound, msg("Not found."))
	default:
		h.unavailable(w, r, err)
	}
}

// auditLimit caps how many entries GET /api/audit/ answers.
const auditLimit = 100

// audit answers GET /api/audit/ (Bearer): the caller's audit trail, the
// revocations of their tokens (why, when, from which address and user
// agent), newest first, at most 100 (?limit=N for fewer).
func (h *Handler) audit(w http.ResponseWriter, r *http.Request) {
	limit := auditLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fieldErrors(w, r, object{{"limit", []string{"A valid integer is required."}}})
			return
		}
		limit = min(n, auditLimit)
	}
	entries, err := h.svc.Audit(r.Context(), ClaimsFromContext(r.Context()).UserID, limit)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	list := make([]object, 0, len(entries))
	for _, e := range entries {
		list = append(list, object{
			{"at", e.CreatedAt.UTC().Format(time.RFC3339)},
			{"reason", e.Reason},
			{"session_id", e.SessionID},
			{"ip", e.IP},
			{"user_agent", e.UserAgent},
		})
	}
	writeJSON(w, http.StatusOK, list)
}
