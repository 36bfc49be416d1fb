package admin_test

import (
	"cmp"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/admin"
)

// issued is a token the list test made, as the lists should show it.
type issued struct {
	jti     string
	email   string
	id      int64 // order of issue
	created time.Time
	expires time.Time
	black   int // order of blacklisting, 0: not blacklisted
}

func (it issued) status(now time.Time) string {
	switch {
	case it.black > 0:
		return "blacklisted"
	case !it.expires.After(now):
		return "expired"
	}
	return "live"
}

var (
	rowJTI   = regexp.MustCompile(`<tr data-jti="([^"]+)">`)
	nextLink = regexp.MustCompile(`<a href="([^"]+)" rel="next"`)
	prevLink = regexp.MustCompile(`<a href="([^"]+)" rel="prev"`)
)

func rowsOf(p page) []string {
	var out []string
	for _, m := range rowJTI.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// listAll follows the "next" links from path and returns every row, and
// how many pages there were.
func listAll(t *testing.T, b *browser, path string) ([]string, int) {
	t.Helper()
	var all []string
	pages := 0
	for path != "" {
		p := b.get(path)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, p.StatusCode)
		}
		pages++
		if pages > 1 && prevLink.FindStringSubmatch(p.body) == nil {
			t.Errorf("%s: page %d has no link back", path, pages)
		}
		all = append(all, rowsOf(p)...)
		path = ""
		if m := nextLink.FindStringSubmatch(p.body); m != nil {
			path = html.UnescapeString(m[1])
		}
		if pages > 50 {
			t.Fatal("endless pages")
		}
	}
	return all, pages
}

