package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/jwtrevoke/jwtrevoke"
)

// Handler serves the SimpleJWT-compatible API. Build it with New.
type Handler struct {
	svc       *jwtrevoke.Service
	settings  jwtrevoke.Settings
	log       *slog.Logger
	challenge string
	// authHeader is AUTH_HEADER_NAME in canonical form, to index the
	// request's headers directly.
	authHeader string
	routes     map[string]*route
	extra      http.Handler
	trusted    []netip.Prefix // TRUSTED_PROXIES
}

// Options are the optional parts of a Handler.
type Options struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// NotFound serves paths the API does not know (for example an admin
	// page mounted beside it). When nil they get a JSON 404. Its answers
	// are its own: they do not get the API's security headers, whose
	// Content-Security-Policy would break an HTML page.
	NotFound http.Handler
}

type route struct {
	name    string
	methods map[string]http.Handler
	allow   []string // the Allow header's value, made once
	// issuesTokens marks the endpoints that answer with tokens: their
	// answers also carry Pragma: no-cache (RFC 6749 section 5.1).
	issuesTokens bool
}

// New returns a Handler serving svc's API at these paths (each with and
// without the trailing slash):
//
//	POST /api/token/            obtain a pair (also /api/auth/token/)
//	POST /api/token/refresh/    refresh
//	POST /api/token/verify/     verify any token
//	POST /api/token/blacklist/  blacklist a refresh token
//	POST /api/logout/           log out one session (Bearer)
//	POST /api/logout/all/       log out every session of the user (Bearer)
//	GET  /api/me/               the authenticated user (Bearer)
//	GET  /.well-known/jwks.json the public keys (none for HMAC)
//	GET  /api/schema/           the OpenAPI 3.1 description of these routes
//	GET  /api/docs/             an interactive page on it (embedded assets)
//
// and the password change, sessions and audit routes (see the schema).
func New(svc *jwtrevoke.Service, opts Options) *Handler {
	h := &Handler{
		svc:      svc,
		settings: svc.Settings(),
		log:      opts.Logger,
		routes:   map[string]*route{},
		extra:    opts.NotFound,
		trusted:  svc.Settings().TrustedProxies,
	}
	h.authHeader = http.CanonicalHeaderKey(h.settings.AuthHeaderName)
	if h.log == nil {
		h.log = slog.Default()
	}
	h.challenge = fmt.Sprintf("%s realm=%q", h.settings.AuthHeaderTypes[0], "api")
	obtain := http.HandlerFunc(h.obtain)
	h.handle("/api/token/", "Token Obtain Pair", "POST", obtain).issuesTokens = true
	h.handle("/api/auth/token/", "Token Obtain Pair", "POST", obtain).issuesTokens = true
	h.handle("/api/token/refresh/", "Token Refresh", "POST", http.HandlerFunc(h.refresh)).issuesTokens = true
	h.handle("/api/token/sliding/", "Token Obtain Sliding", "POST", http.HandlerFunc(h.obtainSliding)).issuesTokens = true
	h.handle("/api/token/sliding/refresh/", "Token Refresh Sliding", "POST", http.HandlerFunc(h.refreshSliding)).issuesTokens = true
	h.handle("/api/token/verify/", "Token Verify", "POST", http.HandlerFunc(h.verify))
	h.handle("/api/token/blacklist/", "Token Blacklist", "POST", http.HandlerFunc(h.blacklist))
	h.handle("/api/logout/", "Logout", "POST", h.Protect(http.HandlerFunc(h.logout)))
	h.handle("/api/logout/all/", "Logout All", "POST", h.Protect(http.HandlerFunc(h.logoutAll)))
	h.handle("/api/me/", "Me", "GET", h.Protect(http.HandlerFunc(h.me)))
	h.handle("/api/password/change/", "Password Change", "POST", h.Protect(http.HandlerFunc(h.passwordChange)))
	h.handle(sessionsPath+"/", "Session List", "GET", h.Protect(http.HandlerFunc(h.sessions)))
	h.handle("/api/audit/", "Audit Trail", "GET", h.Protect(http.HandlerFunc(h.audit)))
	h.handle(sessionsPath+"/{id}/", "Session Instance", "DELETE", h.Protect(http.HandlerFunc(h.endSession)))
	h.handle("/.well-known/jwks.json", "JSON Web Key Set", "GET", http.HandlerFunc(h.jwks))
	h.handle("/api/schema/", "OpenAPI Schema", "GET", http.HandlerFunc(h.schema))
	h.handle("/api/docs/", "API Docs", "GET", http.HandlerFunc(h.docs))
	h.handle("/api/docs/docs.js", "API Docs Script", "GET", docsAsset("docs.js", "text/javascript; charset=utf-8"))
	h.handle("/api/docs/docs.css", "API Docs Style", "GET", docsAsset("docs.css", "text/css; charset=utf-8"))
	return h
}

