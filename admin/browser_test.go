package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser drives the admin pages in a real headless Chromium: sign in,
// find a user's token by email, blacklist it, and check over HTTP that
// the API then refuses the refresh token and the session's access token.
// It saves full-page screenshots in $JWTREVOKE_ARTIFACTS (default: a
// temporary directory). Without chromium on PATH it is skipped, unless
// JWTREVOKE_REQUIRE_BROWSER=1, when it fails.
func TestBrowser(t *testing.T) {
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("JWTREVOKE_REQUIRE_BROWSER") == "1" {
			t.Fatal("chromium is not on PATH, and JWTREVOKE_REQUIRE_BROWSER=1 requires the browser test")
		}
		t.Skip("chromium is not on PATH: the browser test needs it (apt-get install chromium); JWTREVOKE_REQUIRE_BROWSER=1 turns this skip into a failure")
	}
	artifacts := os.Getenv("JWTREVOKE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t, envConfig{realTime: true})
	// The user logs in through the API, as a client would.
	pair := apiLogin(t, e.srv.URL, userMail, userPass)
	apiLogin(t, e.srv.URL, userMail, userPass) // a second session, left alone
	claims, err := e.svc.ParseRefresh(pair.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	jti := claims.JTI

	profile := t.TempDir() // also tells this test's browser processes from any other
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1366, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		// Close the browser gracefully, within a limit (its error, a
		// connection closed under it, says nothing); then make sure that
		// neither it nor a helper process of it is left.
		closeCtx, cancel := context.WithTimeout(browserCtx, 15*time.Second)
		defer cancel()
		_ = chromedp.Cancel(closeCtx)
		cancelBrowser()
		cancelAlloc()
		waitNoBrowser(t, profile)
	})
	ctx, cancel := context.WithTimeout(browserCtx, 2*time.Minute)
	defer cancel()

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// click clicks sel, which loads a page (through a redirect after a
	// form's POST), waits for that page, and checks its status.
	click := func(what, sel string) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if resp.Status != http.StatusOK {
			t.Fatalf("%s: the page loaded with status %d", what, resp.Status)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(artifacts, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}

	// Sign in: the dashboard sends the browser to the sign-in form.
	run("open the admin pages", chromedp.Navigate(e.srv.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/admin/login/") {
		t.Fatalf("not sent to sign in: %s", loc)
	}
	run("fill the sign-in form",
		chromedp.SendKeys(chromedp.CSS("#email"), staffMail),
		chromedp.SendKeys(chromedp.CSS("#password"), staffPass),
	)
	click("sign in", "#sign-in")
	run("dashboard", chromedp.WaitVisible(chromedp.CSS("#live-sessions")))
	if got := text("#flash"); !strings.Contains(got, "Signed in as "+staffMail) {
		t.Errorf("flash after sign-in: %q", got)
	}
	if got := text("#live-sessions"); got != "3" { // the user's two logins and this sign-in
		t.Errorf("live sessions on the dashboard: %q", got)
	}
	if got := text("#store-health"); !strings.Contains(got, "answering") {
		t.Errorf("store health: %q", got)
	}
	shot("admin-dashboard.png")

	// Find the user's token by their email, and blacklist it.
	row := `tr[data-jti="` + jti + `"]`
	click("open the token list", `nav a[href="/admin/tokens/"]`)
	run("search the token by email", chromedp.SendKeys(chromedp.CSS("#q"), strings.ToUpper(userMail)))
	click("search", "#search")
	run("the token's row", chromedp.WaitVisible(chromedp.CSS(row)))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "q=USER%40EXAMPLE.COM") {
		t.Errorf("not the search's page: %s", loc)
	}
	if got := text(row + " .badge"); got != "live" {
		t.Errorf("status before blacklisting: %q", got)
	}
	click("blacklist", "#blacklist-"+jti)
	run("the flash", chromedp.WaitVisible(chromedp.CSS("#flash")))
	if got := text("#flash"); !strings.Contains(got, "Token "+jti+" is blacklisted") {
		t.Errorf("flash after blacklisting: %q", got)
	}
	if got := text(row + " .badge"); got != "blacklisted" {
		t.Errorf("status after blacklisting: %q", got)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/admin/tokens/?") {
		t.Errorf("the action did not come back to the list: %s", loc)
	}
	shot("admin-tokens.png")

	// The API now refuses the refresh token, as SimpleJWT words it, and
	// the session's access token too.
	status, body := apiPost(t, e.srv.URL+"/api/token/refresh/", `{"refresh":"`+pair.Refresh+`"}`)
	if status != http.StatusUnauthorized || body != `{"detail":"Token is blacklisted","code":"token_not_valid"}` {
		t.Errorf("refresh after blacklisting: %d %s", status, body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/me/", nil)
	req.Header.Set("Authorization", "Bearer "+pair.Access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/me/ with the session's access token: %d", resp.StatusCode)
	}

	// The user's page: the session, revoked, with its device, and the
	// blacklisting in the audit trail.
	click("open the user page", row+" td a")
	run("the user page", chromedp.WaitVisible(chromedp.CSS("#audit")))
	if got := text("#sessions"); !strings.Contains(got, "admin-browser-test/1.0") || !strings.Contains(got, "127.0.0.1") {
		t.Errorf("sessions table: %q", got)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions tbody tr").length`)); err != nil || n != 2 {
		t.Errorf("sessions listed: %d %v", n, err)
	}
	if got := text("#audit"); !strings.Contains(got, "blacklist") {
		t.Errorf("audit trail: %q", got)
	}
	shot("admin-user.png")

	// Sign out: the pages send the browser to sign in again.
	click("sign out", "#sign-out")
	run("the sign-in page", chromedp.WaitVisible(chromedp.CSS("#sign-in")))
	if got := text("#flash"); got != "You are signed out." {
		t.Errorf("flash after signing out: %q", got)
	}
	run("dashboard after signing out", chromedp.Navigate(e.srv.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#sign-in")))
}

// apiLogin logs in through POST /api/token/.
func apiLogin(t *testing.T, base, email, pw string) struct{ Refresh, Access string } {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	status, body := apiPost(t, base+"/api/token/", string(b))
	if status != http.StatusOK {
		t.Fatalf("login: %d %s", status, body)
	}
	var pair struct{ Refresh, Access string }
	if err := json.Unmarshal([]byte(body), &pair); err != nil || pair.Refresh == "" || pair.Access == "" {
		t.Fatalf("login answer %s: %v", body, err)
	}
	return pair
}

func apiPost(t *testing.T, target, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "admin-browser-test/1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(bytes.TrimSpace(raw))
}

// waitNoBrowser waits until no process runs with profile on its command
// line (the browser and its helpers), and fails if one outlives 10 s.
func waitNoBrowser(t *testing.T, profile string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := processesWith(profile)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("browser processes left behind: %v", left)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processesWith returns the pids whose command line contains s.
func processesWith(s string) []string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []string
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && bytes.Contains(cmd, []byte(s)) {
			pids = append(pids, filepath.Base(d))
		}
	}
	return pids
}
