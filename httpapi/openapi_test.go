package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
)

// The OpenAPI document at /api/schema/ is checked three ways: it is a
// valid OpenAPI 3.1 document (kin-openapi's loader and validator, whose
// schema validation for 3.1 is JSON Schema 2020-12 by
// santhosh-tekuri/jsonschema); its paths and methods are exactly the
// router's; and real answers of every documented status of every operation
// validate against it (status, required headers, Content-Type, body).

const openapiType = "application/vnd.oai.openapi+json"

// servedDoc fetches /api/schema/ from e and loads it.
func servedDoc(t *testing.T, e *env) (*openapi3.T, resp) {
	t.Helper()
	r := e.request(http.MethodGet, "/api/schema/", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /api/schema/: %s", r)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(r.Body)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	return doc, r
}

// TestOpenAPIDocument: /api/schema/ serves a valid OpenAPI 3.1 document,
// as every API answer with the security headers; every operation is named,
// summarised, answers documented statuses only, and every protected one
// uses the Bearer scheme.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t)
	doc, r := servedDoc(t, e)
	if ct := r.Header.Get("Content-Type"); ct != openapiType {
		t.Errorf("Content-Type %q, want %q", ct, openapiType)
	}
	checkSecurityHeaders(t, "GET /api/schema/", r.Header, false)
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if doc.Info == nil || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Error("info needs a title and a version")
	}
	if len(doc.Servers) > 0 {
		t.Errorf("servers %v: the document is served by the API itself; leave the server to the URL it came from", doc.Servers)
	}
	bearer := doc.Components.SecuritySchemes["bearerAuth"]
	if bearer == nil || bearer.Value.Type != "http" || bearer.Value.Scheme != "bearer" || bearer.Value.BearerFormat != "JWT" {
		t.Errorf("components.securitySchemes.bearerAuth = %+v, want http bearer JWT", bearer)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: want an operationId, a summary and a tag", name)
			}
			if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is also %s's", name, op.OperationID, other)
			}
			ids[op.OperationID] = name
			if op.Responses.Default() != nil {
				t.Errorf("%s: a default response hides which statuses it really gives", name)
			}
			protected := op.Security != nil && len(*op.Security) > 0
			_, has401 := op.Responses.Map()["401"]
			if protected {
				if (*op.Security)[0]["bearerAuth"] == nil {
					t.Errorf("%s: security %v, want bearerAuth", name, *op.Security)
				}
				if !has401 {
					t.Errorf("%s: protected but no 401", name)
				}
			}
		}
	}
	// HEAD /api/schema/ answers the headers only.
	if h := e.request(http.MethodHead, "/api/schema/", nil); h.Status != 200 || len(h.Body) != 0 || h.Header.Get("Content-Type") != openapiType ||
		h.Header.Get("Content-Length") != strconv.Itoa(len(r.Body)) {
		t.Errorf("HEAD /api/schema/: %d, %d bytes, Content-Type %q, Content-Length %q", h.Status, len(h.Body), h.Header.Get("Content-Type"), h.Header.Get("Content-Length"))
	}
}

