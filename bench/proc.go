package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	goredis "github.com/redis/go-redis/v9"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	mongoopts "go.mongodb.org/mongo-driver/v2/mongo/options"
	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/jwtrevoke/jwtrevoke/store/mysql"
)

// cleanups run at the end, last first (processes, schemas, key prefixes).
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atExit(f func()) {
	cleanupMu.Lock()
	cleanups = append(cleanups, f)
	cleanupMu.Unlock()
}

func runCleanups() {
	cleanupMu.Lock()
	fs := cleanups
	cleanups = nil
	cleanupMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// proc is a server process the bench started.
type proc struct {
	URL      string
	PprofURL string // jwtrevoke serve --pprof's profiler, "" when none
	name     string
	cmd      *exec.Cmd
	mu       sync.Mutex
	logs     strings.Builder
	done     chan struct{}
	once     sync.Once
}

var urlRe = regexp.MustCompile(`url=(http://\S+)`)

// profilerLine is how jwtrevoke serve --pprof announces its profiler's
// url=, logged before the server's own.
const profilerLine = `msg="profiler listening"`

// inheritedEnv is the bench's environment without the settings that would
// change what is measured: the argon2id parameters (bench servers keep the
// server's defaults).
func inheritedEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JWTREVOKE_ARGON2_") {
			out = append(out, kv)
		}
	}
	return out
}

// startProc runs exe and waits until it logs url=http://...
func startProc(ctx context.Context, name, dir string, env []string, exe string, args ...string) (*proc, error) {
	p := &proc{name: name, cmd: exec.Command(exe, args...), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = append(inheritedEnv(), env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout = io.Discard
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	atExit(p.stop)
	found := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			if p.logs.Len() < 1<<20 {
				p.logs.WriteString(line + "\n")
			}
			p.mu.Unlock()
			if m := urlRe.FindStringSubmatch(line); m != nil && strings.Contains(line, profilerLine) {
				p.mu.Lock()
				p.PprofURL = m[1]
				p.mu.Unlock()
			} else if m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case p.URL = <-found:
		return p, nil
	case <-p.done:
		p.stop()
		return nil, fmt.Errorf("%s exited before serving; log:\n%s", name, p.Logs())
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not report its address in 60 s; log:\n%s", name, p.Logs())
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// Pid is the process's id.
func (p *proc) Pid() int { return p.cmd.Process.Pid }

// profiler returns the --pprof URL, "" when none.
func (p *proc) profiler() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.PprofURL
}

func (p *proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// stop ends the process: SIGTERM, then SIGKILL after 5 s.
func (p *proc) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
		_ = p.cmd.Wait()
	})
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitHTTP polls url until it answers at all.
func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s did not answer within %v", url, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func uniqueName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "jwtrevoke_bench_" + hex.EncodeToString(b[:])
}

// storeURLs are the servers' base URLs.
type storeURLs struct {
	Postgres, MySQL, Redis, Mongo string
}

// dbEnv is a fresh store: the server's environment and, for SQL stores,
// how to reach the database directly (bulk inserts of the flush and
// memory scenarios).
type dbEnv struct {
	Kind    string
	Env     []string
	Driver  string // database/sql driver of DATABASE, "" when none or not SQL for tokens (redis)
	DSN     string
	Shared  bool // several processes can share it
	Dialect string
	// Users is where users_user is (SQL): the same database, or for
	// redis the SQLite file; "" driver when none (mongo, memory).
	UsersDriver, UsersDSN, UsersDialect string
	// RedisURL and RedisPrefix are TOKEN_STORE's, for redis.
	RedisURL, RedisPrefix string
}

