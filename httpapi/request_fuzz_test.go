package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseJSON: parseJSON takes exactly the bodies Python's json module
// (DRF's JSONParser) takes as one JSON object, surrounded by JSON
// whitespace only, and reads them as encoding/json does; everything else
// is a 400 with DRF's message. Never a panic, whatever the offsets the
// error positions are computed from.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, ` {"a":1} `, `{"refresh":"x"}`, `{"a":1,"a":2}`, `{"a":{"b":[1,2,{"c":null}]}}`, `{"a":1.5e3}`,
		`[]`, `null`, `"x"`, `1`, `true`, `{`, `{"a"}`, `{"a":1}{}`, `{"a":1} x`, "{\"a\":1}\n\n x", "{}\v", "{}\u00a0",
		"\ufeff{}", "{\"a\":\"\xff\"}", "\n\n{\n\"a\":\n}", `{"a":1,}`, `{"a":"\ud800"}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseJSON(body)
		trimmed := bytes.Trim(body, " \t\r\n")
		isObject := json.Valid(body) && len(trimmed) > 0 && trimmed[0] == '{'
		if err != nil {
			var be *bodyError
			if !errors.As(err, &be) || be.status != http.StatusBadRequest {
				t.Fatalf("parseJSON(%q): %v, want a 400 bodyError", body, err)
			}
			if msg := be.Error(); !strings.HasPrefix(msg, "JSON parse error - ") && !strings.HasPrefix(msg, "Invalid data. Expected a dictionary") {
				t.Fatalf("parseJSON(%q): message %q", body, msg)
			}
			if ru := be.msg.in(russian); strings.Contains(ru, "%!") || !strings.HasPrefix(ru, "Ошибка разбора JSON - ") && !strings.HasPrefix(ru, "Недопустимые данные.") {
				t.Fatalf("parseJSON(%q): Russian message %q", body, ru)
			}
			if isObject {
				t.Fatalf("parseJSON(%q) refused a JSON object: %v", body, err)
			}
			return
		}
		if !isObject {
			t.Fatalf("parseJSON(%q) accepted what is not one JSON object: %v", body, m)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var want map[string]any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("parseJSON(%q) = %v, want %v", body, m, want)
		}
	})
}
