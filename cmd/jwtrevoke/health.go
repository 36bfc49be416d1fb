package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// health answers /healthz and /readyz. It asks the store nothing: the
// readiness of an instance is that its revocations were loaded, recently
// enough, by the service's own loads (Maintain).
type health struct {
	svc      atomic.Pointer[jwtrevoke.Service] // set once revocations are loaded
	draining atomic.Bool                       // set at shutdown
	now      func() time.Time
}

// status is the body of both answers.
type status struct {
	Status string `json:"status"`           // ok or unavailable
	Reason string `json:"reason,omitempty"` // why it is unavailable, or a warning
	// Revocations and SyncAge describe the revocations held, once loaded.
	Revocations *int     `json:"revocations,omitempty"`
	SyncAge     *float64 `json:"sync_age_seconds,omitempty"`
}

func writeStatus(w http.ResponseWriter, r *http.Request, code int, s status) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if code == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(s)
	}
}

// getOnly answers 405 to methods other than GET and HEAD.
func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeStatus(w, r, http.StatusMethodNotAllowed, status{Status: "error", Reason: "method not allowed"})
	return false
}

// live answers 200 while the process serves HTTP.
func (h *health) live(w http.ResponseWriter, r *http.Request) {
	if getOnly(w, r) {
		writeStatus(w, r, http.StatusOK, status{Status: "ok"})
	}
}

// ready answers 200 once revocations are loaded and while the last load is
// at most REVOCATION_MAX_STALENESS old, 503 otherwise and while shutting
// down. With REVOCATION_FAIL_MODE=open an out-of-date view is reported but
// still ready, as the instance still accepts tokens: taking every instance
// out of a load balancer when the store is down would defeat fail-open.
func (h *health) ready(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	if h.draining.Load() {
		writeStatus(w, r, http.StatusServiceUnavailable, status{Status: "unavailable", Reason: "shutting down"})
		return
	}
	svc := h.svc.Load()
	if svc == nil {
		writeStatus(w, r, http.StatusServiceUnavailable, status{Status: "unavailable", Reason: "loading revocations"})
		return
	}
	n := svc.RevocationCount()
	age := h.now().Sub(svc.LastSync())
	secs := age.Seconds()
	s := status{Status: "ok", Revocations: &n, SyncAge: &secs}
	set := svc.Settings()
	if limit := set.RevocationMaxStaleness; age > limit {
		s.Reason = fmt.Sprintf("revocations were last loaded %s ago, more than REVOCATION_MAX_STALENESS (%s)", age.Round(time.Millisecond), limit)
		if set.RevocationFailMode != jwtrevoke.FailOpen {
			s.Status = "unavailable"
			writeStatus(w, r, http.StatusServiceUnavailable, s)
			return
		}
	}
	writeStatus(w, r, http.StatusOK, s)
}
