package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jwtrevoke/jwtrevoke"
)

// reasons are the revocation reasons the service records; any other
// (a library caller's own) counts as "other", so the label stays bounded.
var reasons = []string{"logout", "logout_all", "blacklist", "session_ended", "password_change", "rotation_reuse", "deactivated", "admin"}

type observer struct {
	m        *Metrics
	recorded map[string]prometheus.Counter // by reason, "other" included
	lag      prometheus.Observer
}

func newObserver(m *Metrics) *observer {
	rec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_revocations_recorded_total",
		Help: "Revocations this instance recorded in the store, by reason."}, []string{"reason"})
	lag := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "jwtrevoke_revocation_propagation_seconds",
		Help:    "Time from a revocation's recording (by another instance or an operator) until it took effect here.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}})
	m.reg.MustRegister(rec, lag)
	o := &observer{m: m, recorded: map[string]prometheus.Counter{}, lag: lag}
	for _, r := range append(reasons, "other") {
		o.recorded[r] = rec.WithLabelValues(r)
	}
	return o
}

// Observer returns the jwtrevoke.Observer (Options.Observer) that counts
// the revocations recorded here by reason and measures propagation lag:
// how long revocations recorded elsewhere took to take effect here. The
// revocations the service loads before SetService (its initial load, of
// revocations recorded any time before the start) are not counted as
// propagated.
func (m *Metrics) Observer() jwtrevoke.Observer { return m.obs }

// Revoked implements jwtrevoke.Observer.
func (o *observer) Revoked(r jwtrevoke.Revocation) {
	c, ok := o.recorded[r.Reason]
	if !ok {
		c = o.recorded["other"]
	}
	c.Inc()
}

// Propagated implements jwtrevoke.Observer.
func (o *observer) Propagated(_ jwtrevoke.Revocation, lag time.Duration) {
	if o.m.svc.Load() == nil {
		return // the initial load
	}
	o.lag.Observe(max(lag, 0).Seconds()) // clocks of instances may differ a little
}
