package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

const wrkSample = `Running 10s test @ http://127.0.0.1:40215/api/me/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   449.05us  412.20us  12.19ms   91.39%
    Req/Sec    18.85k     1.53k   22.51k    71.00%
  Latency Distribution
     50%  340.00us
     75%  505.00us
     90%    0.86ms
     99%    2.10ms
  375194 requests in 10.00s, 56.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  37513.06
Transfer/sec:      5.61MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkSample)
	if err != nil {
		t.Fatal(err)
	}
	want := result{Tool: "wrk", Requests: 375194, Errors: 8, Elapsed: 10 * time.Second, RPS: 37513.06,
		P50: 340 * time.Microsecond, P99: 2100 * time.Microsecond, Max: 12190 * time.Microsecond,
		Detail: "5 non-2xx answers, socket errors: connect 0, read 2, write 0, timeout 1"}
	if r != want {
		t.Errorf("parseWrk:\n got %+v\nwant %+v", r, want)
	}
	if _, err := parseWrk(strings.Replace(wrkSample, "Requests/sec", "Reqs", 1)); err == nil {
		t.Error("no Requests/sec line: no error")
	}
	noDist := strings.Replace(wrkSample, "     99%    2.10ms\n", "", 1)
	if _, err := parseWrk(noDist); err == nil {
		t.Error("no 99% line: no error")
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"412.20us": 412200 * time.Nanosecond, "1.05ms": 1050 * time.Microsecond, "2.00s": 2 * time.Second,
		"1.50m": 90 * time.Second, "1.00h": time.Hour, "0.86ms": 860 * time.Microsecond,
	} {
		got, err := parseWrkDuration(in)
		if err != nil || got != want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ms", "12", "1.0ns", "1..0ms"} {
		if _, err := parseWrkDuration(in); err == nil {
			t.Errorf("parseWrkDuration(%q): no error", in)
		}
	}
}

func TestPercentile(t *testing.T) {
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("empty: %v", got)
	}
	var lat []time.Duration
	for i := 100; i >= 1; i-- { // unsorted: summarize sorts
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	var r result
	r.Requests, r.Elapsed = 100, 2*time.Second
	summarize(&r, lat)
	if r.P50 != 50*time.Millisecond || r.P99 != 99*time.Millisecond || r.Max != 100*time.Millisecond || r.RPS != 50 {
		t.Errorf("1..100 ms: p50 %v p99 %v max %v rps %v", r.P50, r.P99, r.Max, r.RPS)
	}
	one := []time.Duration{7}
	for _, p := range []float64{0.1, 50, 99, 100} {
		if got := percentile(one, p); got != 7 {
			t.Errorf("single value, p%v: %v", p, got)
		}
	}
	three := []time.Duration{1, 2, 3}
	if got := percentile(three, 50); got != 2 {
		t.Errorf("p50 of 1,2,3: %v", got)
	}
	if got := percentile(three, 99); got != 3 {
		t.Errorf("p99 of 1,2,3: %v", got)
	}
}

func TestLuaString(t *testing.T) {
	if got := luaString(`{"refresh":"a.b.c"}`); got != `[[{"refresh":"a.b.c"}]]` {
		t.Errorf("luaString: %s", got)
	}
	if got := luaString("a]]b\n\""); got != `"a]]b\010\034"` {
		t.Errorf("luaString with ]] and newline: %s", got)
	}
}

func TestChartAndRatios(t *testing.T) {
	rows := []row{
		{Target: targetBaseline, Store: "-", Scenario: "me", result: result{RPS: 50000}},
		{Target: targetSeed, Store: "postgres", Scenario: "me", result: result{RPS: 500}},
		{Target: targetJwtrevoke, Store: "sqlite", Scenario: "me", result: result{RPS: 25000}},
		{Target: targetJwtrevoke, Store: "sqlite", Scenario: "propagation", Latency: true, result: result{P50: time.Millisecond}},
	}
	ratios(rows)
	if rows[2].VsBaseline != 0.5 || rows[2].VsSeed != 50 || rows[3].VsBaseline != 0 {
		t.Errorf("ratios: %+v", rows)
	}
	img := drawChart(rows)
	if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 300 {
		t.Errorf("chart is %v", b)
	}
	if s := chartSeries(rows); len(s) != 3 {
		t.Errorf("series: %+v", s)
	}
	for r := range font5x7 {
		for _, line := range font5x7[r] {
			if len(line) != 5 {
				t.Errorf("glyph %q: row %q is not 5 wide", r, line)
			}
		}
	}
}

func TestParseStatus(t *testing.T) {
	const status = "Name:\tjwtrevoke\nVmPeak:\t 1300000 kB\nVmHWM:\t   61088 kB\nVmRSS:\t   42472 kB\nRssAnon:\t   24040 kB\nRssFile:\t   17732 kB\nRssShmem:\t       0 kB\nThreads:\t7\n"
	m, err := parseStatus(status)
	if err != nil {
		t.Fatal(err)
	}
	if want := (memStat{RSS: 42472, HWM: 61088, Anon: 24040, File: 17732, N: 1}); m != want {
		t.Errorf("parseStatus: got %+v, want %+v", m, want)
	}
	if got := m.cell(); got != "41 / 60 MB" {
		t.Errorf("cell: %q", got)
	}
	if got := (&memStat{RSS: 9 * 1024, HWM: 12 * 1024}).cell(); got != "9.0 / 12 MB" {
		t.Errorf("small cell: %q", got)
	}
	var none *memStat
	if none.cell() != "-" {
		t.Errorf("nil cell: %q", none.cell())
	}
	if got := m.detail(); got != "RSS 41 MB (anon 23, file 17)" {
		t.Errorf("detail: %q", got)
	}
	if _, err := parseStatus("Name:\tx\nVmRSS:\t 12 kB\n"); err == nil {
		t.Error("no VmHWM: no error")
	}
	if _, err := parseStatus("VmRSS:\t 12 MB\nVmHWM:\t 12 kB\n"); err == nil {
		t.Error("unit MB: no error")
	}
}

func TestReadMemSelf(t *testing.T) {
	self, err := readMem(os.Getpid())
	if err != nil {
		t.Skip("no /proc:", err)
	}
	tree, err := treeMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.RSS <= 0 || self.HWM < self.RSS || tree.N < 1 || tree.HWM < self.HWM/2 {
		t.Errorf("self %+v, tree %+v", self, tree)
	}
}

func TestParseMemStats(t *testing.T) {
	const heap = "heap profile: 1: 2 [3: 4] @ heap/1048576\n# runtime.MemStats\n# Alloc = 615848\n# HeapAlloc = 615848\n# HeapSys = 45547520\n# HeapIdle = 43966464\n# HeapInuse = 1581056\n# HeapReleased = 3514368\n# PauseNs = [1 2 3]\n"
	st := parseMemStats(heap)
	if st["HeapAlloc"] != 615848 || st["HeapIdle"] != 43966464 || st["HeapReleased"] != 3514368 || len(st) != 6 {
		t.Errorf("parseMemStats: %v", st)
	}
	if got := heapNote(st); got != "Go heap in use 1.5 MB, idle not yet returned 39 MB" {
		t.Errorf("heapNote: %q", got)
	}
	if heapNote(nil) != "" {
		t.Error("heapNote(nil) is not empty")
	}
}

func TestRevocationsLoaded(t *testing.T) {
	logs := `time=x level=INFO msg="profiler listening" url=http://127.0.0.1:1/debug/pprof/