// docRoutes lists the document's paths with their methods (OPTIONS and
// HEAD included), in Allow order.
func docRoutes(doc *openapi3.T) map[string][]string {
	out := map[string][]string{}
	order := []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	for path, item := range doc.Paths.Map() {
		var ms []string
		for m := range item.Operations() {
			ms = append(ms, m)
		}
		slices.SortFunc(ms, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
		out[path] = ms
	}
	return out
}

func routeKeys(m map[string][]string) []string {
	var out []string
	for p, ms := range m {
		for _, meth := range ms {
			out = append(out, meth+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIRoutes: the document describes exactly the routes the
// Handler serves (path and method, HEAD and OPTIONS included), and each
// path's Allow header lists the documented methods.
func TestOpenAPIRoutes(t *testing.T) {
	e := newEnv(t)
	doc, _ := servedDoc(t, e)
	real, documented := httpapi.RouteTable(e.h), docRoutes(doc)
	if got, want := routeKeys(documented), routeKeys(real); !slices.Equal(got, want) {
		for _, k := range want {
			if !slices.Contains(got, k) {
				t.Errorf("route %s is not documented", k)
			}
		}
		for _, k := range got {
			if !slices.Contains(want, k) {
				t.Errorf("documented %s is not a route", k)
			}
		}
	}
	for path, methods := range real {
		concrete := strings.ReplaceAll(path, "{id}", "x")
		r := e.do(http.MethodOptions, concrete, "", "", "")
		if got, want := r.Header.Get("Allow"), strings.Join(methods, ", "); got != want {
			t.Errorf("OPTIONS %s: Allow %q, want %q", concrete, got, want)
		}
	}
}

// apiCase is one request whose answer is validated against the document.
type apiCase struct {
	name    string
	e       *env
	method  string
	path    string // the URL path and query sent
	bearer  string
	ctype   string
	body    string
	headers []string
	status  int // what the answer must be
}

// notProducible are documented answers no test can produce, and why.
var notProducible = map[string]string{
	"getJWKS 503":  "the key set is encoded from keys parsed at start-up: it cannot fail",
	"headJWKS 503": "the key set is encoded from keys parsed at start-up: it cannot fail",
}

// findRoute finds the documented operation a request path and method
// resolve to, with the path parameters.
func findRoute(doc *openapi3.T, method, path string) (*routers.Route, map[string]string) {
	for tmpl, item := range doc.Paths.Map() {
		names := regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(tmpl, -1)
		pat := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `([^/]+)`) + "$"
		m := regexp.MustCompile(pat).FindStringSubmatch(path)
		if m == nil {
			continue
		}
		op := item.GetOperation(method)
		if op == nil {
			return nil, nil
		}
		params := map[string]string{}
		for i, n := range names {
			params[n[1]] = m[i+1]
		}
		return &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}, params
	}
	return nil, nil
}

// validateAnswer checks one real answer against the document: the status
// is documented for the operation, the required headers are there, the
// Content-Type is documented and the body matches its schema (or there is
// no body where the document gives no content).
func validateAnswer(t *testing.T, doc *openapi3.T, c apiCase, r resp) (opID string) {
	t.Helper()
	u, err := url.Parse(c.path)
	if err != nil {
		t.Fatal(err)
	}
	route, params := findRoute(doc, c.method, u.Path)
	if route == nil {
		t.Fatalf("%s %s: no documented operation", c.method, u.Path)
	}
	opID = route.Operation.OperationID
	ref := route.Operation.Responses.Status(r.Status)
	if ref == nil {
		t.Errorf("%s (%s): status %d is not documented (body %s)", c.name, opID, r.Status, r.Body)
		return opID
	}
	resp := ref.Value
	req, _ := http.NewRequest(c.method, "http://api.test"+c.path, nil)
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("%s (%s %d): the answer does not match the document: %v\nbody: %s", c.name, opID, r.Status, err, r.Body)
	}
	// ValidateResponse skips HEAD and bodies of no documented content:
	// check the headers of the one and the emptiness of the other.
	if c.method == http.MethodHead {
		if len(r.Body) != 0 {
			t.Errorf("%s: HEAD answered a body", c.name)
		}
		for name, h := range resp.Headers {
			if h.Value.Required && r.Header.Get(name) == "" {
				t.Errorf("%s (%s %d): required header %s missing", c.name, opID, r.Status, name)
			}
		}
		return opID
	}
	if len(resp.Content) == 0 && (len(r.Body) != 0 || r.Header.Get("Content-Type") != "") {
		t.Errorf("%s (%s %d): documented without content, answered %q %s", c.name, opID, r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	return opID
}

// validateRequest checks that a request the API accepted is one the
// document describes (parameters, body media type and schema).
func validateRequest(t *testing.T, doc *openapi3.T, c apiCase, headers []string) {
	t.Helper()
	req, err := http.NewRequest(c.method, "http://api.test"+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	u, _ := url.Parse(c.path)
	route, params := findRoute(doc, c.method, u.Path)
	input := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		t.Errorf("%s: the request the API accepted does not match the document: %v", c.name, err)
	}
}

// validateComponent checks an answer against a response of
// components/responses (for answers of no operation: 404, 405).
func validateComponent(t *testing.T, doc *openapi3.T, name string, r resp) {
	t.Helper()
	ref := doc.Components.Responses[name]
	if ref == nil {
		t.Fatalf("components/responses/%s is missing", name)
	}
	for h, hr := range ref.Value.Headers {
		if hr.Value.Required && r.Header.Get(h) == "" {
			t.Errorf("%s: required header %s missing", name, h)
		}
	}
	media := ref.Value.Content.Get(r.Header.Get("Content-Type"))
	if media == nil {
		t.Fatalf("%s: Content-Type %q is not documented", name, r.Header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := media.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
		t.Errorf("%s: %s does not match: %v", name, r.Body, err)
	}
}

func multipartBody(fields map[string]string) (ctype, body string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), b.String()
}

// sessionIDs lists the ids of bearer's live sessions.
func (e *env) sessionIDs(bearer string) []string {
	e.t.Helper()
	r := e.request(http.MethodGet, "/api/sessions/", nil, "Authorization", "Bearer "+bearer)
	var list []struct{ ID string }
	if err := json.Unmarshal(r.Body, &list); err != nil {
		e.t.Fatalf("sessions %s: %v", r, err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestOpenAPIResponses drives requests that produce every documented
// status of every operation and validates each real answer against the
// document: a handler whose answer drifts from it fails here.
func TestOpenAPIResponses(t *testing.T) {
	e := newEnv(t)
	doc, _ := servedDoc(t, e)
	big := `{"refresh":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`
	creds := `{"email":"` + userEmail + `","password":"` + userPass + `"}`

	// Users of their own, for the cases that change them.
	e.createUser("inactive@email.com", "test123456")
	e.createUser("changer@email.com", "test123456")
	inactive := e.MustLogin("inactive@email.com", "test123456")
	e.setActive("inactive@email.com", false)
	changer := e.MustLogin("changer@email.com", "test123456")

	p := e.MustLogin(userEmail, userPass)
	other := e.MustLogin(secondEmail, secondPass)
	toLogout := e.MustLogin(userEmail, userPass)
	toEnd := e.MustLogin(userEmail, userPass)
	endSid := strClaim(t, tokenClaims(t, toEnd.Access), "sid")
	toBlacklist := e.MustLogin(userEmail, userPass)
	revoked := e.MustLogin(userEmail, userPass)
	want(t, e.blacklist(revoked.Refresh), http.StatusOK, bodyEmpty) // an audit entry, and a revoked token
	slidingTok := jsonObject(t, e.post("/api/token/sliding/", "", creds).Body)["token"].(string)
	ghost := forge(t, testKey, simpleJWTClaims("access", 999, time.Now(), 5*time.Minute))

	// Rotation, for a refresh answer with both tokens.
	rot := newEnv(t, withRotation())
	rp := rot.MustLogin(userEmail, userPass)

	// Sliding tokens authenticating: logout with a sliding token and no body.
	sl := newEnv(t, withSliding())
	slTok := jsonObject(t, sl.post("/api/token/sliding/", "", creds).Body)["token"].(string)

	// Login rate limits: one failure per account per minute.
	lim := newEnv(t, withLoginLimits(perMinute(1000), perMinute(1)))

	// A store that is down: 503s. The tokens are issued before.
	down, fs := newFlakyEnv(t)
	dp := down.MustLogin(userEmail, userPass)
	dSliding := jsonObject(t, down.post("/api/token/sliding/", "", creds).Body)["token"].(string)
	dSid := strClaim(t, tokenClaims(t, dp.Access), "sid")
	fs.Down()

	// A key set with a key in it.
	priv, _, err := jwtrevoke.GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	es := newEnv(t, withSettings(func(s *jwtrevoke.Settings) { s.Algorithm, s.SigningKey = "ES256", priv }))

	form := "application/x-www-form-urlencoded"
	mpCreds, mpCredsBody := multipartBody(map[string]string{"email": userEmail, "password": userPass})
	j := "application/json"
	cases := []apiCase{}
	add := func(c apiCase) {
		if c.e == nil {
			c.e = e
		}
		cases = append(cases, c)
	}

	// Logins: the pair, the alias, the sliding token.
	for _, path := range []string{"/api/token/", "/api/auth/token/", "/api/token/sliding/"} {
		add(apiCase{name: "Obtain " + path, method: "POST", path: path, ctype: j, body: creds, status: 200})
		add(apiCase{name: "ObtainForm " + path, method: "POST", path: path, ctype: form, body: url.Values{"email": {userEmail}, "password": {userPass}}.Encode(), status: 200})
		add(apiCase{name: "ObtainMultipart " + path, method: "POST", path: path, ctype: mpCreds, body: mpCredsBody, status: 200})
		add(apiCase{name: "ObtainMissingFields " + path, method: "POST", path: path, ctype: j, body: `{}`, status: 400})
		add(apiCase{name: "ObtainBlankPassword " + path, method: "POST", path: path, ctype: j, body: `{"email":"a@b.c","password":""}`, status: 400})
		add(apiCase{name: "ObtainBadJSON " + path, method: "POST", path: path, ctype: j, body: `{"email":`, status: 400})
		add(apiCase{name: "ObtainNotAnObject " + path, method: "POST", path: path, ctype: j, body: `["x"]`, status: 400})
		add(apiCase{name: "ObtainWrongPassword " + path, method: "POST", path: path, ctype: j, body: `{"email":"` + userEmail + `","password":"wrong"}`, status: 401})
		add(apiCase{name: "ObtainTooLarge " + path, method: "POST", path: path, ctype: j, body: big, status: 413})
		add(apiCase{name: "ObtainUnsupported " + path, method: "POST", path: path, ctype: "text/plain", body: "x", status: 415})
		acct := fmt.Sprintf(`{"email":"limited%d@email.com","password":"wrong"}`, len(cases))
		add(apiCase{name: "ObtainFirstFailure " + path, e: lim, method: "POST", path: path, ctype: j, body: acct, status: 401})
		add(apiCase{name: "ObtainThrottled " + path, e: lim, method: "POST", path: path, ctype: j, body: acct, status: 429})
		add(apiCase{name: "ObtainStoreDown " + path, e: down, method: "POST", path: path, ctype: j, body: creds, status: 503})
	}

	// The token views.
	tokenBodies := func(path, field, good string, goodStatus int) {
		add(apiCase{name: "Missing " + path, method: "POST", path: path, ctype: j, body: `{}`, status: 400})
		add(apiCase{name: "NotAString " + path, method: "POST", path: path, ctype: j, body: `{"` + field + `":[1]}`, status: 400})
		add(apiCase{name: "BadJSON " + path, method: "POST", path: path, ctype: j, body: `{`, status: 400})
		add(apiCase{name: "NotAnObject " + path, method: "POST", path: path, ctype: j, body: `"x"`, status: 400})
		add(apiCase{name: "BadToken " + path, method: "POST", path: path, ctype: j, body: `{"` + field + `":"x.y.z"}`, status: 401})
		add(apiCase{name: "TooLarge " + path, method: "POST", path: path, ctype: j, body: big, status: 413})
		add(apiCase{name: "Unsupported " + path, method: "POST", path: path, ctype: "text/plain", body: "x", status: 415})
		add(apiCase{name: "Form " + path, method: "POST", path: path, ctype: form, body: url.Values{field: {good}}.Encode(), status: goodStatus})
	}
	add(apiCase{name: "Refresh", method: "POST", path: "/api/token/refresh/", ctype: j, body: `{"refresh":"` + p.Refresh + `"}`, status: 200})
	add(apiCase{name: "RefreshRotating", e: rot, method: "POST", path: "/api/token/refresh/", ctype: j, body: `{"refresh":"` + rp.Refresh + `"}`, status: 200})
	add(apiCase{name: "RefreshRevoked", method: "POST", path: "/api/token/refresh/", ctype: j, body: `{"refresh":"` + revoked.Refresh + `"}`, status: 401})
	add(apiCase{name: "RefreshInactive", method: "POST", path: "/api/token/refresh/", ctype: j, body: `{"refresh":"` + inactive.Refresh + `"}`, status: 401})
	add(apiCase{name: "RefreshStoreDown", e: down, method: "POST", path: "/api/token/refresh/", ctype: j, body: `{"refresh":"` + dp.Refresh + `"}`, status: 503})
	tokenBodies("/api/token/refresh/", "refresh", p.Refresh, 200)

	add(apiCase{name: "RefreshSliding", method: "POST", path: "/api/token/sliding/refresh/", ctype: j, body: `{"token":"` + slidingTok + `"}`, status: 200})
	add(apiCase{name: "RefreshSlidingWrongType", method: "POST", path: "/api/token/sliding/refresh/", ctype: j, body: `{"token":"` + p.Access + `"}`, status: 401})
	add(apiCase{name: "RefreshSlidingStoreDown", e: down, method: "POST", path: "/api/token/sliding/refresh/", ctype: j, body: `{"token":"` + dSliding + `"}`, status: 503})
	tokenBodies("/api/token/sliding/refresh/", "token", slidingTok, 200)

	add(apiCase{name: "Verify", method: "POST", path: "/api/token/verify/", ctype: j, body: `{"token":"` + p.Access + `"}`, status: 200})
	add(apiCase{name: "VerifyBlacklisted", method: "POST", path: "/api/token/verify/", ctype: j, body: `{"token":"` + revoked.Refresh + `"}`, status: 400})
	add(apiCase{name: "VerifyStoreDown", e: down, method: "POST", path: "/api/token/verify/", ctype: j, body: `{"token":"` + dp.Refresh + `"}`, status: 503})
	tokenBodies("/api/token/verify/", "token", p.Refresh, 200)

	add(apiCase{name: "Blacklist", method: "POST", path: "/api/token/blacklist/", ctype: j, body: `{"refresh":"` + toBlacklist.Refresh + `"}`, status: 200})
	add(apiCase{name: "BlacklistAgain", method: "POST", path: "/api/token/blacklist/", ctype: j, body: `{"refresh":"` + toBlacklist.Refresh + `"}`, status: 401})
	add(apiCase{name: "BlacklistStoreDown", e: down, method: "POST", path: "/api/token/blacklist/", ctype: j, body: `{"refresh":"` + dp.Refresh + `"}`, status: 503})
	tokenBodies("/api/token/blacklist/", "refresh", "x.y.z", 401)

	// Bearer authentication, every way it fails, on /api/me/.
	add(apiCase{name: "Me", method: "GET", path: "/api/me/", bearer: p.Access, status: 200})
	add(apiCase{name: "MeNoCredentials", method: "GET", path: "/api/me/", status: 401})
	add(apiCase{name: "MeBadHeader", method: "GET", path: "/api/me/", headers: []string{"Authorization", "Bearer a b"}, status: 401})
	add(apiCase{name: "MeBadToken", method: "GET", path: "/api/me/", bearer: "x.y.z", status: 401})
	add(apiCase{name: "MeRevoked", method: "GET", path: "/api/me/", bearer: revoked.Access, status: 401})
	add(apiCase{name: "MeUnknownUser", method: "GET", path: "/api/me/", bearer: ghost, status: 401})
	add(apiCase{name: "MeInactive", method: "GET", path: "/api/me/", bearer: inactive.Access, status: 401})
	add(apiCase{name: "MeSlidingNotAClass", method: "GET", path: "/api/me/", bearer: slidingTok, status: 401})
	add(apiCase{name: "MeSlidingBadToken", e: sl, method: "GET", path: "/api/me/", bearer: "x.y.z", status: 401})
	add(apiCase{name: "MeStoreDown", e: down, method: "GET", path: "/api/me/", bearer: dp.Access, status: 503})
	add(apiCase{name: "HeadMe", method: "HEAD", path: "/api/me/", bearer: p.Access, status: 200})
	add(apiCase{name: "HeadMeNoCredentials", method: "HEAD", path: "/api/me/", status: 401})
	add(apiCase{name: "HeadMeStoreDown", e: down, method: "HEAD", path: "/api/me/", bearer: dp.Access, status: 503})

	// Sessions, audit.
	for _, path := range []string{"/api/sessions/", "/api/audit/"} {
		for _, m := range []string{"GET", "HEAD"} {
			add(apiCase{name: m + " " + path, method: m, path: path, bearer: p.Access, status: 200})
			add(apiCase{name: m + "NoCredentials " + path, method: m, path: path, status: 401})
			add(apiCase{name: m + "StoreDown " + path, e: down, method: m, path: path, bearer: dp.Access, status: 503})
		}
	}
	add(apiCase{name: "AuditLimit", method: "GET", path: "/api/audit/?limit=1", bearer: p.Access, status: 200})
	add(apiCase{name: "AuditBadLimit", method: "GET", path: "/api/audit/?limit=x", bearer: p.Access, status: 400})
	add(apiCase{name: "HeadAuditBadLimit", method: "HEAD", path: "/api/audit/?limit=0", bearer: p.Access, status: 400})
	add(apiCase{name: "EndSession", method: "DELETE", path: "/api/sessions/" + endSid + "/", bearer: p.Access, status: 204})
	add(apiCase{name: "EndSessionAgain", method: "DELETE", path: "/api/sessions/" + endSid + "/", bearer: p.Access, status: 404})
	add(apiCase{name: "EndSessionOfAnother", method: "DELETE", path: "/api/sessions/" + endSid + "/", bearer: other.Access, status: 404})
	add(apiCase{name: "EndSessionNoCredentials", method: "DELETE", path: "/api/sessions/x/", status: 401})
	add(apiCase{name: "EndSessionStoreDown", e: down, method: "DELETE", path: "/api/sessions/" + dSid + "/", bearer: dp.Access, status: 503})

	// Password change.
	pc := "/api/password/change/"
	add(apiCase{name: "PasswordMissing", method: "POST", path: pc, bearer: changer.Access, ctype: j, body: `{}`, status: 400})
	add(apiCase{name: "PasswordWrongOld", method: "POST", path: pc, bearer: changer.Access, ctype: j, body: `{"old_password":"wrong","new_password":"n3w-passw0rd"}`, status: 400})
	add(apiCase{name: "PasswordTooWeak", method: "POST", path: pc, bearer: changer.Access, ctype: j, body: `{"old_password":"test123456","new_password":"1234"}`, status: 400})
	add(apiCase{name: "PasswordBadJSON", method: "POST", path: pc, bearer: changer.Access, ctype: j, body: `{`, status: 400})
	add(apiCase{name: "PasswordNotAnObject", method: "POST", path: pc, bearer: changer.Access, ctype: j, body: `[]`, status: 400})
	add(apiCase{name: "PasswordTooLarge", method: "POST", path: pc, bearer: changer.Access, ctype: j, body: big, status: 413})
	add(apiCase{name: "PasswordUnsupported", method: "POST", path: pc, bearer: changer.Access, ctype: "text/plain", body: "x", status: 415})
	add(apiCase{name: "PasswordNoCredentials", method: "POST", path: pc, ctype: j, body: `{}`, status: 401})
	add(apiCase{name: "PasswordStoreDown", e: down, method: "POST", path: pc, bearer: dp.Access, ctype: j, body: `{"old_password":"test123456","new_password":"n3w-passw0rd"}`, status: 503})
	add(apiCase{name: "PasswordChange", method: "POST", path: pc, bearer: changer.Access, ctype: form, body: url.Values{"old_password": {"test123456"}, "new_password": {"n3w-passw0rd"}}.Encode(), status: 200})

	// Logout.
	lo := "/api/logout/"
	add(apiCase{name: "LogoutMissing", method: "POST", path: lo, bearer: p.Access, ctype: j, body: `{}`, status: 400})
	add(apiCase{name: "LogoutNotAString", method: "POST", path: lo, bearer: p.Access, ctype: j, body: `{"refresh":true}`, status: 400})
	add(apiCase{name: "LogoutBadJSON", method: "POST", path: lo, bearer: p.Access, ctype: j, body: `{`, status: 400})
	add(apiCase{name: "LogoutBadToken", method: "POST", path: lo, bearer: p.Access, ctype: j, body: `{"refresh":"x.y.z"}`, status: 400})
	add(apiCase{name: "LogoutForeign", method: "POST", path: lo, bearer: p.Access, ctype: j, body: `{"refresh":"` + other.Refresh + `"}`, status: 403})
	add(apiCase{name: "LogoutTooLarge", method: "POST", path: lo, bearer: p.Access, ctype: j, body: big, status: 413})
	add(apiCase{name: "LogoutUnsupported", method: "POST", path: lo, bearer: p.Access, ctype: "text/plain", body: "x", status: 415})
	add(apiCase{name: "LogoutNoCredentials", method: "POST", path: lo, ctype: j, body: `{"refresh":"` + toLogout.Refresh + `"}`, status: 401})
	add(apiCase{name: "LogoutStoreDown", e: down, method: "POST", path: lo, bearer: dp.Access, ctype: j, body: `{"refresh":"` + dp.Refresh + `"}`, status: 503})
	add(apiCase{name: "Logout", method: "POST", path: lo, bearer: toLogout.Access, ctype: j, body: `{"refresh":"` + toLogout.Refresh + `"}`, status: 205})
	add(apiCase{name: "LogoutSliding", e: sl, method: "POST", path: lo, bearer: slTok, status: 205})
	add(apiCase{name: "LogoutAllNoCredentials", method: "POST", path: "/api/logout/all/", status: 401})
	add(apiCase{name: "LogoutAllStoreDown", e: down, method: "POST", path: "/api/logout/all/", bearer: dp.Access, status: 503})
	add(apiCase{name: "LogoutAll", method: "POST", path: "/api/logout/all/", bearer: other.Access, status: 205})

	// Keys and documentation.
	for _, m := range []string{"GET", "HEAD"} {
		add(apiCase{name: m + "JWKS", method: m, path: "/.well-known/jwks.json", status: 200})
		add(apiCase{name: m + "JWKSWithKey", e: es, method: m, path: "/.well-known/jwks.json", status: 200})
		for _, path := range []string{"/api/schema/", "/api/docs/", "/api/docs/docs.js", "/api/docs/docs.css"} {
			add(apiCase{name: m + " " + path, method: m, path: path, status: 200})
		}
	}
	// OPTIONS on every path.
	for path := range httpapi.RouteTable(e.h) {
		add(apiCase{name: "OPTIONS " + path, method: "OPTIONS", path: strings.ReplaceAll(path, "{id}", "x"), status: 200})
	}

	covered := map[string]bool{}
	for _, c := range cases {
		hdr := slices.Clone(c.headers)
		if c.bearer != "" {
			hdr = append(hdr, "Authorization", "Bearer "+c.bearer)
		}
		if c.ctype != "" {
			hdr = append(hdr, "Content-Type", c.ctype)
		}
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		r := c.e.with(t).request(c.method, c.path, body, hdr...)
		if r.Status != c.status {
			t.Errorf("%s: %s %s answered %d, want %d (%s)", c.name, c.method, c.path, r.Status, c.status, r.Body)
			continue
		}
		id := validateAnswer(t, doc, c, r)
		if r.Status < 300 {
			validateRequest(t, doc, c, hdr)
		}
		covered[fmt.Sprintf("%s %d", id, r.Status)] = true
		// Every answer carries the security headers; the key set may be
		// cached and the docs page has its own policy.
		for k, v := range wantSecurityHeaders {
			if k == "Cache-Control" && strings.HasPrefix(c.path, "/.well-known/") && c.method != http.MethodOptions ||
				k == "Content-Security-Policy" && strings.HasPrefix(c.path, "/api/docs/") && !strings.Contains(c.path, ".") && c.method != http.MethodOptions {
				continue
			}
			if got := r.Header.Get(k); got != v {
				t.Errorf("%s: %s %q, want %q", c.name, k, got, v)
			}
		}
	}
	// Every documented status of every operation was produced.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				k := op.OperationID + " " + code
				if !covered[k] && notProducible[k] == "" {
					t.Errorf("%s %s: documented %s is never produced by this test", method, path, code)
				}
				if covered[k] && notProducible[k] != "" {
					t.Errorf("%s: listed as not producible but produced", k)
				}
			}
		}
	}

	// Answers of no operation: other methods, unknown paths.
	r := e.do(http.MethodGet, "/api/token/", "", "", "")
	wantStatus(t, r, http.StatusMethodNotAllowed)
	validateComponent(t, doc, "MethodNotAllowed", r)
	r = e.do(http.MethodPut, "/api/sessions/x/", p.Access, "", "")
	wantStatus(t, r, http.StatusMethodNotAllowed)
	validateComponent(t, doc, "MethodNotAllowed", r)
	r = e.do(http.MethodGet, "/api/nothing/", "", "", "")
	wantStatus(t, r, http.StatusNotFound)
	validateComponent(t, doc, "NotFound", r)
}

// TestOpenAPIDetectsDrift: the validation the tests above rely on refuses
// answers that differ from the document (a wrong status, a missing
// required header, a body of another shape), so it is not vacuous.
func TestOpenAPIDetectsDrift(t *testing.T) {
	e := newEnv(t)
	doc, _ := servedDoc(t, e)
	p := e.MustLogin(userEmail, userPass)
	good := e.me(p.Access)
	c := apiCase{name: "drift", method: "GET", path: "/api/me/"}
	check := func(name string, r resp) {
		t.Helper()
		u, _ := url.Parse(c.path)
		route, params := findRoute(doc, c.method, u.Path)
		ref := route.Operation.Responses.Status(r.Status)
		if ref == nil {
			return // an undocumented status: refused
		}
		req, _ := http.NewRequest(c.method, "http://api.test"+c.path, nil)
		input := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 r.Status, Header: r.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		input.SetBodyBytes(r.Body)
		if err := openapi3filter.ValidateResponse(context.Background(), input); err == nil {
			t.Errorf("%s: a drifted answer validated", name)
		}
	}
	withBody := func(b string) resp { return resp{Status: good.Status, Header: good.Header.Clone(), Body: []byte(b)} }
	check("ExtraField", withBody(`{"id":1,"email":"a@b.c","admin":true}`))
	check("WrongType", withBody(`{"id":"1","email":"a@b.c"}`))
	check("MissingField", withBody(`{"id":1}`))
	check("NotJSON", resp{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("hi")})
	unauth := e.me("")
	noChallenge := resp{Status: 401, Header: unauth.Header.Clone(), Body: unauth.Body}
	noChallenge.Header.Del("WWW-Authenticate")
	check("NoChallenge", noChallenge)
	check("UnknownErrorShape", resp{Status: 401, Header: unauth.Header, Body: []byte(`{"detail":"x","code":"other"}`)})
	if route, _ := findRoute(doc, "GET", "/api/me/"); route.Operation.Responses.Status(418) != nil {
		t.Error("418 documented for GET /api/me/")
	}
}