func (h *Handler) handle(path, name, method string, hd http.Handler) *route {
	rt := &route{name: name, methods: map[string]http.Handler{method: hd}}
	if method == http.MethodGet {
		rt.methods[http.MethodHead] = hd
	}
	ms := make([]string, 0, len(rt.methods)+1)
	for m := range rt.methods {
		ms = append(ms, m)
	}
	ms = append(ms, http.MethodOptions)
	slices.SortFunc(ms, func(a, b string) int { return methodOrder(a) - methodOrder(b) })
	rt.allow = []string{strings.Join(ms, ", ")}
	h.routes[strings.TrimSuffix(path, "/")] = rt
	return rt
}

func methodOrder(m string) int {
	return slices.Index([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}, m)
}

// ServeHTTP routes the request. Unknown paths get a JSON 404 (or
// Options.NotFound), known paths with another method a JSON 405. Every
// answer but Options.NotFound's carries the security headers (nosniff,
// no-store, CSP, ...; HSTS over TLS), and every request body is capped at
// MaxBodyBytes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(r.Context(), "panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			answer(w, r, http.StatusInternalServerError, msg(msgServerError))
		}
	}()
	path := strings.TrimSuffix(r.URL.Path, "/")
	rt, ok := h.routes[path]
	if id, isItem := strings.CutPrefix(path, sessionsPath+"/"); !ok && isItem && id != "" && !strings.Contains(id, "/") {
		rt, ok = h.routes[sessionsPath+"/{id}"]
		r.SetPathValue("id", id)
	}
	if !ok && h.extra != nil {
		h.extra.ServeHTTP(w, r)
		return
	}
	setSecurityHeaders(w.Header(), r)
	if !ok {
		answer(w, r, http.StatusNotFound, msg("Not found."))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	r = h.withClientIP(r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// Requests that may revoke record where they came from in the
		// audit trail; reads skip the work.
		r = r.WithContext(jwtrevoke.WithClientInfo(r.Context(), clientInfo(r)))
	}
	w.Header()["Allow"] = rt.allow
	if rt.issuesTokens {
		w.Header()["Pragma"] = pragmaNoCache
	}
	if hd, ok := rt.methods[r.Method]; ok {
		hd.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodOptions {
		writeJSON(w, http.StatusOK, object{
			{"name", rt.name},
			{"renders", []string{"application/json"}},
			{"parses", []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}},
		})
		return
	}
	answer(w, r, http.StatusMethodNotAllowed, msg("Method %q not allowed.", r.Method))
}

// clientInfo describes the caller for the session record and the login
// rate limit. The address is the connection's peer, or, behind a trusted
// proxy (TRUSTED_PROXIES), the client X-Forwarded-For names (see clientIP).
func clientInfo(r *http.Request) jwtrevoke.ClientInfo {
	ip, ok := r.Context().Value(clientIPKey).(string)
	if !ok {
		ip = peerAddr(r.RemoteAddr)
	}
	ua := r.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return jwtrevoke.ClientInfo{IP: ip, UserAgent: ua}
}
