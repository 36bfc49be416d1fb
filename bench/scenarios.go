package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	demoEmail    = "test@email.com"
	demoPassword = "test123456"
	signingKey   = "jwtrevoke-bench-signing-key-0123456789abcdef"
)

// row is one line of the results table.
type row struct {
	Target   string // targetJwtrevoke, targetBaseline, targetSeed
	Store    string
	Scenario string
	result
	Latency    bool     // p50/p99 only: req/s does not apply
	Mem        *memStat // the server's memory at the end of the run, nil when not read
	VsBaseline float64  // req/s ratio, 0 when not applicable
	VsSeed     float64
	Notes      string
}

const (
	targetJwtrevoke = "jwtrevoke"
	targetBaseline  = "net/http baseline"
	targetSeed      = "seed (Django+SimpleJWT)"
)

// bench holds what every scenario needs.
type bench struct {
	cfg  config
	bin  string // the jwtrevoke binary
	root string // the module's directory
	tmp  string
	ld   *loader
	logf func(format string, args ...any)
	// baseExe is the bare baseline's binary: the me scenario runs it in
	// turns with jwtrevoke (paired).
	baseExe string
}

// addNote appends note to r's notes.
func (r *row) addNote(note string) {
	if r.Notes != "" {
		r.Notes += "; "
	}
	r.Notes += note
}

// serverEnv is the environment of a bench server on db.
func serverEnv(db *dbEnv, extra ...string) []string {
	env := append([]string{
		"JWTREVOKE_SIGNING_KEY=" + signingKey,
		"JWTREVOKE_LOGIN_RATE_PER_IP=none",
		"JWTREVOKE_LOGIN_RATE_PER_ACCOUNT=none",
		"JWTREVOKE_ACCESS_TOKEN_LIFETIME=1h",
		// The bare baseline logs nothing per request either; metrics
		// (on by default) stay on.
		"JWTREVOKE_ACCESS_LOG=false",
	}, db.Env...)
	return append(env, extra...)
}

