package interop_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/proctest"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
)

// python is Debian's interpreter, which has the Debian Django packages
// (a python3 earlier on PATH, e.g. pyenv's, may not).
const python = "/usr/bin/python3"

const signingKey = "interop-signing-key-0123456789abcdef0123"

func requireDjango(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import django, rest_framework_simplejwt, argon2, psycopg2").CombinedOutput()
	if err != nil {
		testdb.Skip(t, "Debian's python3-djangorestframework-simplejwt, python3-argon2 and python3-psycopg2 are not installed; skipping the Django interop test: "+strings.TrimSpace(string(out)))
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func call(t *testing.T, method, u, bearer string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, u, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

func TestDjangoSideBySide(t *testing.T) {
	dbURL := testdb.Postgres(t)
	requireDjango(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	djangoEnv := append(os.Environ(),
		"INTEROP_SIGNING_KEY="+signingKey,
		"INTEROP_DB_HOST="+u.Hostname(), "INTEROP_DB_PORT="+u.Port(),
		"INTEROP_DB_NAME="+strings.TrimPrefix(u.Path, "/"),
		"INTEROP_DB_USER="+u.User.Username(),
		"INTEROP_DB_SCHEMA="+u.Query().Get("search_path"),
		"PYTHONDONTWRITEBYTECODE=1")
	if p, ok := u.User.Password(); ok {
		djangoEnv = append(djangoEnv, "INTEROP_DB_PASSWORD="+p)
	}
	manage := func(args ...string) *exec.Cmd {
		cmd := exec.Command(python, append([]string{"manage.py"}, args...)...)
		cmd.Dir = "django"
		cmd.Env = djangoEnv
		return cmd
	}
	// Django migrates first: it creates users_user and SimpleJWT's tables;
	// jwtrevoke's migration then adds only its own tables.
	if out, err := manage("migrate", "--noinput").CombinedOutput(); err != nil {
		t.Fatalf("django migrate: %v\n%s", err, out)
	}
	bin, err := proctest.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jenv := []string{"JWTREVOKE_DATABASE=" + dbURL, "JWTREVOKE_SIGNING_KEY=" + signingKey}
	run := func(stdin string, args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), jenv...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("jwtrevoke %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("", "migrate")
	run("test123456\n", "createuser", "--email", "test@email.com", "--password-stdin")
	jw := proctest.Start(t, bin, jenv, "serve", "--addr", "127.0.0.1:0", "--no-migrate").URL

	addr := freePort(t)
	dj := manage("runserver", addr, "--noreload")
	var djLog bytes.Buffer
	dj.Stdout, dj.Stderr = &djLog, &djLog
	if err := dj.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dj.Process.Kill(); _ = dj.Wait() })
	dg := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(dg + "/api/me/"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("django did not start:\n%s", djLog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	creds := map[string]string{"email": "test@email.com", "password": "test123456"}
	login := func(base string) (string, string) {
		st, body := call(t, "POST", base+"/api/token/", "", creds)
		if st != 200 {
			t.Fatalf("login at %s: %d %v\n%s", base, st, body, djLog.String())
		}
		return body["refresh"].(string), body["access"].(string)
	}
	dRefresh, dAccess := login(dg) // Django checks jwtrevoke's argon2id hash
	jRefresh, jAccess := login(jw)

	t.Run("EachAcceptsTheOthersAccessTokens", func(t *testing.T) {
		for _, c := range []struct{ server, token, issuer string }{{jw, dAccess, "django"}, {dg, jAccess, "jwtrevoke"}} {
			st, body := call(t, "GET", c.server+"/api/me/", c.token, nil)
			if st != 200 || body["email"] != "test@email.com" {
				t.Errorf("%s access token at %s: %d %v", c.issuer, c.server, st, body)
			}
		}
		for _, c := range []struct{ server, token string }{{jw, dRefresh}, {dg, jRefresh}} {
			if st, body := call(t, "POST", c.server+"/api/token/refresh/", "", map[string]string{"refresh": c.token}); st != 200 {
				t.Errorf("refresh at %s with the other's token: %d %v", c.server, st, body)
			}
		}
	})

	blacklisted := map[string]string{"detail": "Token is blacklisted", "code": "token_not_valid"}
	// A blacklist Django writes reaches jwtrevoke with its next load of
	// the blacklist (REVOCATION_POLL_INTERVAL, 100 ms): jwtrevoke's refresh
	// asks its memory, not the database; the bound allows for a loaded
	// machine.
	refusedByBoth := func(t *testing.T, refresh string) {
		t.Helper()
		for _, server := range []string{jw, dg} {
			st, body := call(t, "POST", server+"/api/token/refresh/", "", map[string]string{"refresh": refresh})
			for deadline := time.Now().Add(time.Second); server == jw && st == 200 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
				st, body = call(t, "POST", server+"/api/token/refresh/", "", map[string]string{"refresh": refresh})
			}
			if st != 401 || body["detail"] != blacklisted["detail"] || body["code"] != blacklisted["code"] {
				t.Errorf("refresh at %s after blacklisting: %d %v, want 401 %v", server, st, body, blacklisted)
			}
		}
	}
	t.Run("BlacklistedThroughJwtrevoke", func(t *testing.T) {
		if st, body := call(t, "POST", jw+"/api/logout/", jAccess, map[string]string{"refresh": dRefresh}); st != 205 {
			t.Fatalf("jwtrevoke logout with Django's refresh token: %d %v", st, body)
		}
		refusedByBoth(t, dRefresh)
		// jwtrevoke also refuses the access token Django minted for that session.
		if st, _ := call(t, "GET", jw+"/api/me/", dAccess, nil); st != 401 {
			t.Errorf("jwtrevoke still accepts the logged-out Django access token: %d", st)
		}
	})
	t.Run("BlacklistedThroughDjango", func(t *testing.T) {
		r2, a2 := login(jw)
		if st, body := call(t, "POST", dg+"/api/logout/", a2, map[string]string{"refresh": r2}); st != 205 {
			t.Fatalf("django logout with jwtrevoke's refresh token: %d %v", st, body)
		}
		refusedByBoth(t, r2)
		if st, body := call(t, "POST", dg+"/api/token/blacklist/", "", map[string]string{"refresh": jRefresh}); st != 200 {
			t.Fatalf("django blacklist endpoint: %d %v", st, body)
		}
		refusedByBoth(t, jRefresh)
	})
	t.Run("Tables", func(t *testing.T) {
		out := run("", "tokens", "--blacklisted")
		if n := strings.Count(strings.TrimSpace(out), "\n"); n != 3 {
			t.Errorf("jwtrevoke tokens --blacklisted lists %d rows, want 3:\n%s", n, out)
		}
	})
}
