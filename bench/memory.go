package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// memStat is a process's memory as /proc/PID/status tells it, in KiB.
type memStat struct {
	RSS  int64 // VmRSS: resident now
	HWM  int64 // VmHWM: the peak of VmRSS
	Anon int64 // RssAnon: heap, stacks (what the process allocated)
	File int64 // RssFile: mapped files (the executable's pages)
	N    int   // processes summed (1, or a gunicorn master and its workers)
}

// parseStatus reads the Vm/Rss lines of /proc/PID/status.
func parseStatus(s string) (memStat, error) {
	m := memStat{N: 1}
	found := 0
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		case "RssAnon":
			dst = &m.Anon
		case "RssFile":
			dst = &m.File
		default:
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("status line %q: want N kB", sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("status line %q: %v", sc.Text(), err)
		}
		*dst = n
		if k == "VmRSS" || k == "VmHWM" {
			found++
		}
	}
	if found != 2 {
		return m, fmt.Errorf("no VmRSS and VmHWM lines")
	}
	return m, nil
}

// readMem reads process pid's memory.
func readMem(pid int) (memStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStat{}, err
	}
	return parseStatus(string(b))
}

// treeMem sums the memory of pid and its descendants (gunicorn's master
// and workers). Pages they share are counted in each, as RSS counts them.
func treeMem(pid int) (memStat, error) {
	parent := map[int]int{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return memStat{}, err
	}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			parent[p] = pp
		}
	}
	in := map[int]bool{pid: true}
	for changed := true; changed; {
		changed = false
		for p, pp := range parent {
			if !in[p] && in[pp] {
				in[p], changed = true, true
			}
		}
	}
	var sum memStat
	for p := range in {
		m, err := readMem(p)
		if err != nil {
			if p == pid {
				return memStat{}, err
			}
			continue // exited meanwhile
		}
		sum.RSS += m.RSS
		sum.HWM += m.HWM
		sum.Anon += m.Anon
		sum.File += m.File
		sum.N++
	}
	return sum, nil
}

// mib prints KiB as MiB: one decimal under 10.
func mib(kib int64) string {
	v := float64(kib) / 1024
	if v < 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// cell is the table's "RSS / peak" cell.
func (m *memStat) cell() string {
	if m == nil || m.RSS == 0 {
		return "-"
	}
	return mib(m.RSS) + " / " + mib(m.HWM) + " MB"
}

// detail says what the RSS is made of.
func (m memStat) detail() string {
	return fmt.Sprintf("RSS %s MB (anon %s, file %s)", mib(m.RSS), mib(m.Anon), mib(m.File))
}

var memStatsRe = regexp.MustCompile(`(?m)^# (\w+) = (\d+)$`)

// parseMemStats reads the runtime.MemStats lines of
// /debug/pprof/heap?debug=1 ("# HeapAlloc = 615848"), in bytes.
func parseMemStats(s string) map[string]int64 {
	out := map[string]int64{}
	for _, m := range memStatsRe.FindAllStringSubmatch(s, -1) {
		if n, err := strconv.ParseInt(m[2], 10, 64); err == nil {
			out[m[1]] = n
		}
	}
	return out
}

// heapStats fetches the server's runtime.MemStats from its profiler,
// after a garbage collection when gc.
func heapStats(ctx context.Context, pprofURL string, gc bool) (map[string]int64, error) {
	if pprofURL == "" {
		return nil, fmt.Errorf("no profiler")
	}
	u := strings.TrimSuffix(pprofURL, "/") + "/heap?debug=1"
	if gc {
		u += "&gc=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	st := parseMemStats(string(b))
	if _, ok := st["HeapAlloc"]; !ok {
		return nil, fmt.Errorf("no MemStats in %s", u)
	}
	return st, nil
}

// heapNote describes MemStats: the live heap and what the runtime holds
// but has not returned to the system.
func heapNote(st map[string]int64) string {
	if st == nil {
		return ""
	}
	mb := func(b int64) string { return mib(b / 1024) }
	return fmt.Sprintf("Go heap in use %s MB, idle not yet returned %s MB", mb(st["HeapInuse"]), mb(st["HeapIdle"]-st["HeapReleased"]))
}

var loadedRe = regexp.MustCompile(`revocations_loaded=(\d+)`)

// revocationsLoaded is the count in the server's "jwtrevoke listening" line.
func revocationsLoaded(logs string) (int, bool) {
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `msg="jwtrevoke listening"`) {
			if m := loadedRe.FindStringSubmatch(line); m != nil {
				n, err := strconv.Atoi(m[1])
				return n, err == nil
			}
		}
	}
	return 0, false
}

