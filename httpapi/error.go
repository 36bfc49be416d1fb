package httpapi

import (
	"errors"
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

// userError maps the user failures of token authentication, the detail
// in l.
func userError(err error, l lang) (object, bool) {
	switch {
	case errors.Is(err, jwtrevoke.ErrTokenNoUser):
		return object{{"detail", l.tr(jwtrevoke.ErrTokenNoUser.Error())}, {"code", "token_not_valid"}}, true
	case errors.Is(err, jwtrevoke.ErrUserNotFound):
		return object{{"detail", l.tr(jwtrevoke.ErrUserNotFound.Error())}, {"code", "user_not_found"}}, true
	case errors.Is(err, jwtrevoke.ErrUserInactive):
		return object{{"detail", l.tr(jwtrevoke.ErrUserInactive.Error())}, {"code", "user_inactive"}}, true
	}
	return nil, false
}

// unauthorized answers 401 with the Bearer challenge SimpleJWT sends; body
// carries a message in l.
func (h *Handler) unauthorized(w http.ResponseWriter, l lang, body any) {
	w.Header().Set("WWW-Authenticate", h.challenge)
	writeMessage(w, l, http.StatusUnauthorized, body)
}

// unavailable answers 503: the store could not answer, so nothing is
// authenticated or acknowledged.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "store error", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "1")
	l := requestLang(r)
	writeMessage(w, l, http.StatusServiceUnavailable, object{{"detail", l.tr(msgUnavailable)}, {"code", "service_unavailable"}})
}

// throttled answers 429 as DRF's Throttled exception does: Retry-After in
// whole seconds (rounded up, at least 1) and the same number in the detail,
// in l.
func throttled(w http.ResponseWriter, l lang, wait time.Duration) {
	secs := int64(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	expected := "Expected available in %d seconds."
	if secs == 1 {
		expected = "Expected available in %d second."
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeMessage(w, l, http.StatusTooManyRequests,
		detail(l.tr("Request was throttled.")+" "+l.tr(expected, secs)))
}

// tokenViewError answers an error of the token views (refresh, verify,
// blacklist): 401 {"detail","code"} as SimpleJWT, 503 for store errors.
func (h *Handler) tokenViewError(w http.ResponseWriter, r *http.Request, err error) {
	l := requestLang(r)
	if e, ok := tokenError(err); ok {
		h.unauthorized(w, l, object{{"detail", l.tr(e.Error())}, {"code", "token_not_valid"}})
		return
	}
	if body, ok := userError(err, l); ok {
		h.unauthorized(w, l, body)
		return
	}
	h.unavailable(w, r, err)
}

// authError answers a failed Bearer authentication.
func (h *Handler) authError(w http.ResponseWriter, r *http.Request, err error) {
	l := requestLang(r)
	var he *headerError
	switch {
	case errors.As(err, &he):
		h.unauthorized(w, l, he.body(l))
	case errors.Is(err, errNoCredentials):
		h.unauthorized(w, l, detail(l.tr("Authentication credentials were not provided.")))
	default:
		if e, ok := tokenError(err); ok {
			m := l.tr(e.Error())
			// SimpleJWT tries each of AUTH_TOKEN_CLASSES and reports why
			// each refused the token.
			var msgs []object
			for _, c := range h.settings.AuthTokenClasses {
				class := "AccessToken"
				if c == jwtrevoke.SlidingToken {
					class = "SlidingToken"
				}
				msgs = append(msgs, object{{"token_class", class}, {"token_type", string(c)}, {"message", m}})
			}
			h.unauthorized(w, l, object{
				{"detail", l.tr("Given token not valid for any token type")},
				{"code", "token_not_valid"},
				{"messages", msgs},
			})
			return
		}
		if body, ok := userError(err, l); ok {
			h.unauthorized(w, l, body)
			return
		}
		h.unavailable(w, r, err)
	}
}

// bodyErrorAnswer answers a body that could not be parsed, DRF style, in
// r's language.
func bodyErrorAnswer(w http.ResponseWriter, r *http.Request, err error) {
	l := requestLang(r)
	var be *bodyError
	if !errors.As(err, &be) {
		writeMessage(w, l, http.StatusBadRequest, detail(l.tr(err.Error())))
		return
	}
	if be.nonField {
		writeMessage(w, l, be.status, object{{"non_field_errors", []string{be.msg.in(l)}}})
		return
	}
	writeMessage(w, l, be.status, detail(be.msg.in(l)))
}
