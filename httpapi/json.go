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
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Vary", "Accept")
	setSecurityHeaders(h, nil) // HSTS, which needs the request, is set by ServeHTTP and RequireUser
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// detail is the common {"detail": msg} body.
func detail(msg string) object { return object{{"detail", msg}} }
