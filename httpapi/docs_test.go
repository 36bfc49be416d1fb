package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// RouteTable exposes routeTable to the package's external tests
// (openapi_test.go), which compare it with the OpenAPI document.
func RouteTable(h *Handler) map[string][]string { return h.routeTable() }

func docsServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = "docs-test-signing-key-0123456789abcdef"
	svc, err := jwtrevoke.New(t.Context(), memory.New(), s, jwtrevoke.Options{Hasher: &password.Hasher{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(svc, Options{}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	res, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// TestDocsPage: /api/docs/ is an HTML page, rendered on the server, that
// lists every operation of the document and links to it for readers
// without JavaScript, loads only its own script and style sheet, and has a
// Content-Security-Policy that allows exactly those (no inline code).
func TestDocsPage(t *testing.T) {
	srv := docsServer(t)
	for _, path := range []string{"/api/docs/", "/api/docs"} {
		res, page := get(t, srv, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, page)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if csp != docsCSP {
			t.Errorf("GET %s: Content-Security-Policy %q, want %q", path, csp, docsCSP)
		}
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("Content-Security-Policy %q lacks %s", csp, d)
			}
		}
		if strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") {
			t.Errorf("Content-Security-Policy %q allows unsafe or wildcard sources", csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("GET %s: %s %q, want %q", path, k, got, v)
			}
		}
		if t.Failed() {
			return
		}
		data, err := docsData(openapiDoc)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tag := range data.Tags {
			for _, op := range tag.Operations {
				n++
				for _, s := range []string{`id="op-` + op.ID + `"`, `<span class="method">` + op.Method + `</span> <code class="path">` + op.Path + `</code>`} {
					if !strings.Contains(page, s) {
						t.Errorf("page lacks %s %s: %s", op.Method, op.Path, s)
					}
				}
			}
		}
		if n < 40 {
			t.Errorf("page lists %d operations, want every operation of openapi.json", n)
		}
		for _, s := range []string{
			`<noscript>`, `<a href="/api/schema/">`,
			`<script src="/api/docs/docs.js" defer></script>`,
			`<link rel="stylesheet" href="/api/docs/docs.css">`,
		} {
			if !strings.Contains(page, s) {
				t.Errorf("page lacks %s", s)
			}
		}
		// Nothing inline that the policy would block: every script has a
		// src and no body, no <style> element, no style or on* attribute.
		if got := regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1); len(got) != 1 || !strings.Contains(page, "></script>") {
			t.Errorf("scripts %q: want exactly the one external script", got)
		}
		if m := regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:`).FindString(page); m != "" {
			t.Errorf("page has inline style or script: %q", m)
		}
	}
}

// TestDocsAssets: the page's script and style sheet are served with their
// Content-Types (nosniff would otherwise make browsers refuse them), and
// are the embedded files.
func TestDocsAssets(t *testing.T) {
	srv := docsServer(t)
	for _, c := range []struct{ path, file, ctype string }{
		{"/api/docs/docs.js", "docs/docs.js", "text/javascript; charset=utf-8"},
		{"/api/docs/docs.css", "docs/docs.css", "text/css; charset=utf-8"},
	} {
		res, body := get(t, srv, c.path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", c.path, res.StatusCode)
			continue
		}
		if ct := res.Header.Get("Content-Type"); ct != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, ct, c.ctype)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", c.path)
		}
		want, _ := docsFS.ReadFile(c.file)
		if body != string(want) || len(body) == 0 {
			t.Errorf("GET %s: body is not %s", c.path, c.file)
		}
	}
	// The script loads the document from this origin.
	_, js := get(t, srv, "/api/docs/docs.js")
	if !strings.Contains(js, `"/api/schema/"`) || !strings.Contains(js, "fetch(") {
		t.Error("docs.js does not fetch /api/schema/")
	}
}

// TestDocsNoExternalURLs: nothing of the page names another host: no
// http(s) URLs, no protocol-relative ones, no CSS imports.
func TestDocsNoExternalURLs(t *testing.T) {
	srv := docsServer(t)
	_, page := get(t, srv, "/api/docs/")
	files := map[string]string{"rendered page": page}
	for _, f := range []string{"docs/index.html", "docs/docs.js", "docs/docs.css"} {
		b, err := docsFS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		files[f] = string(b)
	}
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|https?://|@import|url\(`)
	attr := regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']?([^"'\s>]*)`)
	for name, s := range files {
		// Comments in the script are allowed to say anything but URLs too.
		if m := external.FindString(s); m != "" {
			t.Errorf("%s names another host or import: %q", name, m)
		}
		for _, m := range attr.FindAllStringSubmatch(s, -1) {
			if v := m[2]; !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") {
				t.Errorf("%s: %s=%q is not a path on this host", name, m[1], v)
			}
		}
	}
}

// TestDocsDataOrder: the page keeps the document's order of paths.
func TestDocsDataOrder(t *testing.T) {
	paths, err := orderedPaths(openapiDoc)
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Paths map[string]json.RawMessage }
	if err := json.Unmarshal(openapiDoc, &m); err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(m.Paths) || paths[0].path != "/api/token/" {
		t.Fatalf("orderedPaths: %d paths, first %q; want %d, /api/token/ first", len(paths), paths[0].path, len(m.Paths))
	}
}
