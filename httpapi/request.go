package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MaxBodyBytes caps request bodies; larger ones are answered with 413.
const MaxBodyBytes = 1 << 20

// bodyError is a request body that could not be read; status is 400, 413
// or 415.
type bodyError struct {
	status int
	msg    text
	// nonField is set for a body that parsed but is not an object: DRF
	// answers {"non_field_errors": [...]} then.
	nonField bool
}

func (e *bodyError) Error() string { return e.msg.String() }

// readBody reads a JSON, form-encoded or multipart body into a map of
// field values, as DRF's parsers do. An empty body gives an empty map.
// JSON values are kept as decoded (json.Number for numbers); form values
// are strings.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	body, err := readBytes(w, r)
	if err != nil {
		return nil, err
	}
	return parseBody(r, body)
}

// readBytes reads the request body, at most MaxBodyBytes of it.
func readBytes(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil || r.ContentLength == 0 {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, &bodyError{status: http.StatusRequestEntityTooLarge,
				msg: msg("Request body is larger than %d bytes.", MaxBodyBytes)}
		}
		return nil, &bodyError{status: http.StatusBadRequest, msg: msg("Could not read the request body.")}
	}
	return body, nil
}

// tokenBody returns the token of a body that is exactly one JSON object
// {"name": "token"} (JSON whitespace around the parts), the token made of
// base64url characters and dots only, sent as Content-Type
// application/json: what clients send. For such a body parseBody and
// fields would give that same string (no escapes, no whitespace to trim,
// one member); any other body gives false and goes their way.
func tokenBody(r *http.Request, body []byte, name string) (string, bool) {
	if ct := r.Header["Content-Type"]; len(ct) != 1 || ct[0] != "application/json" {
		return "", false
	}
	i := skipJSONSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return "", false
	}
	i = skipJSONSpace(body, i+1)
	if len(body)-i < len(name)+2 || body[i] != '"' || string(body[i+1:i+1+len(name)]) != name || body[i+1+len(name)] != '"' {
		return "", false
	}
	i = skipJSONSpace(body, i+len(name)+2)
	if i == len(body) || body[i] != ':' {
		return "", false
	}
	i = skipJSONSpace(body, i+1)
	if i == len(body) || body[i] != '"' {
		return "", false
	}
	start := i + 1
	j := start
	for j < len(body) && tokenByte(body[j]) {
		j++
	}
	if j == start || j == len(body) || body[j] != '"' {
		return "", false
	}
	k := skipJSONSpace(body, j+1)
	if k == len(body) || body[k] != '}' || skipJSONSpace(body, k+1) != len(body) {
		return "", false
	}
	return string(body[start:j]), true
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON whitespace.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// tokenByte reports whether c may appear in a compact JWS: base64url or a
// dot.
func tokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

// parseBody parses a body as readBody says.
func parseBody(r *http.Request, body []byte) (map[string]any, error) {
	if len(body) == 0 {
		return map[string]any{}, nil
	}
	ct := r.Header.Get("Content-Type")
	mt, params, _ := mime.ParseMediaType(ct)
	switch mt {
	case "application/json":
		return parseJSON(body)
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &bodyError{status: http.StatusBadRequest, msg: msg("Form parse error - %s", err.Error())}
		}
		return formValues(vals), nil
	case "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Header.Set("Content-Type", mime.FormatMediaType(mt, params))
		if err := r.ParseMultipartForm(MaxBodyBytes); err != nil {
			return nil, &bodyError{status: http.StatusBadRequest, msg: msg("Multipart form parse error - %s", err.Error())}
		}
		return formValues(r.MultipartForm.Value), nil
	}
	if ct == "" {
		ct = "none"
	}
	return nil, &bodyError{status: http.StatusUnsupportedMediaType,
		msg: msg("Unsupported media type \"%s\" in request.", ct)}
}

func formValues(vals map[string][]string) map[string]any {
	m := make(map[string]any, len(vals))
	for k, v := range vals {
		if len(v) > 0 {
			m[k] = v[len(v)-1] // Django's QueryDict returns the last value
		}
	}
	return m
}