func (b *bench) server(ctx context.Context, name string, env []string, args ...string) (*proc, error) {
	if b.cfg.profile != "" && !slices.Contains(args, "--pprof") {
		args = append(args, "--pprof", "127.0.0.1:0")
	}
	return startProc(ctx, name, b.tmp, env, b.bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
}

// run runs one scenario on one store with a fresh database.
func (b *bench) run(ctx context.Context, store, scenario string) ([]row, error) {
	db, err := freshStore(ctx, store, b.cfg.urls, b.tmp)
	if err != nil {
		return nil, err
	}
	switch scenario {
	case "me", "refresh", "login":
		return b.fixed(ctx, db, scenario)
	case "memory":
		return b.memory(ctx, db)
	case "rotate":
		return b.rotate(ctx, db)
	case "logout":
		return b.logout(ctx, db)
	case "propagation":
		return b.propagation(ctx, db)
	case "flush":
		return b.flush(ctx, db)
	}
	return nil, fmt.Errorf("unknown scenario %q", scenario)
}

// meRequest and refreshRequest are the fixed requests of me and refresh.
func meRequest(base string, p pair) request {
	return request{Method: http.MethodGet, URL: base + "/api/me/", Bearer: p.Access, Want: http.StatusOK}
}

func refreshRequest(base string, p pair) request {
	body, _ := json.Marshal(map[string]string{"refresh": p.Refresh})
	return request{Method: http.MethodPost, URL: base + "/api/token/refresh/", Body: body, Want: http.StatusOK}
}

// loginRequest is login's fixed request: POST /api/token/ with the demo
// user's credentials. A login is a password hash check (tens of
// milliseconds), so wrk waits up to 30 s for an answer instead of 2 s.
func loginRequest(base string) request {
	body, _ := json.Marshal(map[string]string{"email": demoEmail, "password": demoPassword})
	return request{Method: http.MethodPost, URL: base + "/api/token/", Body: body, Want: http.StatusOK, Timeout: 30 * time.Second}
}

// passwordHashOf is the demo user's stored password hash, "" when it
// cannot be read (no SQL users table).
func passwordHashOf(ctx context.Context, driver, dsn, dialect string) (string, error) {
	if driver == "" {
		return "", nil
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	q := "SELECT password FROM users_user WHERE email = ?"
	if dialect == "postgres" {
		q = "SELECT password FROM users_user WHERE email = $1"
	}
	var h string
	err = db.QueryRowContext(ctx, q, demoEmail).Scan(&h)
	return h, err
}

// hashParams describes a Django-format password hash's algorithm and
// parameters, without its salt and hash.
func hashParams(h string) string {
	f := strings.Split(h, "$")
	switch {
	case len(f) == 6 && f[0] == "argon2" && f[1] == "argon2id":
		// argon2$argon2id$v=19$m=19456,t=2,p=1$salt$hash
		var m, t, p int
		if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &p); err == nil {
			return fmt.Sprintf("argon2id m=%d KiB (%s MiB), t=%d, p=%d", m, strconv.FormatFloat(float64(m)/1024, 'f', -1, 64), t, p)
		}
	case len(f) == 4 && strings.HasPrefix(f[0], "pbkdf2_"):
		// pbkdf2_sha256$260000$salt$hash
		if n, err := strconv.Atoi(f[1]); err == nil {
			return fmt.Sprintf("PBKDF2-%s, %s iterations", strings.ToUpper(strings.TrimPrefix(f[0], "pbkdf2_")), fmtRate(float64(n)))
		}
	case len(f) > 0 && f[0] != "":
		return f[0]
	}
	return "unrecognised hash"
}

func (b *bench) fixed(ctx context.Context, db *dbEnv, scenario string) ([]row, error) {
	srv, err := b.server(ctx, "jwtrevoke", serverEnv(db), "--demo")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	p, err := login(ctx, newClient(), srv.URL)
	if err != nil {
		return nil, err
	}
	req := meRequest(srv.URL, p)
	var notes []string
	switch scenario {
	case "refresh":
		req = refreshRequest(srv.URL, p)
	case "login":
		req = loginRequest(srv.URL)
		h, err := passwordHashOf(ctx, db.UsersDriver, db.UsersDSN, db.UsersDialect)
		switch {
		case err != nil:
			notes = append(notes, "stored hash unread: "+err.Error())
		case h != "":
			notes = append(notes, hashParams(h)+" (the server's defaults, read from the stored hash)")
		default:
			notes = append(notes, "the server's default argon2id parameters")
		}
	}
	var (
		r     result
		ratio float64
	)
	span := b.cfg.duration
	if scenario == "me" && b.baseExe != "" {
		span *= 3 // its turns alternate with two baselines' (see paired)
	}
	defer b.profiling(ctx, srv, db.Kind, scenario, span)()
	if scenario == "me" && b.baseExe != "" {
		var pn []string
		r, ratio, pn, err = b.paired(ctx, srv, req)
		notes = append(notes, pn...)
	} else {
		r, err = b.ld.run(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	var mem *memStat
	if m, err := readMem(srv.Pid()); err == nil {
		mem = &m
	}
	if e := errorNotes(r, srv); e != "" {
		notes = append(notes, e)
	}
	return []row{{Target: targetJwtrevoke, Store: db.Kind, Scenario: scenario, result: r, Mem: mem, VsBaseline: ratio, Notes: strings.Join(notes, "; ")}}, nil
}

// rotate: every client keeps its own chain, each refresh answering the
// next refresh token (ROTATE_REFRESH_TOKENS=true, the old one blacklisted).
func (b *bench) rotate(ctx context.Context, db *dbEnv) ([]row, error) {
	srv, err := b.server(ctx, "jwtrevoke", serverEnv(db, "JWTREVOKE_ROTATE_REFRESH_TOKENS=true"), "--demo")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	n := b.cfg.conns
	pairs, err := loginMany(ctx, srv.URL, n, 2, 2*time.Minute)
	if err != nil {
		return nil, err
	}
	chains := make([]string, n)
	for i := range chains {
		chains[i] = pairs[i%len(pairs)].Refresh
	}
	relogins := 0
	var mu sync.Mutex
	url := srv.URL + "/api/token/refresh/"
	defer b.profiling(ctx, srv, db.Kind, "rotate", b.cfg.duration)()
	r := runGo(ctx, n, b.cfg.duration, func(ctx context.Context, w int, c *http.Client) (time.Duration, string, bool) {
		body, _ := json.Marshal(map[string]string{"refresh": chains[w]})
		t0 := time.Now()
		st, raw, err := call(ctx, c, http.MethodPost, url, "", body)
		lat := time.Since(t0)
		var next pair
		bad := outcome(st, err, http.StatusOK)
		if bad == "" && (json.Unmarshal(raw, &next) != nil || next.Refresh == "") {
			bad = "no refresh token in the answer"
		}
		if bad == "" {
			chains[w] = next.Refresh
			return lat, "", true
		}
		if ctx.Err() != nil {
			return -1, bad, false
		}
		// A broken chain: start a new one (not timed).
		if p, err := login(ctx, c, srv.URL); err == nil {
			chains[w] = p.Refresh
			mu.Lock()
			relogins++
			mu.Unlock()
		}
		return lat, bad, true
	})
	notes := fmt.Sprintf("%d chains", n)
	if relogins > 0 {
		notes += fmt.Sprintf(", %d broken (re-logged in)", relogins)
	}
	if e := errorNotes(r, srv); e != "" {
		notes += "; " + e
	}
	return []row{{Target: targetJwtrevoke, Store: db.Kind, Scenario: "rotate", result: r, Notes: notes}}, nil
}

// logout: sessions are opened before the timed phase (issuetoken: as a
// login records them, without the password hash), then each client logs
// out one session after another.
func (b *bench) logout(ctx context.Context, db *dbEnv) ([]row, error) {
	srv, err := b.server(ctx, "jwtrevoke", serverEnv(db), "--demo")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	t0 := time.Now()
	pairs, err := b.issueMany(ctx, serverEnv(db), b.cfg.sessions, 4)
	if err != nil && len(pairs) == 0 {
		return nil, err
	}
	b.logf("  %d sessions opened with issuetoken in %v (not timed)", len(pairs), time.Since(t0).Round(time.Millisecond))
	queue := make(chan pair, len(pairs))
	for _, p := range pairs {
		queue <- p
	}
	close(queue)
	url := srv.URL + "/api/logout/"
	defer b.profiling(ctx, srv, db.Kind, "logout", b.cfg.duration)()
	r := runGo(ctx, b.cfg.conns, b.cfg.duration, func(ctx context.Context, _ int, c *http.Client) (time.Duration, string, bool) {
		p, ok := <-queue
		if !ok {
			return -1, "", false
		}
		body, _ := json.Marshal(map[string]string{"refresh": p.Refresh})
		t0 := time.Now()
		st, _, err := call(ctx, c, http.MethodPost, url, p.Access, body)
		return time.Since(t0), outcome(st, err, http.StatusResetContent), true
	})
	notes := fmt.Sprintf("%d sessions pre-created (jwtrevoke issuetoken)", len(pairs))
	if e := errorNotes(r, srv); e != "" {
		notes += "; " + e
	}
	return []row{{Target: targetJwtrevoke, Store: db.Kind, Scenario: "logout", result: r, Notes: notes}}, nil
}

// propagation: two instances on one store; log out on A, poll B until it
// refuses the access token.
func (b *bench) propagation(ctx context.Context, db *dbEnv) ([]row, error) {
	if !db.Shared {
		return nil, fmt.Errorf("propagation needs a store two processes share (not %s)", db.Kind)
	}
	env := serverEnv(db)
	a, err := b.server(ctx, "jwtrevoke A", env, "--demo")
	if err != nil {
		return nil, err
	}
	defer a.stop()
	bb, err := b.server(ctx, "jwtrevoke B", env, "--no-migrate")
	if err != nil {
		return nil, err
	}
	defer bb.stop()
	t0 := time.Now()
	pairs, err := b.issueMany(ctx, env, b.cfg.rounds, 4)
	if err != nil && len(pairs) == 0 {
		return nil, err
	}
	b.logf("  %d sessions opened with issuetoken in %v (not timed)", len(pairs), time.Since(t0).Round(time.Millisecond))
	const bound = time.Second
	ca, cb := newClient(), newClient()
	var lat []time.Duration
	falseAccepts, skipped := 0, 0
	me := func(base, tok string) int {
		st, _, err := call(ctx, cb, http.MethodGet, base+"/api/me/", tok, nil)
		if err != nil {
			return 0
		}
		return st
	}
	limit := time.Now().Add(max(3*b.cfg.duration, 2*time.Minute))
	for _, p := range pairs {
		if ctx.Err() != nil || time.Now().After(limit) {
			break
		}
		if st := me(bb.URL, p.Access); st != http.StatusOK {
			skipped++
			continue
		}
		body, _ := json.Marshal(map[string]string{"refresh": p.Refresh})
		st, raw, err := call(ctx, ca, http.MethodPost, a.URL+"/api/logout/", p.Access, body)
		if err != nil || st != http.StatusResetContent {
			return nil, fmt.Errorf("logout on A: %d %v %.200s", st, err, raw)
		}
		loggedOut := time.Now()
		for {
			st := me(bb.URL, p.Access)
			d := time.Since(loggedOut)
			if st == http.StatusUnauthorized {
				lat = append(lat, d)
				break
			}
			if d > bound {
				falseAccepts++
				// Wait (bounded) for it to arrive anyway, so that the next
				// round starts clean.
				for time.Since(loggedOut) < 5*time.Second && me(bb.URL, p.Access) != http.StatusUnauthorized {
					time.Sleep(time.Millisecond)
				}
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	r := result{Tool: "go", Requests: len(lat) + falseAccepts, Errors: falseAccepts + skipped}
	summarize(&r, lat)
	r.RPS = 0
	notes := fmt.Sprintf("%d rounds; false accepts after %v: %d; max %v", r.Requests, bound, falseAccepts, fmtDur(r.Max))
	if skipped > 0 {
		notes += fmt.Sprintf("; %d fresh tokens refused by B (skipped)", skipped)
	}
	return []row{{Target: targetJwtrevoke, Store: db.Kind, Scenario: "propagation", result: r, Latency: true, Notes: notes}}, nil
}

// flush: 1e6 expired outstanding tokens (a tenth of them blacklisted) and
// a tenth as many expired sessions, then flushexpiredtokens, timed, while
// one client logs in and out and records how long each call took.
func (b *bench) flush(ctx context.Context, db *dbEnv) ([]row, error) {
	if db.Driver == "" {
		return nil, fmt.Errorf("flush: bulk insert written for sqlite, postgres and mysql only, not %s", db.Kind)
	}
	env := serverEnv(db)
	srv, err := b.server(ctx, "jwtrevoke", env, "--demo")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	sqldb, err := sql.Open(db.Driver, db.DSN)
	if err != nil {
		return nil, err
	}
	defer sqldb.Close()
	t0 := time.Now()
	if err := bulkExpired(ctx, sqldb, db.Dialect, b.cfg.flushRows); err != nil {
		return nil, fmt.Errorf("bulk insert: %w", err)
	}
	b.logf("  inserted %d expired outstanding tokens in %v", b.cfg.flushRows, time.Since(t0).Round(time.Millisecond))

	// Login/logout latencies before the flush, then during it.
	cycle := func(ctx context.Context, c *http.Client, logins, logouts *[]time.Duration) {
		t0 := time.Now()
		p, err := login(ctx, c, srv.URL)
		if err != nil {
			return
		}
		*logins = append(*logins, time.Since(t0))
		body, _ := json.Marshal(map[string]string{"refresh": p.Refresh})
		t0 = time.Now()
		if st, _, err := call(ctx, c, http.MethodPost, srv.URL+"/api/logout/", p.Access, body); err == nil && st == http.StatusResetContent {
			*logouts = append(*logouts, time.Since(t0))
		}
	}
	c := newClient()
	// cycleFor runs cycles for d, returning their logins' and logouts' times.
	cycleFor := func(d time.Duration) (logins, logouts []time.Duration) {
		cctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		for cctx.Err() == nil {
			cycle(cctx, c, &logins, &logouts)
		}
		return logins, logouts
	}
	beforeIn, beforeOut := cycleFor(3 * time.Second)

	var during struct {
		sync.Mutex
		in, out []time.Duration
	}
	stop := make(chan struct{})
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		var in, out []time.Duration
		defer func() { during.Lock(); during.in, during.out = in, out; during.Unlock() }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			cycle(ctx, c, &in, &out)
		}
	}()
	fctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(fctx, b.bin, "flushexpiredtokens")
	cmd.Dir = b.tmp
	cmd.Env = append(os.Environ(), env...)
	t0 = time.Now()
	out, ferr := cmd.CombinedOutput()
	took := time.Since(t0)
	close(stop)
	<-loopDone
	if ferr != nil {
		return nil, fmt.Errorf("flushexpiredtokens: %v\n%s", ferr, out)
	}
	b.logf("  %s", strings.TrimSpace(string(out)))
	during.Lock()
	in, outs := during.in, during.out
	during.Unlock()
	// The control: as long again without a flush, after it. The slowest of
	// hundreds of logins on a busy machine is slow whatever the flush
	// does; the slowest of the control says how slow.
	afterIn, afterOut := cycleFor(took)
	r := result{Tool: "go", Requests: len(outs), Elapsed: took}
	summarize(&r, outs)
	r.RPS = float64(b.cfg.flushRows) / took.Seconds()
	maxOf := func(d []time.Duration) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return slices.Max(d)
	}
	medianOf := func(d []time.Duration) time.Duration {
		if len(d) == 0 {
			return 0
		}
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)/2]
	}
	// The stall is what a call took beyond its usual time: a login is an
	// argon2id hash first, tens of milliseconds of CPU that the flush does
	// not cause, so the slowest call during the flush is also given as its
	// excess over the median of the same call before the flush.
	stall := func(during, before []time.Duration) time.Duration {
		return max(maxOf(during)-medianOf(before), 0)
	}
	notes := fmt.Sprintf("%d rows flushed in %v (req/s column: rows/s); max login/logout stall %v / %v over the pre-flush median %v / %v (slowest call during the flush %v / %v; %d cycles; before the flush slowest %v / %v; in as long again after the flush, without one, slowest %v / %v, %d cycles); p50/p99: logouts during the flush",
		b.cfg.flushRows, fmtDur(took), fmtDur(stall(in, beforeIn)), fmtDur(stall(outs, beforeOut)), fmtDur(medianOf(beforeIn)), fmtDur(medianOf(beforeOut)),
		fmtDur(maxOf(in)), fmtDur(maxOf(outs)), len(outs), fmtDur(maxOf(beforeIn)), fmtDur(maxOf(beforeOut)),
		fmtDur(maxOf(afterIn)), fmtDur(maxOf(afterOut)), len(afterOut))
	return []row{{Target: targetJwtrevoke, Store: db.Kind, Scenario: "flush", result: r, Notes: notes}}, nil
}

// bulkExpired inserts n expired outstanding tokens (every tenth
// blacklisted) and n/10 expired sessions, in batches of 100,000, numbers
// made by cross joins of digits (portable, no recursion limits). Every
// value is a constant of this file, written into the SQL as a literal.
func bulkExpired(ctx context.Context, db *sql.DB, dialect string, n int) error {
	var uid int64
	q := "SELECT id FROM users_user WHERE email = ?"
	if dialect == "postgres" {
		q = "SELECT id FROM users_user WHERE email = $1"
	}
	if err := db.QueryRowContext(ctx, q, demoEmail).Scan(&uid); err != nil {
		return fmt.Errorf("demo user: %w", err)
	}
	created, expires := "'2020-01-01 00:00:00'", "'2020-01-02 00:00:00'"
	name := func(expr string) string { return "'bench-expired-' || CAST(" + expr + " AS TEXT)" }
	switch dialect {
	case "postgres":
		created, expires = "TIMESTAMPTZ '2020-01-01 00:00:00+00'", "TIMESTAMPTZ '2020-01-02 00:00:00+00'"
	case "mysql":
		name = func(expr string) string { return "CONCAT('bench-expired-', CAST(" + expr + " AS CHAR))" }
	}
	token := "'" + strings.Repeat("x", 280) + "'" // about a real refresh token's length
	const batch = 100_000
	digits := "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
	nums := fmt.Sprintf("(SELECT a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d AS x FROM %[1]s a CROSS JOIN %[1]s b CROSS JOIN %[1]s c CROSS JOIN %[1]s e CROSS JOIN %[1]s f) nums", digits)
	for off := 0; off < n; off += batch {
		num := fmt.Sprintf("(%d + x)", off)
		tok := fmt.Sprintf(`INSERT INTO token_blacklist_outstandingtoken (token, created_at, expires_at, user_id, jti)
SELECT %s, %s, %s, %d, %s FROM %s WHERE %s < %d`, token, created, expires, uid, name(num), nums, num, n)
		if _, err := db.ExecContext(ctx, tok); err != nil {
			return err
		}
		if off < n/10 {
			sess := fmt.Sprintf(`INSERT INTO jwtrevoke_session (id, user_id, created_at, expires_at, revoked_at, ip, user_agent)
SELECT %s, %d, %s, %s, NULL, '', '' FROM %s WHERE %s < %d`, name(num), uid, created, expires, nums, num, n/10)
			if _, err := db.ExecContext(ctx, sess); err != nil {
				return err
			}
		}
	}
	_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id)
SELECT %s, id FROM token_blacklist_outstandingtoken WHERE jti LIKE 'bench-expired-%%' AND id %% 10 = 0`, created))
	return err
}

// seedDBs are the seed's database configurations (-seed-db).
var seedDBs = []string{"sqlite", "postgres", "postgres-persist"}

// seedDBNote says what a seed configuration is.
func seedDBNote(db string) string {
	switch db {
	case "sqlite":
		return "SQLite (Django's default database)"
	case "postgres":
		return "PostgreSQL, CONN_MAX_AGE=0 (a new connection per request)"
	case "postgres-persist":
		return "PostgreSQL, CONN_MAX_AGE=600 (a connection kept per worker)"
	}
	return db
}

// seed runs the seed on each -seed-db configuration.
func (b *bench) seed(ctx context.Context, scenarios []string) ([]row, error) {
	var rows []row
	var errs []string
	for _, db := range b.cfg.seedDBs {
		if ctx.Err() != nil {
			break
		}
		b.logf("seed on %s: migrating Django, starting gunicorn", db)
		rs, err := b.seedOn(ctx, db, scenarios)
		rows = append(rows, rs...)
		if err != nil {
			errs = append(errs, fmt.Sprintf("on %s: %v", db, err))
		}
	}
	if len(errs) > 0 {
		return rows, errors.New(strings.Join(errs, "; "))
	}
	return rows, nil
}

// seedOn runs the seed: the interop Django project (SimpleJWT) under
// gunicorn with 2 sync workers, with bench/seed/bench_seed_settings.py on
// database configuration db: a fresh SQLite file or PostgreSQL schema.
func (b *bench) seedOn(ctx context.Context, db string, scenarios []string) ([]row, error) {
	djdir := filepath.Join(b.root, "interop", "django")
	seedDir := filepath.Join(b.root, "bench", "seed")
	env := []string{
		"INTEROP_SIGNING_KEY=" + signingKey,
		"DJANGO_SETTINGS_MODULE=bench_seed_settings",
		"BENCH_SEED_DB=" + db,
		"PYTHONPATH=" + strings.Trim(seedDir+string(os.PathListSeparator)+os.Getenv("PYTHONPATH"), string(os.PathListSeparator)),
		"PYTHONDONTWRITEBYTECODE=1",
	}
	var hashDriver, hashDSN, hashDialect string
	switch db {
	case "sqlite":
		dir, err := os.MkdirTemp(b.tmp, "seed-sqlite-")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "db.sqlite3")
		// The interop settings read these even when they are not used.
		env = append(env, "BENCH_SEED_SQLITE="+path, "INTEROP_DB_NAME=unused", "INTEROP_DB_SCHEMA=public")
		hashDriver, hashDSN, hashDialect = "sqlite", path, "sqlite"
	case "postgres", "postgres-persist":
		dsn, err := freshPostgres(b.cfg.urls.Postgres)
		if err != nil {
			return nil, err
		}
		u, err := parseURL(dsn)
		if err != nil {
			return nil, err
		}
		env = append(env,
			"INTEROP_DB_HOST="+u.Hostname(), "INTEROP_DB_PORT="+u.Port(),
			"INTEROP_DB_NAME="+strings.TrimPrefix(u.Path, "/"),
			"INTEROP_DB_USER="+u.User.Username(),
			"INTEROP_DB_SCHEMA="+u.Query().Get("search_path"))
		if p, ok := u.User.Password(); ok {
			env = append(env, "INTEROP_DB_PASSWORD="+p)
		}
		hashDriver, hashDSN, hashDialect = "pgx", dsn, "postgres"
	default:
		return nil, fmt.Errorf("unknown seed database %q (want %s)", db, strings.Join(seedDBs, ", "))
	}
	manage := func(args ...string) error {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, b.cfg.python, append([]string{"manage.py"}, args...)...)
		cmd.Dir = djdir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("manage.py %s: %v\n%s", args[0], err, out)
		}
		return nil
	}
	if err := manage("migrate", "--noinput"); err != nil {
		return nil, err
	}
	if err := manage("shell", "-c", fmt.Sprintf("from users.models import User; User.objects.create_user(%q, %q)", demoEmail, demoPassword)); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// gunicorn logs "Listening at: http://..." — startProc waits for url=,
	// so wait for HTTP instead.
	g := exec.Command(b.cfg.python, "-m", "gunicorn", "--workers", "2", "--worker-class", "sync",
		"--bind", addr, "--chdir", djdir, "--pythonpath", seedDir,
		"--log-level", "warning", "bench_seed_wsgi:application")
	g.Env = append(os.Environ(), env...)
	glog := &syncWriter{w: &strings.Builder{}}
	g.Stdout, g.Stderr = glog, glog
	if err := g.Start(); err != nil {
		return nil, fmt.Errorf("gunicorn: %w", err)
	}
	gp := &proc{name: "gunicorn", cmd: g, done: make(chan struct{})}
	go func() { _ = g.Wait(); close(gp.done) }()
	stopG := func() {
		gp.once.Do(func() {
			_ = g.Process.Signal(os.Interrupt)
			select {
			case <-gp.done:
			case <-time.After(10 * time.Second):
				_ = g.Process.Kill()
				<-gp.done
			}
		})
	}
	atExit(stopG)
	defer stopG()
	base := "http://" + addr
	if err := waitHTTP(ctx, base+"/api/me/", time.Minute); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, glog.String())
	}
	p, err := login(ctx, newClient(), base)
	if err != nil {
		return nil, err
	}
	var rows []row
	for _, sc := range scenarios {
		var req request
		notes := []string{"gunicorn, 2 sync workers", seedDBNote(db)}
		switch sc {
		case "me":
			req = meRequest(base, p)
		case "refresh":
			req = refreshRequest(base, p)
		case "login":
			req = loginRequest(base)
			if h, err := passwordHashOf(ctx, hashDriver, hashDSN, hashDialect); err != nil {
				notes = append(notes, "stored hash unread: "+err.Error())
			} else {
				notes = append(notes, hashParams(h)+" (Django's default hasher, read from the stored hash)")
			}
		default:
			continue
		}
		b.logf("seed on %s: %s ...", db, sc)
		logged := len(glog.String())
		r, err := b.ld.run(ctx, req)
		if err != nil {
			return rows, fmt.Errorf("seed %s: %w", sc, err)
		}
		var mem *memStat
		if m, err := treeMem(g.Process.Pid); err == nil {
			mem = &m
			notes = append(notes, fmt.Sprintf("RSS summed over gunicorn's %d processes", m.N))
		}
		if e := errorNotes(r, nil); e != "" {
			notes = append(notes, e)
		}
		if bad := gunicornErrors(glog.String()[logged:]); bad != "" {
			notes = append(notes, "gunicorn logged: "+truncate(bad, 300))
		}
		row := row{Target: targetSeed, Store: db, Scenario: sc, result: r, Mem: mem, Notes: strings.Join(notes, "; ")}
		b.logf("  %s", row.summary())
		rows = append(rows, row)
	}
	return rows, nil
}

// gunicornErrors is the first line of gunicorn's log that reports an
// error or a worker timeout.
func gunicornErrors(log string) string {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "[ERROR]") || strings.Contains(line, "[CRITICAL]") || strings.Contains(line, "Traceback") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// baseline measures the bare net/http server on GET /api/me/.
func (b *bench) baseline(ctx context.Context, exe string) (row, error) {
	p, err := startProc(ctx, "baseline", b.tmp, nil, exe)
	if err != nil {
		return row{}, err
	}
	defer p.stop()
	r, err := b.ld.run(ctx, request{Method: http.MethodGet, URL: p.URL + "/api/me/", Bearer: "x", Want: http.StatusOK})
	if err != nil {
		return row{}, err
	}
	var mem *memStat
	if m, err := readMem(p.Pid()); err == nil {
		mem = &m
	}
	return row{Target: targetBaseline, Store: "-", Scenario: "me", result: r, Mem: mem, Notes: errorNotes(r, p)}, nil
}

// errorNotes says what a run's errors were: wrk's counts and the
// server's first warning or error.
func errorNotes(r result, srv *proc) string {
	if r.Errors == 0 {
		return ""
	}
	var parts []string
	if r.Detail != "" {
		parts = append(parts, r.Detail)
	}
	if srv != nil {
		for _, line := range strings.Split(srv.Logs(), "\n") {
			if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
				parts = append(parts, "server logged: "+truncate(line, 300))
				break
			}
		}
	}
	return strings.Join(parts, "; ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w.Len() > 1<<20 {
		return len(p), nil
	}
	return s.w.Write(p)
}
