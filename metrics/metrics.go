// Package metrics exposes a jwtrevoke server's metrics in Prometheus' text
// format, on a registry of its own (never the global one): HTTP requests
// by route and status with their durations, logins, refreshes, verifies,
// blacklistings and logouts by outcome, rate-limit refusals, the service's
// revocation set and the age of its last revocation load (computed at
// scrape time), revocations recorded and the lag of those propagated from
// other instances (Observer), store operation latencies (Store, a
// decorator), scheduled flushes, and Go's and the process's own metrics.
//
// Route labels are bounded: a request counts under the API route its path
// names, or "other".
package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jwtrevoke/jwtrevoke"
)

// Metrics holds a server's metrics. Build it with New.
type Metrics struct {
	reg   *prometheus.Registry
	http  *httpMetrics
	store *storeMetrics
	flush *flushMetrics
	obs   *observer
	svc   atomic.Pointer[jwtrevoke.Service]
	now   func() time.Time
}

// Options are the optional parts of Metrics.
type Options struct {
	// Now defaults to time.Now; the age of the last revocation load is
	// computed with it.
	Now func() time.Time
	// NoRuntime leaves out Go's and the process's collectors (tests).
	NoRuntime bool
}

// New returns the metrics on a new registry.
func New(opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), now: opts.Now}
	if m.now == nil {
		m.now = time.Now
	}
	if !opts.NoRuntime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m.http = newHTTPMetrics(m.reg)
	m.store = newStoreMetrics(m.reg)
	m.flush = newFlushMetrics(m.reg)
	m.obs = newObserver(m)
	m.reg.MustRegister(serviceCollector{m})
	return m
}

// Registry is the registry the metrics are on, to add more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' text format (or OpenMetrics,
// when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// SetService makes the service's gauges (revocation set size, age of the
// last revocation load) report svc. Until it is called they are absent:
// a server that is still loading revocations exports no age for them.
func (m *Metrics) SetService(svc *jwtrevoke.Service) { m.svc.Store(svc) }

var (
	revocationsDesc = prometheus.NewDesc("jwtrevoke_revocations",
		"Revocations held in memory (sessions, tokens and user cut-offs not yet expired).", nil, nil)
	syncAgeDesc = prometheus.NewDesc("jwtrevoke_revocation_sync_age_seconds",
		"Seconds since revocations were last loaded from the store successfully.", nil, nil)
)

// serviceCollector reads the service's gauges at scrape time.
type serviceCollector struct{ m *Metrics }

func (c serviceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- revocationsDesc
	ch <- syncAgeDesc
}

func (c serviceCollector) Collect(ch chan<- prometheus.Metric) {
	svc := c.m.svc.Load()
	if svc == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(revocationsDesc, prometheus.GaugeValue, float64(svc.RevocationCount()))
	age := c.m.now().Sub(svc.LastSync()).Seconds()
	ch <- prometheus.MustNewConstMetric(syncAgeDesc, prometheus.GaugeValue, max(age, 0))
}

// flushMetrics count the scheduled flushes (FLUSH_EXPIRED_EVERY).
type flushMetrics struct {
	runs    *prometheus.CounterVec
	deleted *prometheus.CounterVec
	seconds prometheus.Histogram
}

func newFlushMetrics(reg prometheus.Registerer) *flushMetrics {
	f := &flushMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_flush_runs_total",
			Help: "Scheduled flushes of expired rows, by result (ok or error)."}, []string{"result"}),
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jwtrevoke_flush_deleted_total",
			Help: "Expired rows deleted by scheduled flushes, by kind."}, []string{"kind"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "jwtrevoke_flush_duration_seconds",
			Help: "Duration of scheduled flushes.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 8)}),
	}
	reg.MustRegister(f.runs, f.deleted, f.seconds)
	f.runs.WithLabelValues("ok")
	f.runs.WithLabelValues("error")
	return f
}

// ObserveFlush records one scheduled flush: what it deleted (also when it
// failed part way), how long it took, and whether it failed.
func (m *Metrics) ObserveFlush(res jwtrevoke.FlushResult, took time.Duration, err error) {
	f := m.flush
	result := "ok"
	if err != nil {
		result = "error"
	}
	f.runs.WithLabelValues(result).Inc()
	f.seconds.Observe(took.Seconds())
	for kind, n := range map[string]int64{"outstanding": res.Outstanding, "blacklisted": res.Blacklisted, "sessions": res.Sessions,
		"revocations": res.Revocations, "rotations": res.Rotations, "audit": res.Audit, "attempts": res.Attempts} {
		f.deleted.WithLabelValues(kind).Add(float64(n))
	}
}