// freshStore creates an empty database, schema or key prefix for kind;
// it is dropped at exit.
func freshStore(ctx context.Context, kind string, u storeURLs, tmp string) (*dbEnv, error) {
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp(tmp, "sqlite-")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "bench.db")
		return &dbEnv{Kind: kind, Env: []string{"JWTREVOKE_DATABASE=sqlite:///" + path}, Driver: "sqlite", DSN: path, Shared: true, Dialect: "sqlite",
			UsersDriver: "sqlite", UsersDSN: path, UsersDialect: "sqlite"}, nil
	case "memory":
		return &dbEnv{Kind: kind, Env: []string{"JWTREVOKE_DATABASE=memory://"}}, nil
	case "postgres":
		dsn, err := freshPostgres(u.Postgres)
		if err != nil {
			return nil, err
		}
		return &dbEnv{Kind: kind, Env: []string{"JWTREVOKE_DATABASE=" + dsn}, Driver: "pgx", DSN: dsn, Shared: true, Dialect: "postgres",
			UsersDriver: "pgx", UsersDSN: dsn, UsersDialect: "postgres"}, nil
	case "mysql":
		raw, err := freshMySQL(u.MySQL)
		if err != nil {
			return nil, err
		}
		dsn, err := mysql.DSN(raw)
		if err != nil {
			return nil, err
		}
		return &dbEnv{Kind: kind, Env: []string{"JWTREVOKE_DATABASE=" + raw}, Driver: "mysql", DSN: dsn, Shared: true, Dialect: "mysql",
			UsersDriver: "mysql", UsersDSN: dsn, UsersDialect: "mysql"}, nil
	case "mongo":
		raw, err := freshMongo(ctx, u.Mongo)
		if err != nil {
			return nil, err
		}
		return &dbEnv{Kind: kind, Env: []string{"JWTREVOKE_DATABASE=" + raw}, Shared: true}, nil
	case "redis":
		// Users in a SQLite file, tokens, sessions and revocations in Redis.
		sq, err := freshStore(ctx, "sqlite", u, tmp)
		if err != nil {
			return nil, err
		}
		r, prefix, err := freshRedis(u.Redis)
		if err != nil {
			return nil, err
		}
		return &dbEnv{Kind: kind, Env: append(sq.Env, "JWTREVOKE_TOKEN_STORE="+r), Shared: true,
			UsersDriver: sq.UsersDriver, UsersDSN: sq.UsersDSN, UsersDialect: sq.UsersDialect, RedisURL: u.Redis, RedisPrefix: prefix}, nil
	}
	return nil, fmt.Errorf("unknown store %q (want sqlite, postgres, mysql, redis, mongo or memory)", kind)
}

func freshPostgres(base string) (string, error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	schema := uniqueName()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		return "", fmt.Errorf("create schema on %s: %w", redact(base), err)
	}
	atExit(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func freshMySQL(base string) (string, error) {
	dsn, err := mysql.DSN(base)
	if err != nil {
		return "", err
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		return "", err
	}
	db := uniqueName()
	if _, err := admin.Exec("CREATE DATABASE " + db + " CHARACTER SET utf8mb4"); err != nil {
		admin.Close()
		return "", fmt.Errorf("create database on %s: %w", redact(base), err)
	}
	atExit(func() {
		_, _ = admin.Exec("DROP DATABASE " + db)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + db
	return u.String(), nil
}

func freshMongo(ctx context.Context, base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	db := uniqueName()
	u.Path = "/" + db
	client, err := mongodrv.Connect(mongoopts.Client().ApplyURI(base))
	if err != nil {
		return "", err
	}
	atExit(func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = client.Database(db).Drop(c)
		_ = client.Disconnect(c)
	})
	return u.String(), nil
}

// freshRedis returns TOKEN_STORE's URL with a fresh key prefix, and the
// prefix.
func freshRedis(base string) (string, string, error) {
	opts, err := goredis.ParseURL(base)
	if err != nil {
		return "", "", fmt.Errorf("redis URL: %w", err)
	}
	prefix := uniqueName()
	atExit(func() {
		c := goredis.NewClient(opts)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// UNLINK in batches: the memory scenario leaves millions of keys.
		var batch []string
		iter := c.Scan(ctx, 0, "{jwtrevoke}:"+prefix+":*", 5000).Iterator()
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 5000 {
				c.Unlink(ctx, batch...)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			c.Unlink(ctx, batch...)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		return "", "", err
	}
	q := u.Query()
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String(), prefix, nil
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// cpuTime is the CPU time (user and system, all threads) that process
// pid has used so far, from /proc/PID/stat in clock ticks of 10 ms (Linux's
// USER_HZ).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPUTime(string(b))
}

// parseCPUTime reads utime and stime, the 14th and 15th fields of a
// /proc/PID/stat line; the command name, the second field, is in
// parentheses and may itself hold spaces and parentheses.
func parseCPUTime(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat line without a command name: %q", stat)
	}
	f := strings.Fields(stat[i+1:]) // from the 3rd field, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("stat line with %d fields after the name", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat field %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}
