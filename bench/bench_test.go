package main

import (
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
