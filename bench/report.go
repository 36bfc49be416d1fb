package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// fmtDur prints a latency with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// fmtRate prints a rate with thousands separators.
func fmtRate(v float64) string {
	if v <= 0 {
		return "-"
	}
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtRatio(v float64) string {
	if v <= 0 {
		return "-"
	}
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f×", v)
	case v >= 0.1:
		return fmt.Sprintf("%.2f×", v)
	default:
		return fmt.Sprintf("%.2g×", v)
	}
}

func (r row) rps() string {
	if r.Latency {
		return "-"
	}
	return fmtRate(r.RPS)
}

func (r row) summary() string {
	s := fmt.Sprintf("%s %s/%s: %s req/s, p50 %s, p99 %s, %d requests, %d errors (%s)",
		r.Target, r.Store, r.Scenario, r.rps(), fmtDur(r.P50), fmtDur(r.P99), r.Requests, r.Errors, r.Tool)
	if r.Notes != "" {
		s += "; " + r.Notes
	}
	return s
}

type report struct {
	rows              []row
	seedRef           map[string]row // the seed row each scenario's vs seed divides by
	failures          []string
	cfg               config
	started, finished time.Time
	gen, wrk, python  string
	load              string
	servers           string // the database servers and their versions
}

// loadAvg is /proc/loadavg's 1, 5 and 15 minute averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

var header = []string{"target", "store", "scenario", "req/s", "p50", "p99", "vs bare", "vs seed", "RSS / peak", "requests", "errors", "tool"}

func (r row) cells() []string {
	reqs, tool := strconv.Itoa(r.Requests), r.Tool
	if r.Latency && r.Requests == 0 && r.Tool == "" {
		reqs, tool = "-", "-" // memory idle: no requests
	}
	return []string{r.Target, r.Store, r.Scenario, r.rps(), fmtDur(r.P50), fmtDur(r.P99),
		fmtRatio(r.VsBaseline), fmtRatio(r.VsSeed), r.Mem.cell(), reqs, strconv.Itoa(r.Errors), tool}
}

// seedRefNote says which seed configuration each scenario's vs seed
// divides by, "" when none.
func (rep report) seedRefNote() string {
	var parts []string
	for _, sc := range allScenarios {
		if r, ok := rep.seedRef[sc]; ok {
			parts = append(parts, fmt.Sprintf("%s: seed on %s (%s req/s)", sc, r.Store, fmtRate(r.RPS)))
		}
	}
	return strings.Join(parts, "; ")
}

func (rep report) table() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range rep.rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t")+"\t")
	}
	tw.Flush()
	if n := rep.seedRefNote(); n != "" {
		fmt.Fprintf(&b, "  vs seed divides by the fastest seed configuration measured: %s\n", n)
	}
	for _, r := range rep.rows {
		if r.Notes != "" {
			fmt.Fprintf(&b, "  %s %s/%s: %s\n", r.Target, r.Store, r.Scenario, r.Notes)
		}
	}
	for _, f := range rep.failures {
		fmt.Fprintf(&b, "FAILED: %s\n", f)
	}
	return b.String()
}

// command is the command line that produced the results.
func (rep report) command() string {
	args := make([]string, 0, len(os.Args))
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " '\"$\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		args = append(args, a)
	}
	prog := "go run ./bench"
	if os.Getenv("JWTREVOKE_BENCH_VIA_RUNSH") == "1" {
		prog = "bash bench/run.sh"
	}
	return strings.TrimSpace(prog + " " + strings.Join(args, " "))
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func cmdOut(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	return firstLine(string(out))
}

