package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
)

// Demo credentials: the seed tutorial's user.
const (
	demoEmail    = "test@email.com"
	demoPassword = "test123456"
)

func (m *Main) serveCommand() *cobra.Command {
	var (
		addr      string
		demo      bool
		noMigrate bool
		pprofAddr string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API",
		Long: `Serve the SimpleJWT-compatible API on --addr (default 127.0.0.1:8000).
The database is migrated on start unless --no-migrate. SIGINT or SIGTERM stop
the server gracefully: it stops accepting, finishes the requests in flight,
then closes the store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.config(cmd)
			if err != nil {
				return err
			}
			log := m.logger()
			ctx := cmd.Context()
			svc, st, err := m.openService(ctx, c, !noMigrate, log)
			if err != nil {
				return err
			}
			defer st.Close()
			if demo {
				if err := ensureDemoUser(ctx, svc); err != nil {
					return err
				}
				log.Info("demo user ready", "email", demoEmail, "password", demoPassword)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			srv := &http.Server{
				Handler:           httpapi.New(svc, httpapi.Options{Logger: log}),
				ReadHeaderTimeout: c.HTTP.ReadHeaderTimeout,
				ReadTimeout:       c.HTTP.ReadTimeout,
				WriteTimeout:      c.HTTP.WriteTimeout,
				IdleTimeout:       c.HTTP.IdleTimeout,
				MaxHeaderBytes:    c.HTTP.MaxHeaderBytes,
			}
			mctx, stopMaintain := context.WithCancel(ctx)
			defer stopMaintain()
			go svc.Maintain(mctx)
			if pprofAddr != "" {
				stop, err := servePprof(pprofAddr, log)
				if err != nil {
					return err
				}
				defer stop()
			}
			log.Info("jwtrevoke listening", "url", "http://"+ln.Addr().String(), "database", redactURL(c.Database), "token_store", redactURL(c.TokenStore),
				"revocations_loaded", svc.RevocationCount())
			if m.Ready != nil {
				m.Ready(ln.Addr().String())
			}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8000", "address to listen on")
	f.BoolVar(&demo, "demo", false, "create the demo user "+demoEmail+" / "+demoPassword+" if missing")
	f.BoolVar(&noMigrate, "no-migrate", false, "do not migrate the database on start")
	f.StringVar(&pprofAddr, "pprof", "", "also serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060 (keep it private)")
	return cmd
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
