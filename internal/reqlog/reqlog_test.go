package reqlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jwtrevoke/jwtrevoke/internal/reqlog"
)

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123_x.y:z/=":         true,
		strings.Repeat("a", 128):  true,
		strings.Repeat("a", 129):  false,
		"":                        false,
		"has space":               false,
		"tab\there":               false,
		"new\nline":               false,
		"caf\u00e9":               false,
		"\x7f":                    false,
		`quote"and{json}`:         true,
		"0123456789abcdef-000001": true,
	} {
		if got := reqlog.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestNewIDUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := reqlog.NewID()
		if seen[id] || !reqlog.ValidID(id) {
			t.Fatalf("id %q repeated or invalid", id)
		}
		seen[id] = true
	}
}

// TestMiddleware: a safe incoming id is kept, an unsafe one replaced; the
// id is echoed, in the handler's context, on the records the handler logs
// with it and on the access line, which holds no header.
func TestMiddleware(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	var inner string
	h := reqlog.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = reqlog.IDFrom(r.Context())
		reqlog.Logger(log).InfoContext(r.Context(), "inside")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("short and stout"))
	}), reqlog.Options{Logger: log, AccessLog: true})

	for _, c := range []struct {
		sent string
		keep bool
	}{{"from-the-proxy-1", true}, {"evil\r\nX-Injected: 1", false}, {strings.Repeat("z", 500), false}, {"", false}} {
		buf.Reset()
		req := httptest.NewRequest(http.MethodPost, "/api/token/?secret=query-value", nil)
		req.Header.Set("Authorization", "Bearer header-secret")
		req.Header.Set("Cookie", "c=cookie-secret")
		req.Header["X-Request-Id"] = []string{c.sent}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(reqlog.Header)
		if c.keep && got != c.sent || !c.keep && (got == c.sent || !reqlog.ValidID(got)) || inner != got {
			t.Fatalf("sent %q: echoed %q, handler saw %q", c.sent, got, inner)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d log lines:\n%s", len(lines), buf.String())
		}
		for _, l := range lines {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil || rec[reqlog.Key] != got {
				t.Errorf("record %s: request_id %v, want %q", l, rec[reqlog.Key], got)
			}
		}
		var access map[string]any
		_ = json.Unmarshal([]byte(lines[1]), &access)
		if access["msg"] != "request" || access["status"] != float64(418) || access["bytes"] != float64(15) || access["path"] != "/api/token/" || access["method"] != "POST" {
			t.Errorf("access line: %s", lines[1])
		}
		for _, secret := range []string{"header-secret", "cookie-secret", "query-value"} {
			if strings.Contains(buf.String(), secret) {
				t.Errorf("the log holds %q", secret)
			}
		}
	}
}

// TestMiddlewareWithoutAccessLog still gives requests their id (in the
// context, for the records logged with it) and echoes a given one, but
// sends no generated id back: no log line holds it.
func TestMiddlewareWithoutAccessLog(t *testing.T) {
	var buf bytes.Buffer
	var seen string
	h := reqlog.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = reqlog.IDFrom(r.Context()) }),
		reqlog.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := rec.Header().Get(reqlog.Header); got != "" || seen == "" || buf.Len() != 0 {
		t.Fatalf("generated: answer's id %q, context's %q, log %q", got, seen, buf.String())
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set(reqlog.Header, "proxy-id-1")
	h.ServeHTTP(rec, req)
	if got := rec.Header().Get(reqlog.Header); got != "proxy-id-1" || seen != "proxy-id-1" || buf.Len() != 0 {
		t.Fatalf("given: answer's id %q, context's %q, log %q", got, seen, buf.String())
	}
}

func TestHandlerKeepsIDThroughAttrsAndGroups(t *testing.T) {
	var buf bytes.Buffer
	log := reqlog.Logger(slog.New(slog.NewTextHandler(&buf, nil))).With("component", "x").WithGroup("g")
	log.InfoContext(reqlog.WithID(context.Background(), "the-id"), "hello", "k", 1)
	log.Info("no context id")
	out := buf.String()
	if !strings.Contains(out, "component=x") || !strings.Contains(out, "g.request_id=the-id") || strings.Count(out, "request_id") != 1 {
		t.Fatalf("log:\n%s", out)
	}
	if reqlog.Logger(log) != log {
		t.Error("Logger wrapped a wrapped logger again")
	}
}

func TestSafePath(t *testing.T) {
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
	for in, want := range map[string]string{
		"/api/me/":                     "/api/me/",
		"/.well-known/jwks.json":       "/.well-known/jwks.json",
		"/api/" + tok + "/x":           "/api/[redacted]/x",
		"/a.b.c/":                      "/a.b.c/", // too short to be a token
		"/" + strings.Repeat("p", 300): "/" + strings.Repeat("p", 255) + "...",
	} {
		if got := reqlog.SafePath(in); got != want {
			t.Errorf("SafePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStatusWriter records status and size and unwraps.
func TestStatusWriter(t *testing.T) {
	rec := httptest.NewRecorder()
	sw := reqlog.Wrap(rec)
	if sw.Status() != 200 {
		t.Errorf("status before any write: %d", sw.Status())
	}
	sw.WriteHeader(http.StatusCreated)
	_, _ = sw.Write([]byte("abc"))
	sw.Flush()
	if sw.Status() != 201 || sw.Bytes() != 3 || sw.Unwrap() != rec || !rec.Flushed {
		t.Errorf("status %d bytes %d flushed %v", sw.Status(), sw.Bytes(), rec.Flushed)
	}
	sw.Release()
}