func (rep report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# jwtrevoke benchmark results\n\n")
	w("Written by `%s` — do not edit by hand; rerun it.\n\n", rep.command())
	w("## Machine\n\n")
	w("| | |\n|---|---|\n")
	w("| date | %s (took %v) |\n", rep.started.UTC().Format("2006-01-02 15:04 MST"), rep.finished.Sub(rep.started).Round(time.Second))
	w("| `nproc` | %s |\n", cmdOut("nproc"))
	w("| CPU | %s |\n", cpuModel())
	w("| load average | %s (other work on the machine shares the CPUs) |\n", rep.load)
	w("| Go | %s %s/%s (`%s`) |\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, cmdOut("go", "version"))
	w("| load generator | %s", rep.gen)
	if rep.wrk != "" {
		w(" (`%s`)", cmdOut(rep.wrk, "-v"))
	}
	w("; %d connections, %v per run |\n", rep.cfg.conns, rep.cfg.duration)
	if rep.servers != "" {
		w("| database servers | %s |\n", rep.servers)
	}
	if rep.cfg.seed {
		w("| seed | %s; on %s |\n", cmdOut(rep.python, "-c", "import django, gunicorn, rest_framework, rest_framework_simplejwt as s; print('Django', django.__version__, '/ DRF', rest_framework.__version__, '/ SimpleJWT', getattr(s, '__version__', '?'), '/ gunicorn', gunicorn.__version__, '(2 sync workers)')"),
			strings.Join(rep.cfg.seedDBs, ", "))
	}
	w("\nEverything runs on the same machine over loopback: the load generator, the\n")
	w("servers and the databases share the CPUs, so the numbers are comparable with\n")
	w("each other, not with other machines.\n\n")
	w("## Results\n\n")
	w("| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range rep.rows {
		w("| %s |\n", strings.Join(r.cells(), " | "))
	}
	if n := rep.seedRefNote(); n != "" {
		w("\n*vs seed* divides by the fastest seed configuration measured on the same scenario: %s.\n", n)
	}
	notes := false
	for _, r := range rep.rows {
		if r.Notes != "" {
			if !notes {
				w("\nNotes:\n\n")
				notes = true
			}
			w("- %s %s/%s: %s\n", r.Target, r.Store, r.Scenario, r.Notes)
		}
	}
	if len(rep.failures) > 0 {
		w("\nFailed or skipped:\n\n")
		for _, f := range rep.failures {
			w("- %s\n", f)
		}
	}
	w("\n## Scenarios\n\n")
	w("- **me**: `GET /api/me/` with a valid access token: the token is verified, the revocation check runs (a lookup in memory), the user is resolved. The bare baseline is a plain `net/http` server (`bench/baseline`) answering the same JSON on that route and nothing else, sent the same request bytes (its token ignored); *vs bare* is jwtrevoke's req/s divided by the bare server's, measured in five turns alternating between the servers (bare first, a fifth of the duration each), the median of the five ratios: the machine's load moves from second to second, so runs made minutes apart would compare the load, not the servers. A third server takes its turn too: the baseline with `-headers`, which sends the headers jwtrevoke sends on that answer (`Allow` and `Vary` as SimpleJWT's views, `Cache-Control: no-store`, CSP, `X-Frame-Options`, `X-Content-Type-Options`, `Referrer-Policy`); the notes give the ratio to it, which is the cost of the token check, the revocation check and the routing without the cost of writing (and of the load generator reading) seven more headers. The baseline row is a run of its own at the start.\n")
	w("- **refresh**: `POST /api/token/refresh/` with one refresh token, without rotation.\n")
	w("- **login**: `POST /api/token/` with the demo user's valid email and password (a session and an outstanding token written per login): the cost is the password hash, argon2id with the server's default parameters (`ARGON2_*` unset; the notes give the parameters read from the stored hash). The seed's user is hashed by Django's default hasher, PBKDF2-SHA256. wrk waits up to 30 s per answer.\n")
	w("- **rotate**: `ROTATE_REFRESH_TOKENS=true`; each of the N clients keeps its own chain (refresh → new refresh), Go generator.\n")
	w("- **logout**: `-sessions` sessions of the demo user opened before the timed phase with `jwtrevoke issuetoken` (recorded as a login records them, without an argon2id hash each; not timed), then `POST /api/logout/` of each, Go generator; p50/p99 are the logouts'. The run ends when the sessions are used up or the duration has passed.\n")
	w("- **propagation**: two instances on one store; sessions opened beforehand with `jwtrevoke issuetoken` (not timed); log out on A, poll B (`GET /api/me/`) every 200 µs until it answers 401; the latency is from A's 205 to B's 401. A false accept is a 200 from B more than 1 s after the logout.\n")
	w("- **flush**: `-flush-rows` expired outstanding tokens (a tenth blacklisted) and a tenth as many expired sessions inserted in bulk, then `jwtrevoke flushexpiredtokens` (its defaults: SQLite's transactions sized by time, nice 10) timed while one client logs in and out; *max login/logout stall* is how much longer than its median before the flush the slowest login and logout during the flush took (a login is an argon2id hash first, which the flush does not cause); the notes also give the slowest calls themselves, and, as a control, the slowest calls of as long again right after the flush, without one (the slowest of hundreds of logins on a shared 2-core machine is slow with or without a flush).\n")
	w("- **memory idle**: the server's memory on a fresh store holding the demo user only, 2 s after it is ready (a second start: the first one migrated and created the user; nothing requested yet): *RSS / peak* is `VmRSS` / `VmHWM` of `/proc/PID/status` (MB = 2^20 bytes); the notes split it into anonymous memory (heap, stacks) and file pages (the executable), and give the Go heap after a GC, from `serve --pprof`. The issue's target is 50 MB.\n")
	w("- **memory 1e6** (`-revocations`): that many live revocations (nine in ten of sessions, one in ten of tokens, expiring in a day) inserted in bulk into the stopped server's store (`jwtrevoke_revocation`, or the members of Redis's revocation log `revlog`), then the server started again: it serves once it has loaded them (its `revocations_loaded=` log line is checked). req/s, p50 and p99 are those of `GET /api/me/` with them loaded, from 0.5 s after ready and a first 200 on (a long load leaves the server's view of the revocations stale at first: fail-closed, it answers 503 until its next poll; the notes say when it did); *RSS / peak* is read after that run (the peak includes the load); the notes give the RSS when it became ready. The issue's target is 200 MB.\n")
	w("- **seed** (`-seed`, `-seed-db`): Django + SimpleJWT under gunicorn with 2 sync workers, the interop project `interop/django` with `bench/seed/bench_seed_settings.py`, on each `-seed-db` configuration: `sqlite` (Django's default database, a file), `postgres` (the interop settings: Django's default `CONN_MAX_AGE=0`, a new PostgreSQL connection per request), `postgres-persist` (`CONN_MAX_AGE=600`). gunicorn's sync workers close the HTTP connection after each answer. Its RSS is summed over gunicorn's master and workers (shared pages counted in each).\n")
	w("- *vs seed* divides by the fastest seed configuration measured on the same scenario (named above the notes).\n")
	w("- Bench servers run with `LOGIN_RATE_PER_IP=none`, `LOGIN_RATE_PER_ACCOUNT=none`, `ACCESS_TOKEN_LIFETIME=1h`, `ACCESS_LOG=false` (no line per request: the bare baseline logs none either; `/metrics` stays on, as by default), a fixed HS256 `SIGNING_KEY`, and a fresh schema, database or key prefix per run; `redis` means users in a SQLite file and `TOKEN_STORE` in Redis.\n")
	series := chartSeries(rep.rows)
	if rep.cfg.chart != "" && len(series) > 0 {
		// The chart's path as the report links it: from the report's folder.
		img := filepath.Base(rep.cfg.chart)
		if rel, err := filepath.Rel(filepath.Dir(rep.cfg.out), rep.cfg.chart); err == nil {
			img = filepath.ToSlash(rel)
		}
		w("\n## Chart\n\n")
		w("![req/s](%s)\n\n", img)
		w("`%s`: req/s (log scale, gridlines at powers of ten) per throughput scenario (memory, flush and propagation are not charted); bars in each group, left to right: ", img)
		var legend []string
		for _, s := range series {
			legend = append(legend, fmt.Sprintf("%s (%s)", s.label, s.colorName))
		}
		w("%s. The number over each bar is its req/s.\n", strings.Join(legend, ", "))
	}
	return b.String()
}
