package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// Fuzz targets of the HTTP layer: the Authorization header and every JSON
// body. The key and clock are fixed, so tokens made once stay valid in
// every API built for an input, and an input means the same at every run.

var fuzzNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// fuzzAPI is an API over a fresh memory store with the seed's two users
// (ids 1 and 2), at fuzzNow.
func fuzzAPI(tb testing.TB) (*httpapi.Handler, *jwtrevoke.Service) {
	tb.Helper()
	ctx := context.Background()
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = testKey
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := jwtrevoke.New(ctx, memory.New(), s, jwtrevoke.Options{
		Hasher: cheapHasher, Now: func() time.Time { return fuzzNow }, Logger: quiet,
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range [][2]string{{userEmail, userPass}, {secondEmail, secondPass}} {
		if _, err := svc.CreateUser(ctx, u[0], u[1], false); err != nil {
			tb.Fatal(err)
		}
	}
	return httpapi.New(svc, httpapi.Options{Logger: quiet}), svc
}

// fuzzPair is a login's tokens, made at fuzzNow with the test key.
func fuzzPair(tb testing.TB) jwtrevoke.TokenPair {
	tb.Helper()
	_, svc := fuzzAPI(tb)
	p, err := svc.Obtain(context.Background(), userEmail, userPass, jwtrevoke.ClientInfo{IP: "192.0.2.1"})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// fuzzValid reports whether golang-jwt alone, with the test key, verifies
// raw as an unexpired HS256 token of type typ ("" for any), and returns
// its claims: the oracle of every success the API answers.
func fuzzValid(raw, typ string) (jwt.MapClaims, bool) {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithStrictDecoding(), jwt.WithJSONNumber(),
		jwt.WithIssuedAt(), jwt.WithTimeFunc(func() time.Time { return fuzzNow }))
	mc := jwt.MapClaims{}
	if _, err := p.ParseWithClaims(raw, mc, func(*jwt.Token) (any, error) { return []byte(testKey), nil }); err != nil {
		return nil, false
	}
	if _, ok := mc["jti"].(string); !ok {
		return nil, false
	}
	if t, _ := mc["token_type"].(string); typ != "" && t != typ {
		return nil, false
	}
	return mc, true
}

// fuzzAnswer checks what every answer of the API must be: JSON, with the
// JSON content type, and no server error but 503; a 401 carries the
// Bearer challenge.
func fuzzAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("%s: %d %s", what, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s: body is not JSON: %q", what, rec.Body)
	}
	if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") != challenge {
		t.Fatalf("%s: 401 without the challenge", what)
	}
}

// FuzzAuthorizationHeader: any Authorization header value, through the
// Authenticate middleware alone and through GET /api/me/. Never a panic or
// a server error; a request is authenticated only with "Bearer" and a
// valid access token of that user, as two space-separated words.
func FuzzAuthorizationHeader(f *testing.F) {
	p := fuzzPair(f)
	forged := forgeFuzzAccess(f, 2)
	for _, s := range []string{
		"Bearer " + p.Access, "Bearer " + p.Refresh, "Bearer " + forged, "bearer " + p.Access, "JWT " + p.Access,
		"Bearer", "Bearer ", "", " ", "Bearer  " + p.Access + "  ", "Bearer\t" + p.Access, "Bearer\u00a0" + p.Access,
		"Bearer " + p.Access + " x", "Bearer " + p.Access + "\x00", "Bearer " + p.Access + "\n", "Basic dXNlcjpwYXNz",
		"Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.e30.", "Bearer Bearer " + p.Access, "Bearer " + strings.Repeat("a", 9000),
	} {
		f.Add(s)
	}
	h, _ := fuzzAPI(f)
	f.Fuzz(func(t *testing.T, value string) {
		var (
			user *jwtrevoke.User
			aerr error
		)
		next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			user, aerr = httpapi.UserFromContext(r.Context()), httpapi.ErrorFromContext(r.Context())
		})
		req := httptest.NewRequest(http.MethodGet, "/api/me/", nil)
		req.Header.Set("Authorization", value)
		h.Authenticate(next).ServeHTTP(httptest.NewRecorder(), req)
		if (user == nil) == (aerr == nil) {
			t.Fatalf("user %v with error %v", user, aerr)
		}
		if user != nil {
			fuzzWantAuthenticated(t, value, user.ID)
		}

		req = httptest.NewRequest(http.MethodGet, "/api/me/", nil)
		req.Header.Set("Authorization", value)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fuzzAnswer(t, "GET /api/me/", rec)
		switch rec.Code {
		case http.StatusOK:
			var me struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &me); err != nil {
				t.Fatal(err)
			}
			fuzzWantAuthenticated(t, value, me.ID)
		case http.StatusUnauthorized:
		default:
			t.Fatalf("GET /api/me/: %d %s, want 200 or 401", rec.Code, rec.Body)
		}
	})
}

// fuzzWantAuthenticated fails unless header is "Bearer" and a valid access
// token of user id, as SimpleJWT splits it (on whitespace).
func fuzzWantAuthenticated(t *testing.T, header string, id int64) {
	t.Helper()
	words := strings.Fields(header)
	if len(words) != 2 || words[0] != "Bearer" {
		t.Fatalf("authenticated with the header %q", header)
	}
	mc, ok := fuzzValid(words[1], "access")
	if !ok {
		t.Fatalf("authenticated with a token golang-jwt does not accept: %q", words[1])
	}
	if uid, _ := mc["user_id"].(json.Number); uid.String() != strconv.FormatInt(id, 10) {
		t.Fatalf("authenticated as %d with a token of user %v", id, mc["user_id"])
	}
}

