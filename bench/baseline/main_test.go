package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// TestSameHeaders checks that -headers sends what jwtrevoke's API sends
// on GET /api/me/, header for header, so that the bench's comparison
// with it isolates the token check.
func TestSameHeaders(t *testing.T) {
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = "bench-baseline-test-key-0123456789abcdef"
	svc, err := jwtrevoke.New(t.Context(), memory.New(), s, jwtrevoke.Options{Hasher: &password.Hasher{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(t.Context(), "test@email.com", "test123456", false); err != nil {
		t.Fatal(err)
	}
	pair, err := svc.Obtain(t.Context(), "test@email.com", "test123456", jwtrevoke.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(h http.Handler) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/api/me/", nil)
		req.Header.Set("Authorization", "Bearer "+pair.Access)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return rec
	}
	api := get(httpapi.New(svc, httpapi.Options{})).Result()
	bare := get(handler(true)).Result()
	if len(api.Header) != len(bare.Header) {
		t.Errorf("jwtrevoke sends %d headers, the baseline %d:\n%v\n%v", len(api.Header), len(bare.Header), api.Header, bare.Header)
	}
	for k, v := range api.Header {
		if got := bare.Header.Values(k); len(got) != len(v) || len(v) > 0 && got[0] != v[0] {
			t.Errorf("%s: jwtrevoke %q, baseline %q", k, v, got)
		}
	}
	if n := len(get(handler(false)).Result().Header); n != 1 {
		t.Errorf("the bare baseline sends %d headers, want Content-Type only", n)
	}
}
