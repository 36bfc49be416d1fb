package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/jwtrevoke/jwtrevoke"
)

// logoutOK answers 205 {"detail": "Logout successful."} in r's language.
func logoutOK(w http.ResponseWriter, r *http.Request) {
	answer(w, r, http.StatusResetContent, msg("Logout successful."))
}

// logoutError answers like the seed's LogoutView, {"error": msg} (in r's
// language), with 400 for a bad refresh token, 403 for someone else's
// token and 503 when the store could not answer.
func (h *Handler) logoutError(w http.ResponseWriter, r *http.Request, status int, t text) {
	l := requestLang(r)
	writeMessage(w, l, status, object{{"error", t.in(l)}})
}

// logout answers POST /api/logout/ (Bearer): {"refresh"} → 205.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(w, r)
	if err != nil {
		var be *bodyError
		if errors.As(err, &be) {
			h.logoutError(w, r, be.status, be.msg)
		} else {
			h.logoutError(w, r, http.StatusBadRequest, msg(err.Error()))
		}
		return
	}
	var raw string
	switch v := data["refresh"].(type) {
	case string:
		raw = v
	case json.Number:
		raw = v.String()
	case nil:
		if caller := ClaimsFromContext(r.Context()); caller.Type == jwtrevoke.SlidingToken {
			// A sliding token is its own refresh token: logging out with
			// it ends its session.
			if err := h.svc.LogoutSliding(r.Context(), caller, rawTokenFromContext(r.Context())); err != nil {
				h.unavailable(w, r, err)
				return
			}
			logoutOK(w, r)
			return
		}
		h.logoutError(w, r, http.StatusBadRequest, msg(`The "refresh" field is required.`))
		return
	default:
		h.logoutError(w, r, http.StatusBadRequest, msg(`The "refresh" field must be a string.`))
		return
	}
	err = h.svc.Logout(r.Context(), ClaimsFromContext(r.Context()), raw)
	switch {
	case err == nil:
		logoutOK(w, r)
	case errors.Is(err, jwtrevoke.ErrForeignToken):
		h.logoutError(w, r, http.StatusForbidden, msg(err.Error()+"."))
	default:
		if e, ok := tokenError(err); ok {
			h.logoutError(w, r, http.StatusBadRequest, msg(e.Error()))
			return
		}
		if errors.Is(err, jwtrevoke.ErrTokenNoUser) {
			h.logoutError(w, r, http.StatusBadRequest, msg(err.Error()))
			return
		}
		h.unavailable(w, r, err)
	}
}

// logoutAll answers POST /api/logout/all/ (Bearer) → 205: every session of
// the user is revoked.
func (h *Handler) logoutAll(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.LogoutAll(r.Context(), ClaimsFromContext(r.Context())); err != nil {
		h.unavailable(w, r, err)
		return
	}
	logoutOK(w, r)
}

// me answers GET /api/me/ (Bearer): {"id","email"}, written by hand: it
// is the example of a protected route, whose cost benchmarks measure.
func (h *Handler) me(w http.ResponseWriter, r *http.Request) {
	u := UserFromContext(r.Context())
	var buf [128]byte
	b := append(buf[:0], `{"id":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	b = append(b, `,"email":`...)
	b, ok := appendJSONString(b, u.Email)
	if !ok {
		writeJSON(w, http.StatusOK, object{{"id", u.ID}, {"email", u.Email}})
		return
	}
	writeBody(w, http.StatusOK, append(b, '}'))
}
