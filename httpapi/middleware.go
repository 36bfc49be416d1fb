package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/jwtrevoke/jwtrevoke"
)

type ctxKey int

const authKey ctxKey = 0

// auth is what Authenticate found for a request. It is also the request's
// context (its parent's, plus itself under authKey), so that recording it
// costs one allocation, not three.
type auth struct {
	context.Context
	user   *jwtrevoke.User
	claims *jwtrevoke.Claims
	raw    string // the encoded token, when it authenticated
	err    error
}

// Value implements context.Context.
func (a *auth) Value(key any) any {
	if key == any(authKey) {
		return a
	}
	return a.Context.Value(key)
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

func (e *headerError) body(l lang) object {
	return object{{"detail", l.tr(e.Error())}, {"code", "bad_authorization_header"}}
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
	var v string
	if vs := r.Header[h.authHeader]; len(vs) > 0 {
		v = vs[0]
	}
	typ, token, n := words(v)
	if n == 0 || !slices.Contains(h.settings.AuthHeaderTypes, typ) {
		return "", errNoCredentials
	}
	if n != 2 {
		return "", &headerError{}
	}
	return token, nil
}

// words splits s as Python's bytes.split() (which SimpleJWT applies to
// the header) does, on runs of ASCII whitespace, without allocating: the
// first two words, and how many there are (counting stops at 3).
func words(s string) (first, second string, n int) {
	for i := 0; i < len(s) && n < 3; {
		for i < len(s) && asciiSpace(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		j := wordEnd(s, i)
		switch n {
		case 0:
			first = s[i:j]
		case 1:
			second = s[i:j]
		}
		n++
		i = j
	}
	return first, second, n
}

// wordEnd is the index of the first ASCII whitespace in s at or after i,
// or len(s). A token is a few hundred bytes without any, scanned on every
// request: eight bytes are tested at once for a byte below '!' (every
// whitespace byte is), and only a group holding one is looked at bytewise.
func wordEnd(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// Nonzero exactly when some byte of x is below 0x21 (bytes of
		// 0x80 and above never count: ^x clears their high bit).
		if (x-ones*0x21)&^x&highs != 0 {
			break
		}
	}
	for ; i < len(s) && !asciiSpace(s[i]); i++ {
	}
	return i
}

// asciiSpace is Python's bytes.isspace for one byte.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// Authenticate is middleware that checks the request's Bearer access token
// (signature, expiry, type, revocation, user) and records the outcome in
// the request context: UserFromContext and ClaimsFromContext on success,
// ErrorFromContext otherwise. It never answers by itself; put RequireUser
// after it to refuse unauthenticated requests.
func (h *Handler) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &auth{Context: r.Context()}
		raw, err := h.rawToken(r)
		if err == nil {
			a.user, a.claims, err = h.svc.Authenticate(r.Context(), raw)
			a.raw = raw
		}
		a.err = err
		next.ServeHTTP(w, r.WithContext(a))
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