// sci prints n as 1e6 when it is a power of ten, else with separators.
func sci(n int) string {
	e := 0
	for v := n; v >= 10 && v%10 == 0; v /= 10 {
		e++
	}
	if n > 0 && e >= 3 && pow10(e) == n {
		return fmt.Sprintf("1e%d", e)
	}
	return fmtRate(float64(n))
}

func pow10(e int) int {
	v := 1
	for range e {
		v *= 10
	}
	return v
}

// memory: the server's RSS idle on a fresh store, then with -revocations
// live revocations in the store (inserted in bulk while it is stopped):
// once it has loaded them (it serves only then) and after a run of
// GET /api/me/.
func (b *bench) memory(ctx context.Context, db *dbEnv) ([]row, error) {
	env := serverEnv(db)
	const settle = 2 * time.Second
	// A first start migrates the store and creates the demo user (a
	// password hash: tens of MB the runtime keeps a while); the idle
	// reading is of a second start, as a server starts in production.
	srv, err := b.server(ctx, "jwtrevoke", env, "--demo")
	if err != nil {
		return nil, err
	}
	srv.stop()
	srv, err = b.server(ctx, "jwtrevoke", env, "--no-migrate", "--pprof", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	time.Sleep(settle)
	idle, err := readMem(srv.Pid())
	if err != nil {
		srv.stop()
		return nil, err
	}
	idleHeap, _ := heapStats(ctx, srv.profiler(), true)
	srv.stop()
	notes := fmt.Sprintf("fresh store (the demo user only), %v after ready: %s", settle, idle.detail())
	if h := heapNote(idleHeap); h != "" {
		notes += "; after a GC: " + h
	}
	notes += "; target ≤ 50 MB"
	idleRow := row{Target: targetJwtrevoke, Store: db.Kind, Scenario: "memory idle", Latency: true, Mem: &idle, Notes: notes}
	rows := []row{idleRow}

	n := b.cfg.revs
	now := time.Now().UTC().Truncate(time.Second)
	created, expires := now.Add(-time.Minute), now.Add(24*time.Hour)
	t0 := time.Now()
	if db.Driver == "" && db.RedisPrefix == "" || db.UsersDriver == "" {
		return rows, fmt.Errorf("memory: bulk insert of revocations written for sqlite, postgres, mysql and redis only, not %s", db.Kind)
	}
	uid, err := demoUserIDOf(ctx, db)
	if err != nil {
		return rows, err
	}
	if db.Driver != "" {
		err = bulkSQLRevocations(ctx, db.Driver, db.DSN, db.Dialect, n, uid, created, expires)
	} else {
		err = bulkRedisRevocations(ctx, db.RedisURL, db.RedisPrefix, n, uid, created, expires)
	}
	if err != nil {
		return rows, fmt.Errorf("bulk insert of revocations: %w", err)
	}
	inserted := time.Since(t0)
	b.logf("  inserted %d live revocations in %v", n, inserted.Round(time.Millisecond))

	t0 = time.Now()
	srv, err = b.server(ctx, "jwtrevoke", env, "--no-migrate", "--pprof", "127.0.0.1:0")
	if err != nil {
		return rows, err
	}
	defer srv.stop()
	readyAt := time.Now()
	ready := readyAt.Sub(t0)
	loaded, ok := revocationsLoaded(srv.Logs())
	if !ok {
		return rows, fmt.Errorf("no revocations_loaded in the server's log:\n%s", srv.Logs())
	}
	if loaded < n {
		return rows, fmt.Errorf("the server loaded %d revocations, want %d", loaded, n)
	}
	atReady, err := readMem(srv.Pid())
	if err != nil {
		return rows, err
	}
	b.logf("  ready in %v with %d revocations: %s, peak %s MB", ready.Round(time.Millisecond), loaded, atReady.detail(), mib(atReady.HWM))
	p, err := login(ctx, newClient(), srv.URL)
	if err != nil {
		return rows, err
	}
	// A long load leaves the server's revocation view stale at first (its
	// age is the load's): fail-closed, it refuses for one poll interval,
	// from its first staleness check (within 50 ms) to its next poll (100
	// ms). The run measures the steady state: it starts after that, once
	// a request succeeds; the notes count the episodes.
	if d := time.Until(readyAt.Add(500 * time.Millisecond)); d > 0 {
		time.Sleep(d)
	}
	req := meRequest(srv.URL, p)
	firstOK, refused, err := waitOK(ctx, req, 30*time.Second)
	if err != nil {
		return rows, err
	}
	r, err := b.ld.run(ctx, req)
	if err != nil {
		return rows, err
	}
	after, err := readMem(srv.Pid())
	if err != nil {
		return rows, err
	}
	heap, _ := heapStats(ctx, srv.profiler(), true)
	notes = fmt.Sprintf("%d live revocations (nine in ten of sessions, one in ten of tokens) inserted in %v; the server was ready in %v (revocations_loaded=%d): %s, peak %s MB; after %v of GET /api/me/ (req/s, p50, p99): %s",
		n, fmtDur(inserted), fmtDur(ready), loaded, atReady.detail(), mib(atReady.HWM), b.cfg.duration, after.detail())
	if h := heapNote(heap); h != "" {
		notes += "; after a GC: " + h
	}
	notes += "; target ≤ 200 MB"
	if refused > 0 {
		notes += fmt.Sprintf("; GET /api/me/ was refused %d times until %v after %v past ready, before the run", refused, fmtDur(firstOK), fmtDur(500*time.Millisecond))
	}
	if k := strings.Count(srv.Logs(), "revocations are out of date"); k > 0 {
		notes += fmt.Sprintf("; the server reported its revocation view stale %d time(s), first with age=%s (the load's duration: fail-closed, it answers 503 until its next poll)", k, firstStaleAge(srv.Logs()))
	}
	if e := errorNotes(r, srv); e != "" {
		notes += "; " + e
	}
	rows = append(rows, row{Target: targetJwtrevoke, Store: db.Kind, Scenario: "memory " + sci(n), result: r, Mem: &after, Notes: notes})
	return rows, nil
}

// demoUserID is the demo user's id in db's users table.
func demoUserID(ctx context.Context, sqldb *sql.DB, dialect string) (int64, error) {
	var uid int64
	q := "SELECT id FROM users_user WHERE email = ?"
	if dialect == "postgres" {
		q = "SELECT id FROM users_user WHERE email = $1"
	}
	if err := sqldb.QueryRowContext(ctx, q, demoEmail).Scan(&uid); err != nil {
		return 0, fmt.Errorf("demo user: %w", err)
	}
	return uid, nil
}

// sqlTime is t as a literal of dialect (t is UTC and whole seconds).
func sqlTime(dialect string, t time.Time) string {
	if dialect == "postgres" {
		return "TIMESTAMPTZ '" + t.Format("2006-01-02 15:04:05") + "+00'"
	}
	return "'" + t.Format("2006-01-02 15:04:05") + "'"
}

// revocationInserts are the statements inserting n live revocations of
// user uid, in batches of 100,000 numbered as bulkExpired numbers its rows:
// every tenth revokes a token (jti), the others a session, with ids of 32
// hex digits like the server's. MySQL's seqs are given, from maxSeq+1:
// InnoDB's INSERT ... SELECT would take them in chunks, leaving holes.
func revocationInserts(dialect string, n int, uid, maxSeq int64, created, expires time.Time) []string {
	id := func(num string) string { return "md5('bench-rev-' || CAST(" + num + " AS TEXT))" }
	switch dialect {
	case "sqlite":
		id = func(string) string { return "lower(hex(randomblob(16)))" }
	case "mysql":
		id = func(num string) string { return "md5(CONCAT('bench-rev-', CAST(" + num + " AS CHAR)))" }
	}
	const batch = 100_000
	digits := "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
	nums := fmt.Sprintf("(SELECT a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d AS x FROM %[1]s a CROSS JOIN %[1]s b CROSS JOIN %[1]s c CROSS JOIN %[1]s e CROSS JOIN %[1]s f) nums", digits)
	var out []string
	for off := 0; off < n; off += batch {
		num := fmt.Sprintf("(%d + x)", off)
		seqCol, seqVal := "", ""
		if dialect == "mysql" {
			seqCol, seqVal = "seq, ", fmt.Sprintf("%d + %s, ", maxSeq+1, num)
		}
		out = append(out, fmt.Sprintf(`INSERT INTO jwtrevoke_revocation (%[8]ssession_id, jti, user_id, not_before, expires_at, reason, created_at)
SELECT %[9]sCASE WHEN %[1]s %% 10 = 0 THEN '' ELSE %[2]s END, CASE WHEN %[1]s %% 10 = 0 THEN %[2]s ELSE '' END, %[3]d, NULL, %[4]s, 'logout', %[5]s
FROM %[6]s WHERE %[1]s < %[7]d ORDER BY x`, num, id(num), uid, sqlTime(dialect, expires), sqlTime(dialect, created), nums, n, seqCol, seqVal))
	}
	return out
}

// demoUserIDOf is the demo user's id in db's users table.
func demoUserIDOf(ctx context.Context, db *dbEnv) (int64, error) {
	sqldb, err := sql.Open(db.UsersDriver, db.UsersDSN)
	if err != nil {
		return 0, err
	}
	defer sqldb.Close()
	return demoUserID(ctx, sqldb, db.UsersDialect)
}

// bulkSQLRevocations inserts n live revocations of user uid.
func bulkSQLRevocations(ctx context.Context, driver, dsn, dialect string, n int, uid int64, created, expires time.Time) error {
	sqldb, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer sqldb.Close()
	var maxSeq int64
	if err := sqldb.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM jwtrevoke_revocation").Scan(&maxSeq); err != nil {
		return err
	}
	for _, q := range revocationInserts(dialect, n, uid, maxSeq, created, expires) {
		if _, err := sqldb.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// redisRevocations writes revocations ARGV[1] .. ARGV[1]+ARGV[2]-1 as
// store/redis's revoke scripts do (revlog, revs:exp,
// revoked:session:<id> or revoked:token:<id>), then raises seq:rev.
var redisRevocations = goredis.NewScript(`
local P = KEYS[1]
local from, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local uid, exp, created = ARGV[3], ARGV[4], ARGV[5]
for i = from, from + n - 1 do
  local id = string.sub(redis.sha1hex(P .. i), 1, 32)
  local sid, jti = id, ''
  if i % 10 == 0 then
    sid, jti = '', id
    redis.call('SET', P .. 'revoked:token:' .. id, '1', 'PXAT', exp)
  else
    redis.call('SET', P .. 'revoked:session:' .. id, '1', 'PXAT', exp)
  end
  local seq = tostring(i)
  local js = cjson.encode({seq = seq, session_id = sid, jti = jti, user_id = uid, not_before = '',
    expires_at = exp, reason = 'logout', created_at = created})
  redis.call('ZADD', P .. 'revlog', i, js)
  redis.call('ZADD', P .. 'revs:exp', exp, seq)
end
local cur = tonumber(redis.call('GET', P .. 'seq:rev') or '0')
if cur < from + n - 1 then redis.call('SET', P .. 'seq:rev', from + n - 1) end
return n
`)

// bulkRedisRevocations writes n live revocations of user uid under the
// key prefix of TOKEN_STORE's URL parameter prefix.
func bulkRedisRevocations(ctx context.Context, redisURL, prefix string, n int, uid int64, created, expires time.Time) error {
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	opts.ReadTimeout = time.Minute
	c := goredis.NewClient(opts)
	defer c.Close()
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	const batch = 20_000
	for from := 1; from <= n; from += batch {
		k := min(batch, n-from+1)
		if err := redisRevocations.Run(ctx, c, []string{"{jwtrevoke}:" + prefix + ":"}, from, k, uid, ms(expires), ms(created)).Err(); err != nil {
			return err
		}
	}
	return nil
}

// waitOK repeats req until it gets req.Want, for at most limit: it
// returns how long that took and how many other answers came first.
func waitOK(ctx context.Context, req request, limit time.Duration) (time.Duration, int, error) {
	c := newClient()
	t0 := time.Now()
	refused := 0
	for {
		st, body, err := call(ctx, c, req.Method, req.URL, req.Bearer, req.Body)
		if err == nil && st == req.Want {
			return time.Since(t0), refused, nil
		}
		refused++
		if time.Since(t0) > limit || ctx.Err() != nil {
			return 0, refused, fmt.Errorf("%s %s: no %d within %v: last %d %v %.200s", req.Method, req.URL, req.Want, limit, st, err, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// firstStaleAge is the age the server's first "revocations are out of
// date" line gave, "?" when none.
func firstStaleAge(logs string) string {
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "revocations are out of date") {
			if m := ageRe.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		}
	}
	return "?"
}

var ageRe = regexp.MustCompile(`age=(\S+)`)
