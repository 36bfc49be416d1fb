package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/jwtrevoke/jwtrevoke"
)

type ctxKey int

const authKey ctxKey = 0

// auth is what Authenticate found for a request.
type auth struct {
	user   *jwtrevoke.User
	claims *jwtrevoke.Claims
	raw    string // the encoded token, when it authenticated
	err    error
}

// rawTokenFromContext returns the encoded token that authenticated the
// request.
func rawTokenFromContext(ctx context.Context) string {
	if a, ok := ctx.Value(authKey).(*auth); ok && a.err == nil {
		return a.raw
	}
	return ""
}

// errNoCredentials means the request carried no usable Authorization header.
var errNoCredentials = errors.New("authentication credentials were not provided")

// headerError is a malformed Authorization header.
type headerError struct{}

func (*headerError) Error() string {
	return "Authorization header must contain two space-delimited values"
}

func (e *headerError) body() object {
	return object{{"detail", e.Error()}, {"code", "bad_authorization_header"}}
}

// UserFromContext returns the user Authenticate authenticated, or nil.
func UserFromContext(ctx context.Context) *jwtrevoke.User {
	if a, ok := ctx.Value(authKey).(*auth); ok {
		return a.user
	}
	return nil
}

// ClaimsFromContext returns the claims of the access token Authenticate
// accepted, or nil.
func ClaimsFromContext(ctx context.Context) *jwtrevoke.Claims {
	if a, ok := ctx.Value(authKey).(*auth); ok {
		return a.claims
	}
	return nil
}

// ErrorFromContext returns why Authenticate refused the request's
// credentials, or nil when it accepted them. A request without credentials
// gives an error too; RequireUser turns these errors into SimpleJWT's 401s.
func ErrorFromContext(ctx context.Context) error {
	if a, ok := ctx.Value(authKey).(*auth); ok {
		return a.err
	}
	return errNoCredentials
}

// rawToken extracts the token from the header as SimpleJWT does: a header
// whose first word is not one of AUTH_HEADER_TYPES counts as no credentials;
// one with a known type but not exactly two words is malformed.
func (h *Handler) rawToken(r *http.Request) (string, error) {
	parts := strings.Fields(r.Header.Get(h.settings.AuthHeaderName))
	if len(parts) == 0 || !slices.Contains(h.settings.AuthHeaderTypes, parts[0]) {
		return "", errNoCredentials
	}
	if len(parts) != 2 {
		return "", &headerError{}
	}
	return parts[1], nil
}

// Authenticate is middleware that checks the request's Bearer access token
// (signature, expiry, type, revocation, user) and records the outcome in
// the request context: UserFromContext and ClaimsFromContext on success,
// ErrorFromContext otherwise. It never answers by itself; put RequireUser
// after it to refuse unauthenticated requests.
func (h *Handler) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &auth{}
		raw, err := h.rawToken(r)
		if err == nil {
			a.user, a.claims, err = h.svc.Authenticate(r.Context(), raw)
			a.raw = raw
		}
		a.err = err
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authKey, a)))
	})
}

// RequireUser is middleware that answers 401 (with SimpleJWT's bodies and
// the Bearer challenge) unless Authenticate accepted the request's token,
// and 503 if the store could not be asked.
func (h *Handler) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ErrorFromContext(r.Context()); err != nil {
			setSecurityHeaders(w.Header(), r)
			h.authError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Protect is Authenticate followed by RequireUser.
func (h *Handler) Protect(next http.Handler) http.Handler {
	return h.Authenticate(h.RequireUser(next))
}
