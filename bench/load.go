package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxLatencies bounds the latencies one Go load run keeps (about 40 MB).
const maxLatencies = 5_000_000

// result is what one load run measured.
type result struct {
	Tool     string // "wrk" or "go"
	Requests int
	Errors   int // non-2xx answers, socket errors, broken chains
	Elapsed  time.Duration
	RPS      float64
	P50, P99 time.Duration
	Max      time.Duration
	Detail   string // what the errors were, when known
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted latencies, 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarize fills the latency fields of r from lat (sorted in place).
func summarize(r *result, lat []time.Duration) {
	slices.Sort(lat)
	r.P50, r.P99 = percentile(lat, 50), percentile(lat, 99)
	if len(lat) > 0 {
		r.Max = lat[len(lat)-1]
	}
	if r.Elapsed > 0 {
		r.RPS = float64(r.Requests) / r.Elapsed.Seconds()
	}
}

// op is one timed request of a Go load worker. It returns the latency to
// record (negative: record nothing), "" when the answer was the expected
// one or else what it was (e.g. "status 503"), and false in more when the
// worker has nothing left to do.
type op func(ctx context.Context, worker int, c *http.Client) (lat time.Duration, bad string, more bool)

// outcome describes a request's answer for op: "" when it is want.
func outcome(st int, err error, want int) string {
	var te interface{ Timeout() bool }
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &te) && te.Timeout()):
		return "timeout"
	case err != nil:
		return "transport error"
	case st != want:
		return fmt.Sprintf("status %d", st)
	}
	return ""
}

// newClient returns a client with at most one connection, so that N
// workers hold N connections, like wrk's -c.
func newClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: 1, MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1,
			IdleConnTimeout: 30 * time.Second, DisableCompression: true,
		},
	}
}

// runGo runs conns workers calling fn until d has passed, ctx ends or
// every worker is done.
func runGo(ctx context.Context, conns int, d time.Duration, fn op) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu   sync.Mutex
		all  []time.Duration
		reqs int
		errs int
		kind = map[string]int{}
		wg   sync.WaitGroup
	)
	per := maxLatencies / max(conns, 1)
	start := time.Now()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient()
			defer c.CloseIdleConnections()
			lat := make([]time.Duration, 0, 1024)
			n, e := 0, 0
			kinds := map[string]int{}
			for ctx.Err() == nil && len(lat) < per {
				l, bad, more := fn(ctx, w, c)
				if !more {
					break
				}
				if ctx.Err() != nil && bad != "" {
					break // cut off by the deadline: not an error
				}
				if l >= 0 {
					lat = append(lat, l)
					n++
				}
				if bad != "" {
					e++
					kinds[bad]++
				}
			}
			mu.Lock()
			all = append(all, lat...)
			reqs += n
			errs += e
			for k, v := range kinds {
				kind[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := result{Tool: "go", Requests: reqs, Errors: errs, Elapsed: time.Since(start)}
	var ks []string
	for k, v := range kind {
		ks = append(ks, fmt.Sprintf("%d × %s", v, k))
	}
	slices.Sort(ks)
	r.Detail = strings.Join(ks, ", ")
	summarize(&r, all)
	return r
}

// call sends one request and returns its status and body.
func call(ctx context.Context, c *http.Client, method, url, bearer string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, raw, err
}

// request describes a fixed request, which wrk or the Go generator repeat.
type request struct {
	Method, URL, Bearer string
	Body                []byte        // JSON
	Want                int           // expected status
	Timeout             time.Duration // per request, 0: wrk's 2 s, the Go client's 10 s
}

// fixedOp repeats req.
func fixedOp(req request) op {
	return func(ctx context.Context, _ int, c *http.Client) (time.Duration, string, bool) {
		if req.Timeout > 0 {
			c.Timeout = req.Timeout
		}
		t0 := time.Now()
		st, _, err := call(ctx, c, req.Method, req.URL, req.Bearer, req.Body)
		return time.Since(t0), outcome(st, err, req.Want), true
	}
}

// loader drives a fixed request with wrk when available, else with the
// Go generator.
type loader struct {
	wrk   string // path of wrk, "" for the Go generator
	conns int
	dur   time.Duration
	tmp   string
}

func (l *loader) run(ctx context.Context, req request) (result, error) {
	// One request first: a benchmark of error answers measures nothing.
	c := newClient()
	if req.Timeout > 0 {
		c.Timeout = req.Timeout
	}
	st, body, err := call(ctx, c, req.Method, req.URL, req.Bearer, req.Body)
	if err != nil {
		return result{}, err
	}
	if st != req.Want {
		return result{}, fmt.Errorf("%s %s: status %d, want %d: %.200s", req.Method, req.URL, st, req.Want, body)
	}
	if l.wrk == "" {
		return runGo(ctx, l.conns, l.dur, fixedOp(req)), nil
	}
	return l.runWrk(ctx, req)
}

func (l *loader) runWrk(ctx context.Context, req request) (result, error) {
	secs := max(1, int(math.Round(l.dur.Seconds())))
	args := []string{fmt.Sprintf("-t%d", min(2, l.conns)), fmt.Sprintf("-c%d", l.conns), fmt.Sprintf("-d%ds", secs), "--latency"}
	if req.Timeout > 0 {
		args = append(args, "--timeout", fmt.Sprintf("%ds", max(1, int(math.Ceil(req.Timeout.Seconds())))))
	}
	if req.Bearer != "" {
		args = append(args, "-H", "Authorization: Bearer "+req.Bearer)
	}
	if req.Method != http.MethodGet || req.Body != nil {
		script := fmt.Sprintf("wrk.method = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = %s\n",
			req.Method, luaString(string(req.Body)))
		f, err := os.CreateTemp(l.tmp, "wrk-*.lua")
		if err != nil {
			return result{}, err
		}
		if _, err := f.WriteString(script); err != nil {
			f.Close()
			return result{}, err
		}
		f.Close()
		defer os.Remove(f.Name())
		args = append(args, "-s", f.Name())
	}
	args = append(args, req.URL)
	cctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, l.wrk, args...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return result{}, fmt.Errorf("%v in wrk's output:\n%s", err, out)
	}
	return r, nil
}

