package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// benchAPI is the handler with the seed's user logged in, the user cache
// on (the server's default) and 1e5 other sessions revoked.
func benchAPI(b *testing.B) (http.Handler, string) {
	b.Helper()
	st := memory.New()
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = testKey
	svc, err := jwtrevoke.New(b.Context(), st, s, jwtrevoke.Options{Hasher: cheapHasher, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateUser(b.Context(), userEmail, userPass, false); err != nil {
		b.Fatal(err)
	}
	pair, err := svc.Obtain(b.Context(), userEmail, userPass, jwtrevoke.ClientInfo{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	revs := make([]jwtrevoke.Revocation, 0, 100_000)
	for i := range 100_000 {
		revs = append(revs, jwtrevoke.Revocation{SessionID: newHexJTI(), UserID: int64(i + 10), ExpiresAt: now.Add(time.Hour), Reason: "bench", CreatedAt: now})
	}
	for _, r := range revs {
		if _, err := st.RevokeSession(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := svc.Sync(b.Context()); err != nil {
		b.Fatal(err)
	}
	return httpapi.New(svc, httpapi.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), pair.Access
}

// BenchmarkMe is GET /api/me/ through the whole handler (routing, security
// headers, Bearer parsing, token decode, revocation check, user from the
// cache, JSON answer), without the network; BenchmarkBareMe is the same
// answer from a bare handler, for the ratio and the allocations the API
// adds.
func BenchmarkMe(b *testing.B) {
	h, access := benchAPI(b)
	req := httptest.NewRequest(http.MethodGet, "/api/me/", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkBareMe(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":1,"email":"test@email.com"}`))
	})
	req := httptest.NewRequest(http.MethodGet, "/api/me/", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}
