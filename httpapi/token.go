package httpapi

import (
	"errors"
	"net/http"

	"github.com/jwtrevoke/jwtrevoke"
)

// obtain answers POST /api/token/: {"email","password"} → {"refresh","access"}.
func (h *Handler) obtain(w http.ResponseWriter, r *http.Request) {
	email, pw, ok := credentials(w, r)
	if !ok {
		return
	}
	pair, err := h.svc.Obtain(r.Context(), email, pw, clientInfo(r))
	if err != nil {
		h.loginError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, object{{"refresh", pair.Refresh}, {"access", pair.Access}})
}

// credentials reads a login's {"email","password"}, answering 400 when
// either is missing or unusable.
func credentials(w http.ResponseWriter, r *http.Request) (email, password string, ok bool) {
	data, err := readBody(w, r)
	if err != nil {
		bodyErrorAnswer(w, r, err)
		return "", "", false
	}
	vals, errs := fields(data, "email", "password")
	if errs != nil {
		fieldErrors(w, r, errs)
		return "", "", false
	}
	return vals[0], vals[1], true
}

// loginError answers a failed login: 401 for wrong credentials, 429 when
// throttled, 503 when the store could not answer.
func (h *Handler) loginError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, jwtrevoke.ErrNoActiveAccount) {
		l := requestLang(r)
		h.unauthorized(w, l, detail(l.tr(err.Error())))
		return
	}
	if te := (*jwtrevoke.ThrottledError)(nil); errors.As(err, &te) {
		throttled(w, requestLang(r), te.RetryAfter)
		return
	}
	h.unavailable(w, r, err)
}

// tokenField reads the one CharField a token view takes, answering 400 if
// it is missing or unusable.
func tokenField(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	body, err := readBytes(w, r)
	if err != nil {
		bodyErrorAnswer(w, r, err)
		return "", false
	}
	if tok, ok := tokenBody(r, body, name); ok {
		return tok, true
	}
	data, err := parseBody(r, body)
	if err != nil {
		bodyErrorAnswer(w, r, err)
		return "", false
	}
	vals, errs := fields(data, name)
	if errs != nil {
		fieldErrors(w, r, errs)
		return "", false
	}
	return vals[0], true
}

// refresh answers POST /api/token/refresh/: {"refresh"} → {"access"} (and
// "refresh" with rotation on).
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request) {
	raw, ok := tokenField(w, r, "refresh")
	if !ok {
		return
	}
	pair, err := h.svc.Refresh(r.Context(), raw)
	if err != nil {
		h.tokenViewError(w, r, err)
		return
	}
	writePair(w, pair)
}

// writePair answers {"access": ...} and, when set, "refresh": ...,
// encoded by hand (tokens need no escaping) unless a token is not plain
// ASCII.
func writePair(w http.ResponseWriter, pair jwtrevoke.TokenPair) {
	b := make([]byte, 0, 32+len(pair.Access)+len(pair.Refresh))
	b = append(b, `{"access":`...)
	b, ok := appendJSONString(b, pair.Access)
	if ok && pair.Refresh != "" {
		b = append(b, `,"refresh":`...)
		b, ok = appendJSONString(b, pair.Refresh)
	}
	if !ok {
		body := object{{"access", pair.Access}}
		if pair.Refresh != "" {
			body = append(body, kv{"refresh", pair.Refresh})
		}
		writeJSON(w, http.StatusOK, body)
		return
	}
	writeBody(w, http.StatusOK, append(b, '}'))
}

// verify answers POST /api/token/verify/: {"token"} → {}. A blacklisted or
// revoked token gives 400 {"non_field_errors": ["Token is blacklisted"]},
// as SimpleJWT answers for a blacklisted refresh token.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	raw, ok := tokenField(w, r, "token")
	if !ok {
		return
	}
	err := h.svc.Verify(r.Context(), raw)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, object{})
	case errors.Is(err, jwtrevoke.ErrTokenBlacklisted):
		fieldErrors(w, r, object{{"non_field_errors", []string{err.Error()}}})
	default:
		h.tokenViewError(w, r, err)
	}
}

// blacklist answers POST /api/token/blacklist/: {"refresh"} → {}.
func (h *Handler) blacklist(w http.ResponseWriter, r *http.Request) {
	raw, ok := tokenField(w, r, "refresh")
	if !ok {
		return
	}
	if err := h.svc.Blacklist(r.Context(), raw); err != nil {
		h.tokenViewError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, object{})
}

// jwks answers GET /.well-known/jwks.json with the public keys tokens are
// signed and checked with, for services that verify tokens themselves.
func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	body, err := h.svc.JWKS()
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}

// obtainSliding answers POST /api/token/sliding/: {"email","password"} →
// {"token"} (SimpleJWT's TokenObtainSlidingView).
func (h *Handler) obtainSliding(w http.ResponseWriter, r *http.Request) {
	email, pw, ok := credentials(w, r)
	if !ok {
		return
	}
	tok, err := h.svc.ObtainSliding(r.Context(), email, pw, clientInfo(r))
	if err != nil {
		h.loginError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, object{{"token", tok}})
}

// refreshSliding answers POST /api/token/sliding/refresh/: {"token"} →
// {"token"} with a renewed exp.
func (h *Handler) refreshSliding(w http.ResponseWriter, r *http.Request) {
	raw, ok := tokenField(w, r, "token")
	if !ok {
		return
	}
	tok, err := h.svc.RefreshSliding(r.Context(), raw)
	if err != nil {
		h.tokenViewError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, object{{"token", tok}})
}