func TestTokenLists(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) jwtrevoke.Store) {
		e := newEnv(t, envConfig{store: open(t), opts: admin.Options{PageSize: 2}})
		ctx := t.Context()
		other := e.createUser("other@example.com", "other-password-1", false)
		_ = other
		lifetime := e.svc.Settings().RefreshTokenLifetime

		var toks []issued
		issue := func(email, pw string) {
			e.clock.Add(time.Minute)
			_, jti := e.login(email, pw, "ua")
			now := e.clock.Now()
			toks = append(toks, issued{jti: jti, email: email, id: int64(len(toks) + 1), created: now, expires: now.Add(lifetime)})
		}
		// Two of the user's tokens will have expired, four not.
		issue(userMail, userPass)
		issue("other@example.com", "other-password-1")
		issue(userMail, userPass)
		e.clock.Add(23 * time.Hour)
		for range 4 {
			issue(userMail, userPass)
		}
		issue("other@example.com", "other-password-1")
		// Blacklist one expired-to-be and two live ones, in issue order.
		blacks := 0
		for _, i := range []int{0, 3, 5} {
			blacks++
			toks[i].black = blacks
			if err := e.svc.Blacklist(ctx, mustToken(t, e, toks[i].jti)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond) // distinct blacklisting times in the store
		}
		e.clock.Add(90 * time.Minute) // the first two tokens are past their expiry
		now := e.clock.Now()

		b := e.browser()
		b.signIn(staffMail, staffPass)

		want := func(keep func(issued) bool, sortBy string, asc bool) []string {
			var sel []issued
			for _, it := range toks {
				if keep(it) {
					sel = append(sel, it)
				}
			}
			slices.SortFunc(sel, func(a, b issued) int {
				var c int
				switch sortBy {
				case "expires":
					c = a.expires.Compare(b.expires)
				case "blacklisted":
					c = cmp.Compare(a.black, b.black)
				default:
					c = a.created.Compare(b.created)
				}
				if c == 0 {
					c = cmp.Compare(a.id, b.id)
				}
				if !asc {
					c = -c
				}
				return c
			})
			var out []string
			for _, it := range sel {
				out = append(out, it.jti)
			}
			return out
		}
		ofUser := func(it issued) bool { return it.email == userMail }
		q := "q=" + url.QueryEscape(strings.ToUpper(userMail)) // emails match in any case

		for _, c := range []struct {
			name, path string
			want       []string
		}{
			{"user, default order", "/admin/tokens/?" + q, want(ofUser, "created", false)},
			{"user, oldest first", "/admin/tokens/?" + q + "&sort=created&dir=asc", want(ofUser, "created", true)},
			{"user, by expiry", "/admin/tokens/?" + q + "&sort=expires&dir=desc", want(ofUser, "expires", false)},
			{"user, by expiry ascending", "/admin/tokens/?" + q + "&sort=expires&dir=asc", want(ofUser, "expires", true)},
			{"user, live", "/admin/tokens/?" + q + "&status=live", want(func(it issued) bool { return ofUser(it) && it.status(now) == "live" }, "created", false)},
			{"user, expired", "/admin/tokens/?" + q + "&status=expired", want(func(it issued) bool { return ofUser(it) && !it.expires.After(now) }, "created", false)},
			{"user, blacklisted", "/admin/tokens/?" + q + "&status=blacklisted", want(func(it issued) bool { return ofUser(it) && it.black > 0 }, "created", false)},
			{"everyone, expired", "/admin/tokens/?status=expired", want(func(it issued) bool { return !it.expires.After(now) }, "created", false)},
			{"blacklisted list", "/admin/blacklisted/", want(func(it issued) bool { return it.black > 0 }, "blacklisted", false)},
			{"blacklisted list, ascending", "/admin/blacklisted/?sort=blacklisted&dir=asc", want(func(it issued) bool { return it.black > 0 }, "blacklisted", true)},
			{"blacklisted list, by creation", "/admin/blacklisted/?sort=created&dir=asc", want(func(it issued) bool { return it.black > 0 }, "created", true)},
			{"jti", "/admin/tokens/?q=" + toks[4].jti, []string{toks[4].jti}},
			{"unknown jti", "/admin/tokens/?q=0123", nil},
			{"unknown email", "/admin/tokens/?q=nobody%40example.com", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, pages := listAll(t, b, c.path)
				if !slices.Equal(got, c.want) {
					t.Errorf("rows\n got %v\nwant %v", got, c.want)
				}
				if wantPages := max(1, (len(c.want)+1)/2); pages != wantPages {
					t.Errorf("%d pages, want %d", pages, wantPages)
				}
			})
		}

		// Every token: the staff sign-in is a live row of its own.
		all, _ := listAll(t, b, "/admin/tokens/?status=live")
		if len(all) != 1+len(want(func(it issued) bool { return it.status(now) == "live" }, "created", false)) {
			t.Errorf("live rows %v", all)
		}

		// Rows show the status and a blacklist button for live tokens only.
		p := b.get("/admin/tokens/?" + q + "&status=expired")
		if !strings.Contains(p.body, `<span class="badge expired">expired</span>`) && !strings.Contains(p.body, `<span class="badge blacklisted">blacklisted</span>`) {
			t.Errorf("no status badges:\n%s", p.body)
		}
		if strings.Contains(p.body, ">Blacklist</button>") {
			t.Error("an expired token offers to be blacklisted")
		}
		p = b.get("/admin/tokens/?" + q + "&status=live")
		if strings.Count(p.body, ">Blacklist</button>") != len(rowsOf(p)) {
			t.Error("a live token has no blacklist button")
		}
		if !strings.Contains(p.body, `<a href="/admin/users/`+itoa(e.user.ID)+`/">`+userMail+`</a>`) {
			t.Errorf("rows do not link the user:\n%s", p.body)
		}
		if strings.Contains(p.body, mustToken(t, e, toks[4].jti)) {
			t.Error("a list page shows a whole refresh token")
		}

		// Column headers sort, and the current one flips direction.
		p = b.get("/admin/tokens/?sort=expires&dir=desc")
		if !strings.Contains(p.body, `aria-sort="descending"><a href="/admin/tokens/?dir=asc&amp;sort=expires"`) {
			t.Errorf("the current column does not flip:\n%s", p.body)
		}
		if !strings.Contains(p.body, `<a href="/admin/tokens/?dir=desc&amp;sort=created"`) {
			t.Errorf("another column does not sort newest first:\n%s", p.body)
		}

		// Nonsense parameters fall back to the defaults.
		got, _ := listAll(t, b, "/admin/tokens/?"+q+"&sort=password&status=all&page=-3")
		if !slices.Equal(got, want(ofUser, "created", false)) {
			t.Errorf("bad parameters: %v", got)
		}
		if p := b.get("/admin/tokens/?" + q + "&page=99"); len(rowsOf(p)) != 0 || !strings.Contains(p.body, "No tokens match.") {
			t.Errorf("page past the end: %v", rowsOf(p))
		}
	})
}
