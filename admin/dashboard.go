package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// dashboardData is the dashboard's.
type dashboardData struct {
	Stats      jwtrevoke.Stats
	StoreOK    bool
	StoreTook  time.Duration // how long Stats took
	Synced     bool          // revocations were ever loaded
	LastSync   time.Time
	SyncAge    time.Duration
	MaxStale   time.Duration // REVOCATION_MAX_STALENESS
	SyncStale  bool
	InMemory   int // revocations held in memory
	ExpiredSum int64
}

// dashboard shows the counts of the store and its health.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request, s *staffRequest) {
	d := dashboardData{InMemory: h.svc.RevocationCount(), MaxStale: h.svc.Settings().RevocationMaxStaleness}
	start := time.Now()
	st, err := h.svc.Stats(r.Context())
	d.StoreTook = time.Since(start)
	if err != nil {
		h.log.ErrorContext(r.Context(), "admin: stats", "err", err)
	} else {
		d.Stats, d.StoreOK = st, true
		e := st.Expired
		d.ExpiredSum = e.Outstanding + e.Sessions + e.Revocations + e.Rotations + e.Audit + e.Attempts
	}
	if last := h.svc.LastSync(); last.UnixNano() > 0 {
		d.Synced, d.LastSync = true, last
		d.SyncAge = h.svc.Now().Sub(last)
		d.SyncStale = d.SyncAge > d.MaxStale
	}
	h.page(w, r, s, http.StatusOK, "dashboard", "Dashboard", "dashboard", d)
}

// flush deletes expired tokens, sessions and revocations now.
func (h *handler) flush(w http.ResponseWriter, r *http.Request, s *staffRequest) {
	res, err := h.svc.FlushExpired(r.Context(), jwtrevoke.FlushOptions{})
	if err != nil {
		h.log.ErrorContext(r.Context(), "admin: flush expired", "err", err, "deleted", fmt.Sprintf("%+v", res))
		h.done(w, r, s, Prefix, flashError, "Flushing stopped: the store did not answer. Deleted so far: "+describeFlush(res))
		return
	}
	h.log.InfoContext(r.Context(), "admin: flushed expired rows", "staff_id", s.user.ID, "deleted", fmt.Sprintf("%+v", res))
	h.done(w, r, s, Prefix, flashOK, "Flushed expired rows. Deleted "+describeFlush(res))
}

// describeFlush says what a flush deleted.
func describeFlush(f jwtrevoke.FlushResult) string {
	parts := []string{
		count(f.Outstanding, "outstanding token", "outstanding tokens") +
			fmt.Sprintf(" (%d blacklisted)", f.Blacklisted),
		count(f.Sessions, "session", "sessions"),
		count(f.Revocations, "revocation", "revocations"),
		count(f.Rotations, "rotation", "rotations"),
		count(f.Audit, "audit entry", "audit entries"),
		count(f.Attempts, "attempt counter", "attempt counters"),
	}
	return strings.Join(parts, ", ") + "."
}

func count(n int64, one, many string) string {
	return fmt.Sprintf("%d %s", n, plural(n, one, many))
}
