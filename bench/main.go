// Command bench is jwtrevoke's benchmark suite: it builds the server,
// starts it on loopback on the chosen stores, and measures it with wrk
// (or a built-in Go load generator) next to a bare net/http server and,
// with -seed, the seed (Django + SimpleJWT under gunicorn).
//
//	go run ./bench -scenario me,refresh,login,memory -store sqlite,postgres,redis -seed
//
// bash bench/run.sh installs wrk and gunicorn from Debian first. Results go
// to the terminal, -out (markdown) and -chart (PNG).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/proctest"
)

type config struct {
	scenarios []string
	stores    []string
	duration  time.Duration
	conns     int
	seed      bool
	out       string
	chart     string
	urls      storeURLs
	flushRows int
	revs      int
	seedDBs   []string
	sessions  int
	rounds    int
	gen       string
	python    string
	profile   string // directory for CPU profiles of the servers' timed runs, "" for none
}

var allScenarios = []string{"me", "refresh", "login", "rotate", "logout", "propagation", "flush", "memory"}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	scen := fs.String("scenario", "me,refresh", "comma-separated scenarios: "+strings.Join(allScenarios, ","))
	stores := fs.String("store", "sqlite", "comma-separated stores: sqlite,postgres,mysql,redis,mongo,memory (redis: users in SQLite, TOKEN_STORE redis)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "duration of each load run")
	fs.IntVar(&c.conns, "connections", 16, "concurrent connections (clients)")
	fs.BoolVar(&c.seed, "seed", false, "also measure the seed: Django + SimpleJWT under gunicorn (2 sync workers), on -seed-db (me, refresh and login)")
	seedDB := fs.String("seed-db", "sqlite,postgres-persist", "comma-separated databases of the seed: sqlite (Django's default), postgres (CONN_MAX_AGE=0), postgres-persist (CONN_MAX_AGE=600); vs seed uses the fastest measured")
	fs.StringVar(&c.out, "out", "bench/RESULTS.md", "markdown results file (empty: none)")
	fs.StringVar(&c.chart, "chart", "bench/chart.png", "PNG bar chart (empty: none)")
	fs.StringVar(&c.urls.Postgres, "postgres", env("JWTREVOKE_BENCH_POSTGRES", env("JWTREVOKE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")), "PostgreSQL base URL (env JWTREVOKE_BENCH_POSTGRES); each run gets a fresh schema")
	fs.StringVar(&c.urls.MySQL, "mysql", env("JWTREVOKE_BENCH_MYSQL", env("JWTREVOKE_TEST_MYSQL", "mysql://jwtrevoke:jwtrevoke@127.0.0.1:3306/test")), "MySQL/MariaDB base URL (env JWTREVOKE_BENCH_MYSQL); each run gets a fresh database")
	fs.StringVar(&c.urls.Redis, "redis", env("JWTREVOKE_BENCH_REDIS", env("JWTREVOKE_TEST_REDIS", "redis://127.0.0.1:6379/15")), "Redis URL (env JWTREVOKE_BENCH_REDIS); each run gets a fresh key prefix")
	fs.StringVar(&c.urls.Mongo, "mongo", env("JWTREVOKE_BENCH_MONGO", env("JWTREVOKE_TEST_MONGO", "mongodb://127.0.0.1:27017/")), "MongoDB URL (env JWTREVOKE_BENCH_MONGO); each run gets a fresh database")
	fs.IntVar(&c.flushRows, "flush-rows", 1_000_000, "expired outstanding tokens inserted for the flush scenario")
	fs.IntVar(&c.revs, "revocations", 1_000_000, "live revocations inserted for the memory scenario")
	fs.IntVar(&c.sessions, "sessions", 20000, "sessions opened (jwtrevoke issuetoken, not timed) before the logout scenario")
	fs.IntVar(&c.rounds, "rounds", 1000, "logout rounds of the propagation scenario (at most)")
	fs.StringVar(&c.gen, "gen", "auto", "load generator for me/refresh: auto (wrk if installed), wrk, go")
	fs.StringVar(&c.profile, "cpuprofile", "", "directory: write a CPU profile of jwtrevoke during each timed run (me, refresh, login, rotate, logout) as <store>-<scenario>.pprof, for go tool pprof")
	fs.StringVar(&c.python, "python", "/usr/bin/python3", "Python with Debian's Django, SimpleJWT and gunicorn (for -seed)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.scenarios = splitList(*scen)
	c.stores = splitList(*stores)
	c.seedDBs = splitList(*seedDB)
	for _, s := range c.seedDBs {
		if !contains(seedDBs, s) {
			return c, fmt.Errorf("-seed-db: unknown %q (want %s)", s, strings.Join(seedDBs, ","))
		}
	}
	if c.seed && len(c.seedDBs) == 0 {
		return c, fmt.Errorf("-seed-db must name at least one")
	}
	for _, s := range c.scenarios {
		if !contains(allScenarios, s) {
			return c, fmt.Errorf("-scenario: unknown %q (want %s)", s, strings.Join(allScenarios, ","))
		}
	}
	for _, s := range c.stores {
		if !contains([]string{"sqlite", "postgres", "mysql", "redis", "mongo", "memory"}, s) {
			return c, fmt.Errorf("-store: unknown %q", s)
		}
	}
	if len(c.scenarios) == 0 || len(c.stores) == 0 {
		return c, fmt.Errorf("-scenario and -store must name at least one")
	}
	if c.duration <= 0 || c.duration > 10*time.Minute {
		return c, fmt.Errorf("-duration must be in (0, 10m]")
	}
	if c.conns < 1 || c.conns > 1024 {
		return c, fmt.Errorf("-connections must be in [1, 1024]")
	}
	if c.flushRows < 1 || c.flushRows > 10_000_000 {
		return c, fmt.Errorf("-flush-rows must be in [1, 1e7]")
	}
	if c.revs < 1 || c.revs > 10_000_000 {
		return c, fmt.Errorf("-revocations must be in [1, 1e7]")
	}
	if c.sessions < 1 || c.sessions > 100_000 || c.rounds < 1 || c.rounds > 100_000 {
		return c, fmt.Errorf("-sessions and -rounds must be in [1, 100000]")
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg)
	stop()
	runCleanups()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(ctx context.Context, cfg config) error {
	started := time.Now()
	loadStart := loadAvg()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	tmp, err := os.MkdirTemp("", "jwtrevoke-bench-")
	if err != nil {
		return err
	}
	atExit(func() { _ = os.RemoveAll(tmp) })

	logf("building ./cmd/jwtrevoke and ./bench/baseline")
	bin, err := proctest.Build(tmp)
	if err != nil {
		return fmt.Errorf("build jwtrevoke: %w", err)
	}
	baseExe := filepath.Join(tmp, "baseline")
	bc := exec.Command("go", "build", "-o", baseExe, "./bench/baseline")
	bc.Dir, bc.Stderr = root, os.Stderr
	if err := bc.Run(); err != nil {
		return fmt.Errorf("build baseline: %w", err)
	}
	wrk, err := wrkPath(cfg.gen)
	if err != nil {
		return err
	}
	gen := "built-in Go generator"
	if wrk != "" {
		gen = "wrk"
	}
	logf("load generator for fixed requests: %s; %d connections, %v each", gen, cfg.conns, cfg.duration)
	b := &bench{cfg: cfg, bin: bin, root: root, tmp: tmp, logf: logf, baseExe: baseExe,
		ld: &loader{wrk: wrk, conns: cfg.conns, dur: cfg.duration, tmp: tmp}}
	dbServers, ferret := servers(ctx, cfg.stores, cfg.urls)
	if dbServers != "" {
		logf("database servers: %s", dbServers)
	}

	var rows []row
	var failures []string
	fail := func(what string, err error) {
		logf("%s: FAILED: %v", what, err)
		failures = append(failures, fmt.Sprintf("%s: %s", what, firstLine(err.Error())))
	}
	if contains(cfg.scenarios, "me") {
		logf("baseline me ...")
		if r, err := b.baseline(ctx, baseExe); err != nil {
			fail("baseline", err)
		} else {
			rows = append(rows, r)
		}
	}
	if cfg.seed && ctx.Err() == nil {
		rs, err := b.seed(ctx, cfg.scenarios)
		rows = append(rows, rs...)
		if err != nil {
			fail("seed", err)
		}
	}
	for _, st := range cfg.stores {
		for _, sc := range cfg.scenarios {
			if ctx.Err() != nil {
				break
			}
			logf("jwtrevoke %s on %s ...", sc, st)
			rs, err := b.run(ctx, st, sc)
			if err != nil {
				fail(fmt.Sprintf("jwtrevoke %s on %s", sc, st), err)
				continue
			}
			for i := range rs {
				if ferret && st == "mongo" && usesStore(sc) {
					rs[i].addNote(ferretScans)
				}
				logf("  %s", rs[i].summary())
			}
			rows = append(rows, rs...)
		}
	}
	if ctx.Err() != nil {
		failures = append(failures, "interrupted")
	}
	seedRef := ratios(rows)
	rep := report{rows: rows, seedRef: seedRef, failures: failures, cfg: cfg, started: started, finished: time.Now(), gen: gen, wrk: wrk, python: cfg.python,
		load: loadStart + " at the start, " + loadAvg() + " at the end", servers: dbServers}
	fmt.Println()
	fmt.Print(rep.table())
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(rep.markdown()), 0o644); err != nil {
			return err
		}
		logf("wrote %s", cfg.out)
	}
	switch {
	case cfg.chart == "":
	case len(chartSeries(rows)) == 0:
		logf("no throughput scenario measured: no chart written")
	default:
		if err := writeChart(cfg.chart, rows); err != nil {
			return err
		}
		logf("wrote %s", cfg.chart)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d part(s) failed: %s", len(failures), strings.Join(failures, "; "))
	}
	return nil
}

// usesStore reports whether scenario's timed requests ask the store
// (me and refresh do not: they are answered from memory).
func usesStore(scenario string) bool {
	return scenario != "me" && scenario != "refresh" && scenario != "memory"
}

// ratios fills the req/s ratios: me to the bare baseline, every
// scenario to the fastest seed configuration measured on the same
// scenario (its row), which it returns by scenario.
func ratios(rows []row) map[string]row {
	var base float64
	seed := map[string]row{}
	for _, r := range rows {
		switch r.Target {
		case targetBaseline:
			base = r.RPS
		case targetSeed:
			// A run that mostly failed is no reference (at most 1% errors).
			if r.Errors*100 <= r.Requests && r.RPS > seed[r.Scenario].RPS {
				seed[r.Scenario] = r
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		if r.Latency || r.RPS == 0 || r.Scenario == "flush" {
			continue
		}
		if r.Scenario == "me" && base > 0 && r.Target != targetBaseline && r.VsBaseline == 0 { // not paired
			r.VsBaseline = r.RPS / base
		}
		if s := seed[r.Scenario].RPS; s > 0 && r.Target != targetSeed {
			r.VsSeed = r.RPS / s
		}
	}
	return seed
}
