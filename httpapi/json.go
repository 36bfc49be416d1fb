package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// kv is one member of an ordered JSON object.
type kv struct {
	K string
	V any
}

// object is a JSON object that keeps its members in order, so bodies come
// out in the same order as SimpleJWT writes them.
type object []kv

// MarshalJSON implements json.Marshaler.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(m.K)
		if err != nil {
			return nil, err
		}
		v, err := marshal(m.V)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal writes compact JSON without HTML escaping, as DRF's renderer does.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// writeJSON writes v with status and the headers every DRF answer carries.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"detail":"A server error occurred."}`)
	}
	writeBody(w, status, body)
}

var (
	jsonType    = []string{"application/json"}
	varyAccept  = []string{"Accept"}
	contentType = http.CanonicalHeaderKey("Content-Type")
)

// writeBody writes an encoded JSON body with status and the headers every
// DRF answer carries (the security headers only if ServeHTTP or
// RequireUser has not set them already; HSTS, which needs the request, is
// theirs).
func writeBody(w http.ResponseWriter, status int, body []byte) {
	writeBodyVary(w, status, body, varyAccept)
}

// writeBodyVary is writeBody with this Vary header (writeMessage's answers
// also vary with Accept-Language).
func writeBodyVary(w http.ResponseWriter, status int, body []byte, vary []string) {
	h := w.Header()
	h[contentType] = jsonType
	h["Vary"] = vary
	if _, set := h["X-Content-Type-Options"]; !set {
		setSecurityHeaders(h, nil)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// appendJSONString appends s as a JSON string, without HTML escaping (as
// marshal), and reports false, appending nothing, for strings it leaves to
// encoding/json (control characters, quotes, backslashes, non-ASCII).
func appendJSONString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

// detail is the common {"detail": msg} body.
func detail(msg string) object { return object{{"detail", msg}} }
