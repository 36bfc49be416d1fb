package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profiling starts, when -cpuprofile is set, a CPU profile of srv (a
// jwtrevoke server started with --pprof) over the next span, and returns
// the function that waits for it and writes it to
// <dir>/<store>-<scenario>.pprof. The profile samples only the server's
// own CPU time, so a span longer than the load run costs nothing but the
// wait. Without -cpuprofile, or without a profiler, it does nothing.
func (b *bench) profiling(ctx context.Context, srv *proc, store, scenario string, span time.Duration) func() {
	base := srv.profiler()
	if b.cfg.profile == "" || base == "" {
		return func() {}
	}
	secs := max(1, int(math.Ceil(span.Seconds())))
	file := filepath.Join(b.cfg.profile, store+"-"+scenario+".pprof")
	done := make(chan error, 1)
	go func() { done <- fetchProfile(ctx, fmt.Sprintf("%s/profile?seconds=%d", base, secs), file) }()
	return func() {
		if err := <-done; err != nil {
			b.logf("  cpu profile %s: %v", file, err)
			return
		}
		b.logf("  cpu profile of the server: %s (go tool pprof -top %s)", file, file)
	}
}

func fetchProfile(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s", url, resp.Status, msg)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
