package httpapi

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// The one table that turns domain errors into HTTP answers.

const msgUnavailable = "Service temporarily unavailable, try again later."

// tokenErrors are the token failures: SimpleJWT answers them with
// code token_not_valid.
var tokenErrors = []error{
	jwtrevoke.ErrTokenInvalid, jwtrevoke.ErrTokenNoID, jwtrevoke.ErrTokenNoType,
	jwtrevoke.ErrTokenWrongType, jwtrevoke.ErrTokenNoExp, jwtrevoke.ErrTokenBlacklisted,
	jwtrevoke.ErrTokenRefreshExpired,
}

func tokenError(err error) (error, bool) {
	for _, e := range tokenErrors {
		if errors.Is(err, e) {
			return e, true
		}
	}
	return nil, false
}

// userError maps the user failures of token authentication.
func userError(err error) (object, bool) {
	switch {
	case errors.Is(err, jwtrevoke.ErrTokenNoUser):
		return object{{"detail", jwtrevoke.ErrTokenNoUser.Error()}, {"code", "token_not_valid"}}, true
	case errors.Is(err, jwtrevoke.ErrUserNotFound):
		return object{{"detail", jwtrevoke.ErrUserNotFound.Error()}, {"code", "user_not_found"}}, true
	case errors.Is(err, jwtrevoke.ErrUserInactive):
		return object{{"detail", jwtrevoke.ErrUserInactive.Error()}, {"code", "user_inactive"}}, true
	}
	return nil, false
}

// unauthorized answers 401 with the Bearer challenge SimpleJWT sends.
func (h *Handler) unauthorized(w http.ResponseWriter, body any) {
	w.Header().Set("WWW-Authenticate", h.challenge)
	writeJSON(w, http.StatusUnauthorized, body)
}

// unavailable answers 503: the store could not answer, so nothing is
// authenticated or acknowledged.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "store error", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusServiceUnavailable, object{{"detail", msgUnavailable}, {"code", "service_unavailable"}})
}

// throttled answers 429 as DRF's Throttled exception does: Retry-After in
// whole seconds (rounded up, at least 1) and the same number in the detail.
func throttled(w http.ResponseWriter, wait time.Duration) {
	secs := int64(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeJSON(w, http.StatusTooManyRequests,
		detail(fmt.Sprintf("Request was throttled. Expected available in %d %s.", secs, unit)))
}

// tokenViewError answers an error of the token views (refresh, verify,
// blacklist): 401 {"detail","code"} as SimpleJWT, 503 for store errors.
func (h *Handler) tokenViewError(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := tokenError(err); ok {
		h.unauthorized(w, object{{"detail", e.Error()}, {"code", "token_not_valid"}})
		return
	}
	if body, ok := userError(err); ok {
		h.unauthorized(w, body)
		return
	}
	h.unavailable(w, r, err)
}

// authError answers a failed Bearer authentication.
func (h *Handler) authError(w http.ResponseWriter, r *http.Request, err error) {
	var he *headerError
	switch {
	case errors.As(err, &he):
		h.unauthorized(w, he.body())
	case errors.Is(err, errNoCredentials):
		h.unauthorized(w, detail("Authentication credentials were not provided."))
	default:
		if e, ok := tokenError(err); ok {
			// SimpleJWT tries each of AUTH_TOKEN_CLASSES and reports why
			// each refused the token.
			var msgs []object
			for _, c := range h.settings.AuthTokenClasses {
				class := "AccessToken"
				if c == jwtrevoke.SlidingToken {
					class = "SlidingToken"
				}
				msgs = append(msgs, object{{"token_class", class}, {"token_type", string(c)}, {"message", e.Error()}})
			}
			h.unauthorized(w, object{
				{"detail", "Given token not valid for any token type"},
				{"code", "token_not_valid"},
				{"messages", msgs},
			})
			return
		}
		if body, ok := userError(err); ok {
			h.unauthorized(w, body)
			return
		}
		h.unavailable(w, r, err)
	}
}

// bodyErrorAnswer answers a body that could not be parsed, DRF style.
func bodyErrorAnswer(w http.ResponseWriter, err error) {
	var be *bodyError
	if !errors.As(err, &be) {
		writeJSON(w, http.StatusBadRequest, detail(err.Error()))
		return
	}
	if be.nonField {
		writeJSON(w, be.status, object{{"non_field_errors", []string{be.msg}}})
		return
	}
	writeJSON(w, be.status, detail(be.msg))
}
