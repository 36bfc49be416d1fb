// Package admin serves jwtrevoke's admin web pages under /admin/: a
// dashboard, SimpleJWT's two admin lists (outstanding and blacklisted
// tokens), a page per user with their sessions and audit trail, and the
// actions an operator needs — blacklist a token, log a user out
// everywhere, deactivate or reactivate a user, end one session, flush
// expired tokens. Pages are rendered on the server (html/template, an
// embedded style sheet, no JavaScript) and every answer carries a strict
// Content-Security-Policy and Cache-Control: no-store.
//
// Mount it beside the API:
//
//	api := httpapi.New(svc, httpapi.Options{NotFound: admin.New(svc, admin.Options{})})
//
// # Who may sign in
//
// Staff users and superusers (User.IsStaff, User.IsSuperuser) that are
// active, with their email and password. The check is the API login's
// (Service.CheckStaff): the same rate limits per client address and per
// account, the same password hashing work for an unknown email, and one
// answer for every refusal.
//
// # Sessions
//
// A sign-in is recorded in the store as a jwtrevoke Session of the staff
// user (Service.StartStaffSession, through TokenStore.IssueSession, with
// an outstanding row whose token is jwtrevoke.StaffSessionToken, which
// authenticates nothing), created at the sign-in and expiring after
// Options.SessionMaxAge, the absolute lifetime. So it shows where sessions
// show: on the user's page and in GET /api/sessions/, in the live session
// and token counts, and in the token list, marked "admin sign-in".
// Its id is time-ordered like a login's, and its random half is a hash of
// a 256-bit secret that only the browser holds: the cookie carries the
// user id, the session id and the secret, so the store never holds what
// the cookie needs.
//
// Every request checks the session against the store (Service.StaffSession):
// the user must still exist and be an active staff user, the session must
// be unexpired and not revoked and its row not blacklisted, and neither the
// session nor the user may be revoked in the service's revocation set, which
// every instance loads from the store. Because the session is an ordinary
// session of the store, everything that revokes sessions revokes it, on
// every instance sharing the store and from the next request on: signing
// out (a session revocation, reason "admin_signout", in the audit trail),
// logging the user out everywhere, deactivating them, ending the session
// through DELETE /api/sessions/{id}/, or SimpleJWT's admin blacklisting the
// row.
//
// The idle timeout (Options.SessionIdle) is kept in the cookie: it carries
// the time of the last request, renewed on each one, under an HMAC-SHA256
// whose key is generated once and kept in the store (a Setting), so every
// instance shares it and no one without it can move that time; a request
// after the idle timeout also revokes the session (reason "admin_idle").
// The cookie is HttpOnly, SameSite=Strict, Path=/admin/, Secure when the
// request came over TLS or Options.SecureCookies is set, and has no
// expiry: it ends with the browser.
//
// # CSRF
//
// Every form that changes state is a POST carrying a token tied to the
// session: an HMAC of the session's credential under the same key,
// checked in constant time; a missing or wrong one gets 403. The sign-in
// form, which has no session yet, carries an HMAC of a random cookie set
// with it (a signed double submit). Every POST also passes Go's
// http.CrossOriginProtection, which refuses cross-origin browser requests
// by their Sec-Fetch-Site and Origin headers. GET and HEAD never change
// state. Each action redirects (303, post/redirect/get) to a page that
// shows what it did in a flash message, carried by a short-lived cookie
// under the same HMAC.
//
// Neither passwords nor tokens nor session cookies are ever logged; the
// logs name users by id and tokens by jti.
package admin
