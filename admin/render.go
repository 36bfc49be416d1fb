package admin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates of the pages, each rendered inside layout.html.
var pageNames = []string{"login", "dashboard", "tokens", "user", "finduser", "error"}

// pages holds one parsed template set per page.
type pages struct {
	byName map[string]*template.Template
}

func mustParsePages() *pages {
	funcs := template.FuncMap{
		"when":     formatTime,
		"whenp":    formatTimePtr,
		"ago":      formatAge,
		"duration": formatDuration,
		"plural":   plural,
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/"+name+".html"))
		p.byName[name] = t
	}
	return p
}

// view is what every page template gets.
type view struct {
	Title string
	Nav   string          // the header link of the page, if any
	Staff *jwtrevoke.User // nil on the sign-in and error pages of a stranger
	CSRF  string          // the session's CSRF token, for the forms
	Flash *flash
	Data  any
}

// render writes page name with v and status. The page is rendered to a
// buffer first, so that a template error gives a clean 500.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := h.pages.byName[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.ErrorContext(r.Context(), "admin: render", "page", name, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// page renders a page of a signed-in staff user, with the flash.
func (h *handler) page(w http.ResponseWriter, r *http.Request, s *staffRequest, status int, name, title, nav string, data any) {
	h.render(w, r, status, name, &view{
		Title: title, Nav: nav, Staff: s.user, CSRF: s.csrf,
		Flash: h.takeFlash(w, r, s.key), Data: data,
	})
}

// errorPage renders a short page saying what went wrong.
func (h *handler) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, r, status, "error", &view{
		Title: http.StatusText(status),
		Data:  struct{ Status, Message string }{fmt.Sprintf("%d %s", status, http.StatusText(status)), msg},
	})
}

// staticHandler serves the style sheet.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix(Prefix+"static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// timeLayout is how the pages show instants: UTC (the footer says so),
// to the second.
const timeLayout = "2006-01-02 15:04:05"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeLayout)
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatTime(*t)
}

// formatAge says how long ago d was, roughly.
func formatAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return formatDuration(d) + " ago"
}

// formatDuration writes d in its largest sensible unit.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// plural returns one or many for n.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
