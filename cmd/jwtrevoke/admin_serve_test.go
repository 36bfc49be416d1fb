package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestServeAdmin: serve mounts the admin pages at /admin/ beside the API; a
// staff user made by createuser signs in over HTTP and sees the dashboard;
// ADMIN=false leaves /admin/ to the API's 404.
func TestServeAdmin(t *testing.T) {
	db := "sqlite:///" + filepath.Join(t.TempDir(), "admin.db")
	getenv := env("JWTREVOKE_DATABASE", db, "JWTREVOKE_SIGNING_KEY", testKey)
	if code, _, errs := run(t, getenv, "staff-password-1\n", "createuser", "--email", "ops@example.com", "--password-stdin", "--staff"); code != 0 {
		t.Fatalf("createuser: %d %s", code, errs)
	}
	base := server(t, getenv)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	res, err := c.Get(base + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/admin/login/" {
		t.Fatalf("GET /admin/ unsigned: %d at %s, want the sign-in page", res.StatusCode, res.Request.URL)
	}
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("sign-in page has no csrf field:\n%s", page)
	}
	res, err = c.PostForm(base+"/admin/login/", url.Values{"csrf": {string(m[1])}, "email": {"ops@example.com"}, "password": {"staff-password-1"}, "next": {"/admin/"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/admin/" || !strings.Contains(string(page), "Dashboard") {
		t.Fatalf("sign-in: %d at %s:\n%s", res.StatusCode, res.Request.URL, page)
	}
	// The API still answers beside it.
	if st, body, _ := get(t, base+"/api/me/"); st != 401 || !strings.Contains(body, "Authentication credentials were not provided.") {
		t.Fatalf("/api/me/ beside the admin: %d %s", st, body)
	}

	off := server(t, env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey, "JWTREVOKE_ADMIN", "false"))
	if st, body, _ := get(t, off+"/admin/"); st != 404 || !strings.Contains(body, "Not found.") {
		t.Fatalf("ADMIN=false: /admin/ %d %s, want the API's 404", st, body)
	}
}
