package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// Prefix is the path under which the pages are served.
const Prefix = "/admin/"

// Defaults of Options.
const (
	DefaultSessionIdle   = 30 * time.Minute
	DefaultSessionMaxAge = 12 * time.Hour
	DefaultPageSize      = 50
)

// maxFormBytes caps the body of every POST: the forms are small.
const maxFormBytes = 64 << 10

// Options are the optional parts of the admin pages.
type Options struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// SecureCookies marks the cookies Secure even on requests that did
	// not come over TLS (a TLS-terminating proxy in front). They are
	// Secure on TLS requests anyway.
	SecureCookies bool
	// SessionIdle ends a sign-in after this long without a request
	// (default DefaultSessionIdle).
	SessionIdle time.Duration
	// SessionMaxAge ends a sign-in this long after it began, however
	// busy (default DefaultSessionMaxAge).
	SessionMaxAge time.Duration
	// PageSize is how many tokens a list page shows (default
	// DefaultPageSize).
	PageSize int
	// Fallback serves the paths outside /admin/ (the handler is meant to
	// be an httpapi.Options.NotFound, which gets every path the API does
	// not know). Nil gives them a plain 404.
	Fallback http.Handler
}

// handler serves the admin pages.
type handler struct {
	svc      *jwtrevoke.Service
	log      *slog.Logger
	opts     Options
	keys     keyring
	mux      *http.ServeMux
	cop      *http.CrossOriginProtection
	pages    *pages
	fallback http.Handler
}

// New returns a handler serving the admin pages of svc under /admin/
// (see the package doc); /admin is redirected there, and the paths
// outside /admin/ go to Options.Fallback. Meant to be mounted as the
// API's httpapi.Options.NotFound.
func New(svc *jwtrevoke.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = DefaultSessionIdle
	}
	if opts.SessionMaxAge <= 0 {
		opts.SessionMaxAge = DefaultSessionMaxAge
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	h := &handler{
		svc:      svc,
		log:      opts.Logger,
		opts:     opts,
		keys:     keyring{store: svc.Store()},
		mux:      http.NewServeMux(),
		cop:      http.NewCrossOriginProtection(),
		pages:    mustParsePages(),
		fallback: opts.Fallback,
	}
	if h.fallback == nil {
		h.fallback = http.HandlerFunc(http.NotFound)
	}
	h.routes()
	return h
}

func (h *handler) routes() {
	m := h.mux
	m.Handle("GET "+Prefix+"static/", staticHandler())
	m.HandleFunc("GET "+Prefix+"login/{$}", h.loginForm)
	m.HandleFunc("POST "+Prefix+"login/{$}", h.loginSubmit)
	m.HandleFunc("POST "+Prefix+"logout/{$}", h.staff(h.logout))
	m.HandleFunc("GET "+Prefix+"{$}", h.staff(h.dashboard))
	m.HandleFunc("POST "+Prefix+"flush/{$}", h.staff(h.flush))
	m.HandleFunc("GET "+Prefix+"tokens/{$}", h.staff(h.tokenList(false)))
	m.HandleFunc("GET "+Prefix+"blacklisted/{$}", h.staff(h.tokenList(true)))
	m.HandleFunc("POST "+Prefix+"tokens/blacklist/{$}", h.staff(h.blacklist))
	m.HandleFunc("GET "+Prefix+"users/{$}", h.staff(h.findUser))
	m.HandleFunc("GET "+Prefix+"users/{id}/{$}", h.staff(h.userPage))
	m.HandleFunc("POST "+Prefix+"users/{id}/logout-all/{$}", h.staff(h.logoutAll))
	m.HandleFunc("POST "+Prefix+"users/{id}/active/{$}", h.staff(h.setActive))
	m.HandleFunc("POST "+Prefix+"users/{id}/end-session/{$}", h.staff(h.endSession))
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusNotFound, "There is no such page.")
	})
}

// ServeHTTP serves the paths under /admin/ (and redirects /admin to it);
// others go to Options.Fallback.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		setSecurityHeaders(w.Header(), r)
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	if !strings.HasPrefix(r.URL.Path, Prefix) {
		h.fallback.ServeHTTP(w, r)
		return
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(r.Context(), "admin: panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on the server.")
		}
	}()
	setSecurityHeaders(w.Header(), r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := h.cop.Check(r); err != nil {
			h.log.WarnContext(r.Context(), "admin: cross-origin request refused", "path", r.URL.Path,
				"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
			h.errorPage(w, r, http.StatusForbidden, "Cross-origin requests are not allowed here.")
			return
		}
		r = r.WithContext(jwtrevoke.WithClientInfo(r.Context(), h.clientInfo(r)))
	}
	h.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows the page's own style sheet and forms only.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// setSecurityHeaders sets the headers of every admin answer, and, as the
// API does, Strict-Transport-Security over TLS.
func setSecurityHeaders(hd http.Header, r *http.Request) {
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.TLS != nil {
		hd.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// msgStoreDown is shown when the store could not answer.
const msgStoreDown = "The store did not answer. Try again in a moment."

// storeError answers a failure of the store (or anything unexpected) with
// a 503 page, logging the error.
func (h *handler) storeError(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.log.ErrorContext(r.Context(), "admin: "+what, "err", err)
	h.errorPage(w, r, http.StatusServiceUnavailable, msgStoreDown)
}

// isRefusal reports whether err is an answer of the service about the
// request (a token or user error) rather than a failure of the store.
func isRefusal(err error) bool {
	for _, e := range []error{jwtrevoke.ErrTokenInvalid, jwtrevoke.ErrTokenBlacklisted, jwtrevoke.ErrTokenWrongType,
		jwtrevoke.ErrTokenNoID, jwtrevoke.ErrTokenNoType, jwtrevoke.ErrTokenNoExp, jwtrevoke.ErrTokenNoUser,
		jwtrevoke.ErrUserNotFound, jwtrevoke.ErrNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