// luaString quotes s as a Lua long string when it can, else as a quoted
// string with decimal escapes.
func luaString(s string) string {
	if !strings.Contains(s, "]]") && !strings.ContainsAny(s, "\n\r") {
		return "[[" + s + "]]"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			fmt.Fprintf(&b, "\\%03d", c)
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

var (
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkTotal    = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+[a-z]+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([0-9.]+[a-z]+)`)
	wrkNon2xx   = regexp.MustCompile(`(?m)Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket   = regexp.MustCompile(`(?m)Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkMaxLat   = regexp.MustCompile(`(?m)^\s+Latency\s+\S+\s+\S+\s+([0-9.]+[a-z]+)`)
	errNoWrkRPS = errors.New("no Requests/sec line")
)

// parseWrk reads wrk --latency's report: requests, req/s, 50% and 99%,
// the maximum latency, non-2xx answers and socket errors.
func parseWrk(out string) (result, error) {
	r := result{Tool: "wrk"}
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, errNoWrkRPS
	}
	var err error
	if r.RPS, err = strconv.ParseFloat(m[1], 64); err != nil {
		return r, err
	}
	if m := wrkTotal.FindStringSubmatch(out); m != nil {
		r.Requests, _ = strconv.Atoi(m[1])
		r.Elapsed, _ = parseWrkDuration(m[2])
	}
	found := 0
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		d, err := parseWrkDuration(m[2])
		if err != nil {
			return r, err
		}
		switch m[1] {
		case "50":
			r.P50 = d
			found++
		case "99":
			r.P99 = d
			found++
		}
	}
	if found != 2 {
		return r, errors.New("no 50%/99% latency distribution (run wrk with --latency)")
	}
	if m := wrkMaxLat.FindStringSubmatch(out); m != nil {
		r.Max, _ = parseWrkDuration(m[1])
	}
	var detail []string
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.Errors += n
		detail = append(detail, fmt.Sprintf("%d non-2xx answers", n))
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.Errors += n
		}
		detail = append(detail, "socket errors: "+strings.TrimPrefix(m[0], "Socket errors: "))
	}
	r.Detail = strings.Join(detail, ", ")
	return r, nil
}

// parseWrkDuration reads wrk's durations: 412.20us, 1.05ms, 2.00s, 1.50m, 1.00h.
func parseWrkDuration(s string) (time.Duration, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, fmt.Errorf("bad wrk duration %q", s)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("bad wrk duration %q", s)
	}
	var unit time.Duration
	switch s[i:] {
	case "us":
		unit = time.Microsecond
	case "ms":
		unit = time.Millisecond
	case "s":
		unit = time.Second
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	default:
		return 0, fmt.Errorf("bad wrk duration unit %q", s)
	}
	return time.Duration(v * float64(unit)), nil
}

// pair is a login's answer.
type pair struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

func login(ctx context.Context, c *http.Client, base string) (pair, error) {
	body, _ := json.Marshal(map[string]string{"email": demoEmail, "password": demoPassword})
	st, raw, err := call(ctx, c, http.MethodPost, base+"/api/token/", "", body)
	if err != nil {
		return pair{}, err
	}
	var p pair
	if st != http.StatusOK || json.Unmarshal(raw, &p) != nil || p.Access == "" || p.Refresh == "" {
		return pair{}, fmt.Errorf("login at %s: %d %.200s", base, st, raw)
	}
	return p, nil
}

// loginMany logs n sessions in with par parallel clients, within limit;
// it gives up after 20 failed logins (a loaded machine can time some out).
func loginMany(ctx context.Context, base string, n, par int, limit time.Duration) ([]pair, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var (
		mu     sync.Mutex
		pairs  = make([]pair, 0, n)
		last   error
		failed int
		next   int
		wg     sync.WaitGroup
	)
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient()
			c.Timeout = 30 * time.Second // argon2id on a busy machine
			for ctx.Err() == nil {
				mu.Lock()
				if next >= n || failed >= 20 {
					mu.Unlock()
					return
				}
				next++
				mu.Unlock()
				p, err := login(ctx, c, base)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						failed++
						last = err
						next--
					}
				} else {
					pairs = append(pairs, p)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(pairs) == 0 {
		if last == nil {
			last = fmt.Errorf("no login within %v", limit)
		}
		return nil, last
	}
	if failed > 0 {
		logf("  %d of the logins failed (last: %v)", failed, last)
	}
	return pairs, nil
}

// wrkPath is wrk's path when -gen allows it and it is installed.
func wrkPath(gen string) (string, error) {
	switch gen {
	case "go":
		return "", nil
	case "wrk", "auto":
		p, err := exec.LookPath("wrk")
		if err != nil && gen == "wrk" {
			return "", errors.New("-gen wrk: wrk is not installed (bash bench/run.sh installs it)")
		}
		if err != nil {
			return "", nil
		}
		return filepath.Clean(p), nil
	}
	return "", fmt.Errorf("-gen %q: want auto, wrk or go", gen)
}

// firstLine is s's first line.
func firstLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	if sc.Scan() {
		return strings.TrimSpace(sc.Text())
	}
	return ""
}

// issueMany opens n sessions of the demo user with `jwtrevoke issuetoken`
// (par processes at once, with the server's environment and working
// directory, so on its database): they are recorded as logins record them,
// without an argon2id hash each, which would make ten thousand sessions
// take minutes to set up.
func (b *bench) issueMany(ctx context.Context, env []string, n, par int) ([]pair, error) {
	var (
		mu    sync.Mutex
		pairs = make([]pair, 0, n)
		errs  []error
		wg    sync.WaitGroup
	)
	for i := range par {
		count := n / par
		if i < n%par {
			count++
		}
		if count == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, b.bin, "issuetoken", "--email", demoEmail, "--count", strconv.Itoa(count))
			cmd.Dir = b.tmp
			cmd.Env = append(inheritedEnv(), env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var got []pair
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(make([]byte, 64<<10), 64<<10)
			for sc.Scan() {
				var p pair
				if json.Unmarshal(sc.Bytes(), &p) == nil && p.Refresh != "" && p.Access != "" {
					got = append(got, p)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			pairs = append(pairs, got...)
			if err != nil {
				errs = append(errs, fmt.Errorf("jwtrevoke issuetoken: %w: %s", err, bytes.TrimSpace(stderr.Bytes())))
			}
		}()
	}
	wg.Wait()
	return pairs, errors.Join(errs...)
}
