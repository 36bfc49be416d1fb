package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/admin"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/internal/gctune"
	"github.com/jwtrevoke/jwtrevoke/internal/reqlog"
	"github.com/jwtrevoke/jwtrevoke/metrics"
)

// Demo credentials: the seed tutorial's user.
const (
	demoEmail    = "test@email.com"
	demoPassword = "test123456"
)

// serveFlags are serve's own flags (the settings are in Config).
type serveFlags struct {
	addr      string
	demo      bool
	noMigrate bool
	pprofAddr string
}

func (m *Main) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API",
		Long: `Serve the SimpleJWT-compatible API on --addr (default 127.0.0.1:8000).
The database is migrated on start unless --no-migrate.

Besides the API it serves GET /healthz (200 while the process serves), GET
/readyz (200 once revocations are loaded and while they are current, 503
otherwise) and, unless METRICS=false, Prometheus metrics at GET /metrics, on
the API's address or on --metrics-addr. Neither is behind authentication:
keep /metrics away from the public (a private --metrics-addr, or a proxy that
refuses it).

SIGINT or SIGTERM stop the server gracefully: /readyz answers 503, it stops
accepting, finishes the requests in flight (for SHUTDOWN_TIMEOUT at most),
stops its background work, then closes the store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.config(cmd)
			if err != nil {
				return err
			}
			return m.serve(cmd.Context(), c, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8000", "address to listen on")
	fl.BoolVar(&f.demo, "demo", false, "create the demo user "+demoEmail+" / "+demoPassword+" if missing")
	fl.BoolVar(&f.noMigrate, "no-migrate", false, "do not migrate the database on start")
	fl.StringVar(&f.pprofAddr, "pprof", "", "also serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060 (keep it private)")
	return cmd
}

// serve listens at once, so that /healthz answers while the store is
// opened and revocations are loaded (the API answers 503 meanwhile and
// /readyz says why), then serves the API until ctx is done.
func (m *Main) serve(ctx context.Context, c *Config, f serveFlags) error {
	log := m.logger(c)
	gctx, stopTuner := context.WithCancel(context.Background())
	defer stopTuner()
	gctune.Start(gctx, gctune.Options{Headroom: uint64(c.Ops.GCHeadroomMB) << 20})
	var met *metrics.Metrics
	if c.Ops.Metrics {
		met = metrics.New(metrics.Options{})
	}
	hl := &health{now: time.Now}
	fr := &front{health: hl}
	if met != nil && c.Ops.MetricsAddr == "" {
		fr.metrics = met.Handler()
	}
	var h http.Handler = fr
	if met != nil {
		h = met.Instrument(h)
	}
	h = reqlog.Middleware(h, reqlog.Options{Logger: log, AccessLog: c.Ops.AccessLog})
	var flight inFlight
	h = flight.track(h)
	// Requests get a context of their own, cancelled when the shutdown
	// gives up waiting for them.
	reqCtx, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.HTTP.ReadHeaderTimeout,
		ReadTimeout:       c.HTTP.ReadTimeout,
		WriteTimeout:      c.HTTP.WriteTimeout,
		IdleTimeout:       c.HTTP.IdleTimeout,
		MaxHeaderBytes:    c.HTTP.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	servers := []*http.Server{srv}
	// stopServers closes every server at once, for the error paths.
	stopServers := func() {
		for _, s := range servers {
			_ = s.Close()
		}
	}
	if c.Ops.MetricsAddr != "" {
		msrv, err := serveMetrics(c.Ops.MetricsAddr, met, hl, log, errc)
		if err != nil {
			stopServers()
			return err
		}
		servers = append(servers, msrv)
	}
	if f.pprofAddr != "" {
		stop, err := servePprof(f.pprofAddr, log)
		if err != nil {
			stopServers()
			return err
		}
		defer stop()
	}

	svc, st, err := m.openService(ctx, c, !f.noMigrate, log, met)
	if err != nil {
		stopServers()
		if ctx.Err() != nil {
			log.Info("stopped while starting", "err", err)
			return nil // told to stop: not a failure
		}
		return err
	}
	closeStore := func() error {
		if st == nil {
			return nil
		}
		err := st.Close()
		st = nil
		log.Info("store closed")
		return err
	}
	defer closeStore()
	if f.demo {
		if err := ensureDemoUser(ctx, svc); err != nil {
			stopServers()
			return err
		}
		log.Info("demo user ready (its password is in the README and in serve --help)", "email", demoEmail)
	}
	if c.Ops.Admin {
		adm := admin.New(svc, admin.Options{Logger: log, SecureCookies: c.Ops.AdminSecure,
			SessionIdle: c.Ops.AdminIdle, SessionMaxAge: c.Ops.AdminMaxAge})
		fr.admin.Store(&adm)
	}
	fr.api.Store(httpapi.New(svc, httpapi.Options{Logger: log}))
	hl.svc.Store(svc)
	if met != nil {
		met.SetService(svc)
	}
	// Background work runs on contexts of its own, so that the shutdown
	// stops it after the requests in flight are done, not before.
	mctx, stopMaintain := context.WithCancel(context.Background())
	defer stopMaintain()
	maintained := make(chan struct{})
	go func() { defer close(maintained); svc.Maintain(mctx) }()
	fctx, stopFlush := context.WithCancel(context.Background())
	defer stopFlush()
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		if c.Ops.FlushEvery > 0 {
			flushEvery(fctx, svc, c.Ops.FlushEvery, log, met)
		}
	}()

	log.Info("jwtrevoke listening", "url", "http://"+ln.Addr().String(), "database", redactURL(c.Database), "token_store", redactURL(c.TokenStore),
		"revocations_loaded", svc.RevocationCount())
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}

	hl.draining.Store(true)
	log.Info("shutting down", "timeout", c.Ops.ShutdownTimeout)
	errs := []error{serveErr}
	sctx, cancel := context.WithTimeout(context.Background(), c.Ops.ShutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			log.Warn("requests still in flight at SHUTDOWN_TIMEOUT: closing their connections", "in_flight", flight.n.Load())
			cancelRequests()
			stopServers()
			flight.wait(5 * time.Second)
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
			break
		}
	}
	stopFlush()
	<-flushed
	stopMaintain()
	<-maintained
	errs = append(errs, closeStore())
	return errors.Join(errs...)
}

// front routes serve's own paths and hands the rest to the API, once it
// is ready; until then the API's paths answer 503.
type front struct {
	health  *health
	metrics http.Handler // nil when /metrics is not served here
	api     atomic.Pointer[httpapi.Handler]
	admin   atomic.Pointer[http.Handler] // nil when ADMIN=false
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		f.health.live(w, r)
		return
	case "/readyz":
		f.health.ready(w, r)
		return
	case "/metrics":
		if f.metrics != nil {
			f.metrics.ServeHTTP(w, r)
			return
		}
	}
	if p := r.URL.Path; p == "/admin" || strings.HasPrefix(p, "/admin/") {
		if adm := f.admin.Load(); adm != nil {
			(*adm).ServeHTTP(w, r)
			return
		}
	}
	if api := f.api.Load(); api != nil {
		api.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"detail":"Service temporarily unavailable, try again later.","code":"service_unavailable"}`))
}

