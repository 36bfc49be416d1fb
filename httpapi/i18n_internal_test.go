package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// verbs matches the fmt verbs of a format.
var verbs = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

// Every message of the catalog has an English and a Russian text with the
// same placeholders, in the same order; counted messages have three
// Russian forms and a %d that chooses among them.
func TestCatalogLanguages(t *testing.T) {
	for key, forms := range catalog {
		t.Run(key, func(t *testing.T) {
			if strings.TrimSpace(key) == "" {
				t.Fatal("empty English text")
			}
			if len(forms) != 1 && len(forms) != 3 {
				t.Fatalf("%d Russian forms, want 1 (or 3 for a counted message)", len(forms))
			}
			want := verbs.FindAllString(key, -1)
			if len(forms) == 3 && !slices.Contains(want, "%d") {
				t.Errorf("three plural forms but no %%d in %q", key)
			}
			for i, ru := range forms {
				if got := verbs.FindAllString(ru, -1); !slices.Equal(got, want) {
					t.Errorf("form %d %q: placeholders %q, want %q (as in English)", i, ru, got, want)
				}
				if !strings.ContainsFunc(ru, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) {
					t.Errorf("form %d %q is not Russian", i, ru)
				}
				if ru == key {
					t.Errorf("form %d is the English text", i)
				}
			}
		})
	}
}

// In English a message is exactly what the code wrote before the catalog:
// the key, or fmt.Sprintf of it.
func TestTextEnglishUnchanged(t *testing.T) {
	for key := range catalog {
		if n := len(verbs.FindAllString(key, -1)); n == 0 {
			if got := msg(key).in(english); got != key {
				t.Errorf("%q in English: %q", key, got)
			}
		}
	}
	cases := []struct {
		t    text
		want string
	}{
		{msg("Method %q not allowed.", "GET"), `Method "GET" not allowed.`},
		{msg("Request body is larger than %d bytes.", MaxBodyBytes), "Request body is larger than 1048576 bytes."},
		{msg("JSON parse error - %s: %s", msg("Expecting value"), msg("line %d column %d (char %d)", 1, 11, int64(10))),
			"JSON parse error - Expecting value: line 1 column 11 (char 10)"},
		{msg("Unknown, kept as it is."), "Unknown, kept as it is."},
	}
	for _, c := range cases {
		if got := c.t.in(english); got != c.want {
			t.Errorf("%q: got %q, want %q", c.t.key, got, c.want)
		}
		if got := c.t.String(); got != c.want {
			t.Errorf("%q String: got %q, want %q", c.t.key, got, c.want)
		}
	}
	// A message missing from the catalog falls back to English.
	if got := msg("Unknown, kept as it is.").in(russian); got != "Unknown, kept as it is." {
		t.Errorf("unknown message in Russian: %q", got)
	}
}

func TestRussianPlural(t *testing.T) {
	for n, want := range map[int64]int{
		0: 2, 1: 0, 2: 1, 3: 1, 4: 1, 5: 2, 10: 2, 11: 2, 12: 2, 14: 2, 15: 2, 20: 2,
		21: 0, 22: 1, 25: 2, 101: 0, 111: 2, 112: 2, 122: 1, 1048576: 2,
	} {
		if got := russianPlural(n); got != want {
			t.Errorf("russianPlural(%d) = %d, want %d", n, got, want)
		}
	}
	for secs, want := range map[time.Duration]string{
		time.Second:             `{"detail":"Запрос был проигнорирован. Повторить запрос можно через 1 секунду."}`,
		3 * time.Second:         `{"detail":"Запрос был проигнорирован. Повторить запрос можно через 3 секунды."}`,
		12 * time.Second:        `{"detail":"Запрос был проигнорирован. Повторить запрос можно через 12 секунд."}`,
		21 * time.Second:        `{"detail":"Запрос был проигнорирован. Повторить запрос можно через 21 секунду."}`,
		1500 * time.Millisecond: `{"detail":"Запрос был проигнорирован. Повторить запрос можно через 2 секунды."}`,
	} {
		w := httptest.NewRecorder()
		throttled(w, russian, secs)
		if got := w.Body.String(); got != want {
			t.Errorf("throttled %v: got %s, want %s", secs, got, want)
		}
	}
	w := httptest.NewRecorder()
	throttled(w, english, time.Second)
	if got, want := w.Body.String(), `{"detail":"Request was throttled. Expected available in 1 second."}`; got != want {
		t.Errorf("throttled 1s in English: got %s, want %s", got, want)
	}
}

