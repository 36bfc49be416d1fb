package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/metrics"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// meRequest is GET /api/me/ with a valid access token for the API of a
// fresh service.
func meRequest(b *testing.B) (*httpapi.Handler, *http.Request) {
	b.Helper()
	svc := newService(b, memory.New(), nil)
	pair, err := svc.Obtain(context.Background(), userEmail, userPass, jwtrevoke.ClientInfo{})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/me/", nil)
	req.Header.Set("Authorization", "Bearer "+pair.Access)
	return httpapi.New(svc, httpapi.Options{Logger: quiet}), req
}

// serveMe answers req with h again and again, into one writer that keeps
// only the status, so that the numbers are the handler's own.
func serveMe(b *testing.B, h http.Handler, req *http.Request) {
	w := &statusOnly{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		w.code = 0
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}

type statusOnly struct {
	header http.Header
	code   int
}

func (w *statusOnly) Header() http.Header { return w.header }
func (w *statusOnly) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *statusOnly) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}

// BenchmarkMeWithoutMetrics and BenchmarkMeWithMetrics are GET /api/me/
// through the whole API handler, without and with Instrument: their
// difference is what the metrics cost per request.
func BenchmarkMeWithoutMetrics(b *testing.B) {
	api, req := meRequest(b)
	serveMe(b, api, req)
}

func BenchmarkMeWithMetrics(b *testing.B) {
	api, req := meRequest(b)
	serveMe(b, metrics.New(metrics.Options{}).Instrument(api), req)
}

// BenchmarkInstrumentBare is the wrapper around a handler that does
// nothing: its cost alone.
func BenchmarkInstrumentBare(b *testing.B) {
	m := metrics.New(metrics.Options{})
	h := m.Instrument(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	req := httptest.NewRequest(http.MethodGet, "/api/me/", nil)
	w := discardWriter{http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
