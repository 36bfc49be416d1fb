package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzTokenBody: whenever tokenBody takes a body, the general way
// (parseBody, then fields) takes it too, without errors, and yields the
// same token.
func FuzzTokenBody(f *testing.F) {
	tok := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJ4In0.c2ln-_"
	for _, b := range []string{
		`{"refresh":"` + tok + `"}`,
		" \t\r\n{ \"refresh\" :\n\"" + tok + "\" }\n",
		`{"refresh":"` + tok + `","x":1}`,
		`{"refresh":"` + tok + ` "}`,
		`{"refresh":"a\u0062c"}`,
		`{"refresh":""}`,
		`{"refresh":"abc"}x`,
		`{"refresh":"abc"}` + "\v",
		`{"Refresh":"abc"}`,
		`["refresh","abc"]`,
		`{"refresh":"abc"`,
	} {
		f.Add(b, "refresh", "application/json")
	}
	f.Add(`{"token":"abc"}`, "token", "application/json")
	f.Add(`{"refresh":"abc"}`, "refresh", "application/json; charset=utf-8")
	f.Add(`refresh=abc`, "refresh", "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, body, name, ct string) {
		if name != "refresh" && name != "token" {
			return
		}
		r, err := http.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", ct)
		fast, ok := tokenBody(r, []byte(body), name)
		if !ok {
			return
		}
		data, err := parseBody(r, []byte(body))
		if err != nil {
			t.Fatalf("tokenBody took %q (%q), parseBody refused it: %v", body, fast, err)
		}
		vals, errs := fields(data, name)
		if errs != nil || vals[0] != fast {
			t.Fatalf("tokenBody took %q as %q; the general way: %q, %v", body, fast, vals, errs)
		}
	})
}

// TestTokenBody: the bodies tokenBody takes and the ones it leaves to the
// general way.
func TestTokenBody(t *testing.T) {
	for _, c := range []struct {
		body, ct string
		want     string
		ok       bool
	}{
		{`{"refresh":"a.b.c"}`, "application/json", "a.b.c", true},
		{" {\n\t\"refresh\" : \"a-b_c\" } \r\n", "application/json", "a-b_c", true},
		{`{"refresh":"a.b.c"}`, "application/json; charset=utf-8", "", false},
		{`{"refresh":"a.b.c"}`, "text/plain", "", false},
		{`{"refresh":"a b"}`, "application/json", "", false},
		{`{"refresh":"a\/b"}`, "application/json", "", false},
		{`{"refresh":""}`, "application/json", "", false},
		{`{"refresh":"a","refresh":"b"}`, "application/json", "", false},
		{`{"token":"a"}`, "application/json", "", false},
		{`{"refresh":"a"}}`, "application/json", "", false},
		{`{"refresh":"a"}` + "\f", "application/json", "", false},
	} {
		r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		r.Header.Set("Content-Type", c.ct)
		got, ok := tokenBody(r, []byte(c.body), "refresh")
		if got != c.want || ok != c.ok {
			t.Errorf("tokenBody(%q, %q) = %q, %v; want %q, %v", c.body, c.ct, got, ok, c.want, c.ok)
		}
	}
}