time=x level=INFO msg="jwtrevoke listening" url=http://127.0.0.1:2 database=sqlite:///a token_store="" revocations_loaded=1000000
`
	if n, ok := revocationsLoaded(logs); !ok || n != 1_000_000 {
		t.Errorf("revocationsLoaded: %d %v", n, ok)
	}
	if _, ok := revocationsLoaded(`msg="other" revocations_loaded=3`); ok {
		t.Error("revocations_loaded outside the listening line counted")
	}
	stale := `time=x level=ERROR msg="revocations are out of date; refusing authentication until the store answers (REVOCATION_FAIL_MODE=closed)" age=4.006255857s`
	if got := firstStaleAge("a\n" + stale + "\n"); got != "4.006255857s" {
		t.Errorf("firstStaleAge: %q", got)
	}
	if got := firstStaleAge("a\n"); got != "?" {
		t.Errorf("firstStaleAge of nothing: %q", got)
	}
}

func TestHashParams(t *testing.T) {
	for in, want := range map[string]string{
		"argon2$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA":    "argon2id m=19456 KiB (19 MiB), t=2, p=1",
		"argon2$argon2id$v=19$m=12288,t=3,p=1$c2FsdHNhbHQ$aGFzaA":    "argon2id m=12288 KiB (12 MiB), t=3, p=1",
		"argon2$argon2id$v=19$m=47104,t=1,p=1$c2FsdHNhbHQ$aGFzaA":    "argon2id m=47104 KiB (46 MiB), t=1, p=1",
		"pbkdf2_sha256$260000$salt$aGFzaA=":                          "PBKDF2-SHA256, 260,000 iterations",
		"bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuuvwxyz0123456789": "bcrypt_sha256",
		"": "unrecognised hash",
	} {
		if got := hashParams(in); got != want {
			t.Errorf("hashParams(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSci(t *testing.T) {
	for n, want := range map[int]string{1_000_000: "1e6", 1000: "1e3", 10_000_000: "1e7", 250_000: "250,000", 100: "100", 1: "1"} {
		if got := sci(n); got != want {
			t.Errorf("sci(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRatiosFastestSeed(t *testing.T) {
	rows := []row{
		{Target: targetSeed, Store: "sqlite", Scenario: "me", result: result{RPS: 400, Requests: 4000}},
		{Target: targetSeed, Store: "postgres-persist", Scenario: "me", result: result{RPS: 800, Requests: 8000}},
		{Target: targetSeed, Store: "postgres-persist", Scenario: "login", result: result{RPS: 20, Requests: 200, Errors: 50}}, // mostly failed: no reference
		{Target: targetSeed, Store: "sqlite", Scenario: "login", result: result{RPS: 10, Requests: 100}},
		{Target: targetJwtrevoke, Store: "sqlite", Scenario: "me", result: result{RPS: 20000}},
		{Target: targetJwtrevoke, Store: "sqlite", Scenario: "login", result: result{RPS: 50}},
		{Target: targetJwtrevoke, Store: "sqlite", Scenario: "memory idle", Latency: true},
		{Target: targetJwtrevoke, Store: "sqlite", Scenario: "memory 1e6", result: result{RPS: 20000}},
	}
	ref := ratios(rows)
	if ref["me"].Store != "postgres-persist" || ref["login"].Store != "sqlite" || len(ref) != 2 {
		t.Errorf("references: %+v", ref)
	}
	if rows[4].VsSeed != 25 || rows[5].VsSeed != 5 || rows[0].VsSeed != 0 || rows[7].VsSeed != 0 || rows[7].VsBaseline != 0 {
		t.Errorf("ratios: %+v", rows)
	}
	rep := report{rows: rows, seedRef: ref}
	if got := rep.seedRefNote(); got != "me: seed on postgres-persist (800 req/s); login: seed on sqlite (10 req/s)" {
		t.Errorf("seedRefNote: %q", got)
	}
	idle := rows[6]
	idle.Mem = &memStat{RSS: 40 << 10, HWM: 41 << 10}
	c := idle.cells()
	if len(c) != len(header) || c[3] != "-" || c[8] != "40 / 41 MB" || c[9] != "-" || c[11] != "-" {
		t.Errorf("memory idle cells: %q", c)
	}
	if !strings.Contains(rep.table(), "vs seed divides by the fastest seed configuration measured: me: seed on postgres-persist") {
		t.Errorf("table without the seed reference:\n%s", rep.table())
	}
	if s := chartSeries(rows); len(s) != 3 || s[0].label != "seed Django+SimpleJWT sqlite" || s[1].key != targetSeed+"/postgres-persist" {
		t.Errorf("series: %+v", s)
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-scenario", "me,login,memory", "-seed"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.seedDBs, ",") != "sqlite,postgres-persist" || c.revs != 1_000_000 || strings.Join(c.scenarios, ",") != "me,login,memory" {
		t.Errorf("defaults: %+v", c)
	}
	for _, args := range [][]string{
		{"-seed-db", "oracle"},
		{"-seed", "-seed-db", ","},
		{"-revocations", "0"},
		{"-scenario", "memory,nope"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q): no error", args)
		}
	}
}

func TestLoginRequestWrkTimeout(t *testing.T) {
	req := loginRequest("http://127.0.0.1:1")
	if req.Method != "POST" || req.Timeout <= 2*time.Second || !strings.Contains(string(req.Body), demoEmail) {
		t.Errorf("loginRequest: %+v", req)
	}
}

func TestParseCPUTime(t *testing.T) {
	// A command name with spaces and a ')' of its own; utime 250, stime 50.
	line := "4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 7 0 100 1000 200\n"
	got, err := parseCPUTime(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want {
		t.Fatalf("parseCPUTime = %v, want %v", got, want)
	}
	for _, bad := range []string{
		"4242 no name here",
		"4242 (srv) S 1 2 3",
		"4242 (srv) S 1 4242 4242 0 -1 4194560 900 0 0 0 x 50 0",
	} {
		if _, err := parseCPUTime(bad); err == nil {
			t.Errorf("parseCPUTime(%q) succeeded", bad)
		}
	}
}

func TestCPUTimeSelf(t *testing.T) {
	before, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
	after, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after < before {
		t.Fatalf("CPU time went back: %v then %v (%d spins)", before, after, n)
	}
}