func TestAcceptLanguage(t *testing.T) {
	cases := []struct {
		header string
		want   lang
	}{
		{"", english},
		{"ru", russian},
		{"RU", russian},
		{"ru-RU", russian},
		{"ru_RU", russian},
		{"ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", russian}, // a Russian browser
		{"en-US,en;q=0.9,ru;q=0.8", english},
		{"en;q=0.5, ru", russian},                     // q-values, not order
		{" ru ; q=0.8 , fr", russian},                 // spaces
		{"ru;q=0", english},                           // q=0: not acceptable
		{"ru;q=0, en", english},                       //
		{"fr", english},                               // unknown: the default
		{"fr, de;q=0.9", english},                     //
		{"fr, ru;q=0.8", russian},                     // the first known one
		{"uk", english},                               //
		{"*", english},                                // any: the default
		{"*;q=0.5, ru", russian},                      //
		{"ru, *;q=0.1", russian},                      //
		{"*, ru;q=0.5", english},                      // any at 1 beats ru at 0.5
		{"xx-!!, ru", russian},                        // a malformed entry is skipped
		{"ru;q=abc, en", english},                     // ... and one with a malformed weight
		{";;;,,", english},                            //
		{strings.Repeat("fr,", 1000) + "ru", english}, // only the first 1 KiB is read
	}
	for _, c := range cases {
		if got := acceptLang(c.header); got != c.want {
			t.Errorf("Accept-Language %.40q: got %s, want %s", c.header, langTags[got], langTags[c.want])
		}
	}

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if got := requestLang(r); got != english {
		t.Errorf("no Accept-Language: got %s", langTags[got])
	}
	r.Header["Accept-Language"] = []string{"fr", "ru"} // two header lines are one list
	if got := requestLang(r); got != russian {
		t.Errorf("Accept-Language: fr, then ru: got %s, want ru", langTags[got])
	}
}

// sentence matches a string literal that reads as an English message of an
// answer: a capitalised word, then a word that is not (so that route names
// such as "Token Obtain Pair" are left out).
var sentence = regexp.MustCompile(`^[A-Z][A-Za-z']* [a-z"'%(]`)

// notMessages are literals of the scanned files that look like messages
// but never reach an answer's body: the root package's configuration
// errors, which the server reports at startup.
var notMessages = map[string]bool{
	"EdDSA needs an Ed25519 key, not %T":                                true,
	"HMAC algorithms use a shared secret (SIGNING_KEY), not a key pair": true,
	"LEEWAY must not be negative":                                       true,
	"ALGORITHM %q is not supported (%s)":                                true,
}

// Every message the code can answer is in the catalog: a new English
// message without a translation fails here. The scan reads the string
// literals of this package's files and of the root package's (whose error
// texts and Django messages httpapi answers): every literal that reads as
// a sentence, and every key given to msg or tr, must be a catalog key.
func TestCatalogCoversSource(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, dir := range []string{".", ".."} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			keyArgs := map[*ast.BasicLit]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				var fn string
				switch f := call.Fun.(type) {
				case *ast.Ident:
					fn = f.Name
				case *ast.SelectorExpr:
					fn = f.Sel.Name
				}
				if lit, ok := call.Args[0].(*ast.BasicLit); ok && (fn == "msg" || fn == "tr") && dir == "." {
					keyArgs[lit] = true
				}
				return true
			})
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
				}
				if !keyArgs[lit] && (!sentence.MatchString(s) || notMessages[s]) {
					return true
				}
				checked++
				if _, ok := catalog[s]; !ok && !isCatalogPart(s) {
					t.Errorf("%s: %q is not in the catalog (give it a Russian text in i18n.go)", fset.Position(lit.Pos()), s)
				}
				return true
			})
		}
	}
	if checked < 40 {
		t.Errorf("only %d messages found in the sources: is the scan broken?", checked)
	}
}

// isCatalogPart reports whether s is a catalog message less its final
// period: the root package's ErrForeignToken, which logout answers with
// one added.
func isCatalogPart(s string) bool {
	_, ok := catalog[s+"."]
	return ok
}

// The message of every bodyError is in the catalog, arguments included.
func TestBodyErrorsTranslated(t *testing.T) {
	for _, body := range []string{`{"email": `, `{} x`, `{"a":x}`, `{"a":tx}`, `[1,2]`, strings.Repeat("[", 10001)} {
		_, err := parseJSON([]byte(body))
		be, ok := err.(*bodyError)
		if !ok {
			t.Fatalf("parseJSON(%.20q): %v, want a bodyError", body, err)
		}
		ru := be.msg.in(russian)
		if strings.Contains(ru, "%!") {
			t.Errorf("parseJSON(%.20q): bad format: %q", body, ru)
		}
		for _, word := range []string{"error", "Expecting", "Extra", "Invalid", "line", "column", "char", "literal", "expecting", "depth"} {
			if strings.Contains(ru, word) {
				t.Errorf("parseJSON(%.20q) in Russian: %q has English %q", body, ru, word)
			}
		}
	}
	// A context encoding/json may add one day is kept, in English.
	if got, want := invalidCharacter("'x' somewhere new").in(russian), "Недопустимый символ 'x' somewhere new"; got != want {
		t.Errorf("unknown context: got %q, want %q", got, want)
	}
	if got, want := invalidCharacter("oddly").in(english), "Invalid character oddly"; got != want {
		t.Errorf("no quoted character: got %q, want %q", got, want)
	}
}