// serveMetrics serves /metrics, /healthz and /readyz on addr (METRICS_ADDR).
func serveMetrics(addr string, met *metrics.Metrics, hl *health, log *slog.Logger, errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", met.Handler())
	mux.HandleFunc("/healthz", hl.live)
	mux.HandleFunc("/readyz", hl.ready)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("metrics server: %w", err)
		}
	}()
	// Not "url": tools that wait for the server read the first url= line.
	log.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics")
	return srv, nil
}

// inFlight counts the requests being answered.
type inFlight struct{ n atomic.Int64 }

func (f *inFlight) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.n.Add(1)
		defer f.n.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// wait waits until no request is being answered, for at most d.
func (f *inFlight) wait(d time.Duration) {
	deadline := time.Now().Add(d)
	for f.n.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

func ensureDemoUser(ctx context.Context, svc *jwtrevoke.Service) error {
	_, err := svc.CreateUser(ctx, demoEmail, demoPassword, false)
	if err != nil && !errors.Is(err, jwtrevoke.ErrExists) {
		return fmt.Errorf("demo user: %w", err)
	}
	return nil
}

// servePprof serves net/http/pprof's handlers on addr, on a mux of its own
// (never on the API's), until stop is called.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("profiler listening", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { _ = srv.Close() }, nil
}