// parseJSON decodes one JSON object, reporting errors with the position
// (line, column, char) the way Python's json module does.
func parseJSON(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(body, err)
	}
	// Only JSON's whitespace may follow, as with Python's json module:
	// not \v, \f or Unicode spaces, which bytes.TrimSpace would skip.
	if off := dec.InputOffset(); len(bytes.TrimLeft(body[off:], " \t\r\n")) > 0 {
		rest := body[off:]
		off += int64(len(rest) - len(bytes.TrimLeft(rest, " \t\r\n")))
		return nil, &bodyError{status: http.StatusBadRequest,
			msg: msg("JSON parse error - %s: %s", msg("Extra data"), position(body, off))}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &bodyError{status: http.StatusBadRequest, nonField: true,
			msg: msg("Invalid data. Expected a dictionary, but got %s.", pyType(v))}
	}
	return m, nil
}

func jsonError(body []byte, err error) error {
	var off int64
	reason := any(err.Error())
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off = se.Offset
		if off > 0 {
			off-- // Offset counts the byte that failed
		}
		reason = invalidCharacter(strings.TrimPrefix(se.Error(), "invalid character "))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		off = int64(len(body))
		reason = msg("Expecting value")
	}
	return &bodyError{status: http.StatusBadRequest,
		msg: msg("JSON parse error - %s: %s", reason, position(body, off))}
}

// invalidCharacter is "Invalid character " + rest, rest being what follows
// "invalid character " in encoding/json's syntax error: the quoted
// character and, as a message of its own, the context ("looking for
// beginning of value", ...) when the catalog knows it.
func invalidCharacter(rest string) text {
	if len(rest) < 3 || rest[0] != '\'' {
		return msg("Invalid character %s", rest)
	}
	i := strings.Index(rest[1:], "' ")
	if i < 0 {
		return msg("Invalid character %s", rest)
	}
	char, context := rest[:i+2], rest[i+3:]
	if _, ok := catalog[context]; ok {
		return msg("Invalid character %s %s", char, msg(context))
	}
	if lit, ok := strings.CutPrefix(context, "in literal "); ok {
		if word, expecting, ok := strings.Cut(lit, " (expecting "); ok && strings.HasSuffix(expecting, ")") {
			return msg("Invalid character %s %s", char, msg("in literal %s (expecting %s)", word, strings.TrimSuffix(expecting, ")")))
		}
	}
	return msg("Invalid character %s %s", char, context)
}

// position formats a byte offset as Python does: "line L column C (char N)".
func position(body []byte, off int64) text {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	line := 1 + bytes.Count(body[:off], []byte("\n"))
	col := off + 1
	if i := bytes.LastIndexByte(body[:off], '\n'); i >= 0 {
		col = off - int64(i)
	}
	return msg("line %d column %d (char %d)", line, col, off)
}

// pyType names a decoded JSON value by its Python type, as DRF reports it.
func pyType(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case json.Number:
		if strings.ContainsAny(v.(json.Number).String(), ".eE") {
			return "float"
		}
		return "int"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	}
	return "dict"
}

// Field error messages of DRF's CharField.
const (
	msgRequired  = "This field is required."
	msgBlank     = "This field may not be blank."
	msgNull      = "This field may not be null."
	msgNotString = "Not a valid string."
)

// stringField reads a DRF CharField: numbers are coerced to strings;
// lists, objects and booleans are not strings. It returns the value, or
// the field's error message.
func stringField(data map[string]any, name string, trim bool) (string, string) {
	v, ok := data[name]
	if !ok {
		return "", msgRequired
	}
	var s string
	switch x := v.(type) {
	case nil:
		return "", msgNull
	case string:
		s = x
	case json.Number:
		s = x.String()
	default:
		return "", msgNotString
	}
	if trim {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		return "", msgBlank
	}
	return s, ""
}

// fields validates several CharFields at once and returns their values, or
// the {"field": ["message"]} body DRF answers with 400.
func fields(data map[string]any, names ...string) ([]string, object) {
	vals := make([]string, len(names))
	var errs object
	for i, n := range names {
		v, msg := stringField(data, n, n != "password" && !strings.HasSuffix(n, "_password"))
		if msg != "" {
			errs = append(errs, kv{n, []string{msg}})
		}
		vals[i] = v
	}
	return vals, errs
}