// forgeFuzzAccess is an access token of user id made with the test key at
// fuzzNow, in a session of its own.
func forgeFuzzAccess(tb testing.TB, id int64) string {
	tb.Helper()
	c := simpleJWTClaims("access", id, fuzzNow, 5*time.Minute)
	c["sid"] = newHexJTI()
	b, err := json.Marshal(c)
	if err != nil {
		tb.Fatal(err)
	}
	return forgeRaw(testKey, `{"alg":"HS256","typ":"JWT"}`, string(b))
}

// fuzzContentTypes are the bodies' content types: mostly JSON.
var fuzzContentTypes = []string{
	"application/json", "application/json; charset=utf-8", "application/json",
	"application/x-www-form-urlencoded", "multipart/form-data; boundary=fuzz",
}

// fuzzField reads field name of body as the API does, for the oracles
// (ok is false when the body is multipart, not read here).
func fuzzField(ct string, body []byte, name string) (string, bool) {
	switch {
	case strings.HasPrefix(ct, "application/json"):
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil {
			return "", true
		}
		switch v := m[name].(type) {
		case string:
			return strings.TrimSpace(v), true
		case json.Number:
			return v.String(), true
		}
		return "", true
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		vals, _ := url.ParseQuery(string(body))
		if v := vals[name]; len(v) > 0 {
			return strings.TrimSpace(v[len(v)-1]), true
		}
		return "", true
	}
	return "", false
}

// FuzzJSONBody: any bytes as the body of login, refresh, verify,
// blacklist and logout (with a valid Bearer token), each on an API of its
// own. Never a panic or a server error but 503; always a JSON answer; and
// a success only for the right credentials or a valid token.
func FuzzJSONBody(f *testing.F) {
	p := fuzzPair(f)
	for _, s := range []string{
		`{"email":"test@email.com","password":"test123456"}`,
		`{"email":" TEST@email.com ","password":"test123456"}`,
		`{"refresh":"` + p.Refresh + `"}`,
		`{"token":"` + p.Access + `","refresh":"` + p.Refresh + `"}`,
		`{"refresh":"x","refresh":"` + p.Refresh + `"}`,
		`{"refresh":"` + p.Refresh + `"}` + "\v",
		`{"refresh":1}`, `{"refresh":null}`, `{"refresh":["x"]}`, `{"refresh":{"a":1}}`, `{"refresh":""}`,
		`[]`, `null`, `"x"`, `1`, `{`, `{"a":1}{}`, `{"a":1} x`, "\ufeff{}", "{\"refresh\":\"\xff\"}", ``, `   `,
		"refresh=" + p.Refresh, "email=test%40email.com&password=test123456",
		"--fuzz\r\nContent-Disposition: form-data; name=\"refresh\"\r\n\r\n" + p.Refresh + "\r\n--fuzz--\r\n",
	} {
		for ct := range fuzzContentTypes {
			f.Add([]byte(s), uint8(ct))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, ctIndex uint8) {
		ct := fuzzContentTypes[int(ctIndex)%len(fuzzContentTypes)]
		h, _ := fuzzAPI(t)
		for _, ep := range []struct {
			path, field, typ string
			ok               int
		}{
			{"/api/token/", "", "", http.StatusOK},
			{"/api/token/refresh/", "refresh", "refresh", http.StatusOK},
			{"/api/token/verify/", "token", "", http.StatusOK},
			{"/api/token/blacklist/", "refresh", "refresh", http.StatusOK},
			{"/api/logout/", "refresh", "refresh", http.StatusResetContent},
			{"/api/token/sliding/refresh/", "token", "sliding", http.StatusOK},
			{"/api/password/change/", "-", "", http.StatusOK}, // only the status is checked
		} {
			req := httptest.NewRequest(http.MethodPost, ep.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			if ep.path == "/api/logout/" || ep.path == "/api/password/change/" {
				req.Header.Set("Authorization", "Bearer "+forgeFuzzAccess(t, 1))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			fuzzAnswer(t, "POST "+ep.path, rec)
			if rec.Code/100 == 2 && rec.Code != ep.ok {
				t.Fatalf("POST %s: %d %s", ep.path, rec.Code, rec.Body)
			}
			if rec.Code != ep.ok || ep.field == "-" {
				continue
			}
			if ep.field == "" { // a login: the seed's credentials, and a pair of tokens of that user
				if email, ok := fuzzField(ct, body, "email"); ok && !strings.EqualFold(email, userEmail) && !strings.EqualFold(email, secondEmail) {
					t.Fatalf("login with email %q: %s", email, rec.Body)
				}
				var pair struct{ Refresh, Access string }
				if err := json.Unmarshal(rec.Body.Bytes(), &pair); err != nil {
					t.Fatal(err)
				}
				if _, ok := fuzzValid(pair.Refresh, "refresh"); !ok {
					t.Fatalf("login answered an invalid refresh token: %s", rec.Body)
				}
				continue
			}
			tok, ok := fuzzField(ct, body, ep.field)
			if !ok {
				continue
			}
			mc, valid := fuzzValid(tok, ep.typ)
			if !valid {
				t.Fatalf("POST %s answered %d for the token %q", ep.path, rec.Code, tok)
			}
			if ep.path == "/api/logout/" && mc["user_id"] != json.Number("1") {
				t.Fatalf("logout of user 1 accepted a refresh token of user %v", mc["user_id"])
			}
		}
	})
}
