package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/metrics"
)

func (m *Main) flushCommand() *cobra.Command {
	var (
		batch  int
		nice   int
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "flushexpiredtokens [--batch-size N] [--nice 10] [--dry-run]",
		Short: "Delete expired outstanding and blacklisted tokens, sessions and revocations",
		Long: `Delete every outstanding token whose expiry has passed (with its blacklisted
row), and expired sessions, revocations, rotations, audit entries and login
attempt counters, in batches so that logins and logouts are never blocked for
long. Run it daily, e.g. from cron, or let serve do it (FLUSH_EXPIRED_EVERY).

On a terminal a progress bar is drawn on standard error; otherwise a line of
counts is written there at most once a second. --dry-run prints what would be
deleted now and deletes nothing.

On Linux the command runs at nice value 10 (--nice), below a server on the
same machine: on SQLite the flush is this process's own work, and when it
ran at the server's priority a login's password hash beside it took up to
ten times as long as usual.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if batch < 0 {
				return usageError{errors.New("flushexpiredtokens: --batch-size must be at least 1 (or 0, the store's default)")}
			}
			if nice < 0 || nice > 19 {
				return usageError{errors.New("flushexpiredtokens: --nice must be 0 to 19")}
			}
			if nice > 0 && m.lowerPriority != nil {
				if err := m.lowerPriority(nice); err != nil {
					fmt.Fprintf(m.Stderr, "flushexpiredtokens: %v (flushing at the priority it has)\n", err)
				}
			}
			svc, done, err := m.quietService(cmd)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			stats, err := svc.Stats(ctx)
			if err != nil {
				return fmt.Errorf("flushexpiredtokens: %w", err)
			}
			if dryRun {
				fmt.Fprintf(m.Stdout, "would delete %s (dry run: nothing was deleted)\n", describeFlush(stats.Expired))
				return nil
			}
			p := m.flushProgress(flushTotal(stats.Expired))
			res, err := svc.FlushExpired(ctx, jwtrevoke.FlushOptions{Batch: batch, Progress: p.report})
			p.finish(res)
			if err != nil {
				return fmt.Errorf("flushexpiredtokens: %w (deleted so far: %s)", err, describeFlush(res))
			}
			fmt.Fprintf(m.Stdout, "deleted %s\n", describeFlush(res))
			return nil
		},
	}
	cmd.Flags().IntVar(&batch, "batch-size", 0, fmt.Sprintf("the most rows deleted per transaction; 0: %d, or on SQLite as many as hold the write lock about 20 ms (at most 10000)", jwtrevoke.DefaultFlushBatch))
	cmd.Flags().IntVar(&nice, "nice", 10, "the nice value to run at, 0 to 19 (Linux; 0: the priority it was started with)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be deleted, and delete nothing")
	return cmd
}

// describeFlush says what a flush deleted (or would delete).
func describeFlush(r jwtrevoke.FlushResult) string {
	return fmt.Sprintf("%d expired outstanding tokens (%d of them blacklisted), %d sessions, %d revocations, %d rotations, %d audit entries, %d attempt counters",
		r.Outstanding, r.Blacklisted, r.Sessions, r.Revocations, r.Rotations, r.Audit, r.Attempts)
}

// flushTotal counts the rows of r. Blacklisted rows go with their
// outstanding tokens, so they are not counted again.
func flushTotal(r jwtrevoke.FlushResult) int64 {
	return r.Outstanding + r.Sessions + r.Revocations + r.Rotations + r.Audit + r.Attempts
}

// flushAttrs are a flush's counts as log attributes.
func flushAttrs(r jwtrevoke.FlushResult) []any {
	return []any{"outstanding", r.Outstanding, "blacklisted", r.Blacklisted, "sessions", r.Sessions, "revocations", r.Revocations,
		"rotations", r.Rotations, "audit", r.Audit, "attempts", r.Attempts}
}

// progress shows a flush's progress on Stderr: a bar on a terminal, lines
// of counts otherwise.
type progress struct {
	bar   *progressbar.ProgressBar // nil when not on a terminal
	w     io.Writer
	total int64
	last  time.Time // of the last line written, off a terminal
	every time.Duration
}

func (m *Main) flushProgress(total int64) *progress {
	p := &progress{w: m.Stderr, total: total, every: time.Second, last: time.Now()}
	if m.stderrTerminal() && total > 0 {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(m.Stderr),
			progressbar.OptionSetDescription("deleting expired rows"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(m.Stderr) }),
		)
	}
	return p
}

// stderrTerminal reports whether Stderr is a terminal.
func (m *Main) stderrTerminal() bool {
	if m.terminal != nil {
		return *m.terminal
	}
	f, ok := m.Stderr.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// report is FlushOptions.Progress.
func (p *progress) report(done jwtrevoke.FlushResult) {
	n := flushTotal(done)
	if p.bar != nil {
		if n > p.bar.GetMax64() {
			p.bar.ChangeMax64(n) // rows expired since the count
		}
		_ = p.bar.Set64(n)
		return
	}
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		fmt.Fprintf(p.w, "flushexpiredtokens: %d of about %d expired rows deleted\n", n, max(p.total, n))
	}
}

// finish completes the bar, or writes the last line of counts.
func (p *progress) finish(res jwtrevoke.FlushResult) {
	if p.bar != nil {
		p.report(res)
		_ = p.bar.Finish()
		return
	}
	fmt.Fprintf(p.w, "flushexpiredtokens: %d expired rows deleted\n", flushTotal(res))
}

// flushEvery flushes expired rows about every period until ctx is done.
// The first flush comes after a wait drawn from [0, period), so that the
// instances of a cluster started together spread their flushes, and so
// that instances restarted more often than period still flush once per
// period on average; each later wait is drawn from [period/2, 3*period/2).
// A flush starts only after the previous one ended: they never overlap.
func flushEvery(ctx context.Context, svc *jwtrevoke.Service, period time.Duration, log *slog.Logger, met *metrics.Metrics) {
	t := time.NewTimer(rand.N(period))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		res, err := svc.FlushExpired(ctx, jwtrevoke.FlushOptions{})
		took := time.Since(start)
		if met != nil {
			met.ObserveFlush(res, took, err)
		}
		switch {
		case err != nil && ctx.Err() != nil:
			log.Info("scheduled flush stopped by the shutdown", flushAttrs(res)...)
			return
		case err != nil:
			log.Error("scheduled flush of expired rows failed", append(flushAttrs(res), "err", err, "took", took)...)
		default:
			log.Info("scheduled flush of expired rows", append(flushAttrs(res), "took", took)...)
		}
		t.Reset(jittered(period))
	}
}

// jittered is a duration drawn uniformly from [d/2, 3d/2).
func jittered(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}
