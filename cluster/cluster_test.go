package cluster_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/proctest"
	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
)

const signingKey = "cluster-test-signing-key-0123456789abcdef"

// bound is how long a revocation may take to reach another instance
// before an acceptance counts as false: REVOCATION_MAX_STALENESS.
const bound = time.Second

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jwtrevoke-cluster")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if bin, err = proctest.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "build jwtrevoke:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}

func post(t testing.TB, url, bearer string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func me(t testing.TB, base, access string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/me/", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s/api/me/: %v", base, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func rounds(t *testing.T) int {
	if s := os.Getenv("JWTREVOKE_CLUSTER_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if testing.Short() {
		return 50
	}
	return 1000
}

// TestClusterPostgres runs three instances on one PostgreSQL database.
func TestClusterPostgres(t *testing.T) {
	runCluster(t, []string{"JWTREVOKE_DATABASE=" + testdb.Postgres(t)}, 0)
}

// TestClusterRedis runs three instances with users in one PostgreSQL
// database and tokens, sessions and revocations in one Redis (TOKEN_STORE),
// where revocations travel by pub/sub.
func TestClusterRedis(t *testing.T) {
	runCluster(t, []string{"JWTREVOKE_DATABASE=" + testdb.Postgres(t), "JWTREVOKE_TOKEN_STORE=" + testdb.Redis(t)}, 0)
}

// TestClusterMySQL runs three instances on one MariaDB database, where
// revocations travel by polling.
func TestClusterMySQL(t *testing.T) {
	runCluster(t, []string{"JWTREVOKE_DATABASE=" + testdb.MySQL(t), "JWTREVOKE_REVOCATION_POLL_INTERVAL=20ms"}, 0)
}

// TestClusterMongo runs three instances on one MongoDB database (FerretDB
// in tests), where revocations travel by polling.
//
// At most 300 rounds: FerretDB's SQLite backend answers filters on fields
// other than _id by scanning the collection, so with three instances polling
// every 20 ms a round costs time in proportion to the rounds before it (300
// rounds take ~50 s here, 1,000 would take ~8 min). A real MongoDB server
// uses the store's indexes.
func TestClusterMongo(t *testing.T) {
	runCluster(t, []string{"JWTREVOKE_DATABASE=" + testdb.Mongo(t), "JWTREVOKE_REVOCATION_POLL_INTERVAL=20ms"}, 300)
}

// runCluster (at most maxRounds rounds, when not 0) logs a user in on A, logs out on A, and measures how long B
// and C take to refuse the access token; an acceptance after bound is a
// false accept. Halfway through, C is killed with SIGKILL and restarted:
// from its first answer it must refuse every token revoked so far.
func runCluster(t *testing.T, env []string, maxRounds int) {
	env = append(env, "JWTREVOKE_SIGNING_KEY="+signingKey, "JWTREVOKE_LOGIN_RATE_PER_IP=none")
	start := func(extra ...string) *proctest.Proc {
		return proctest.Start(t, bin, env, append([]string{"serve", "--addr", "127.0.0.1:0"}, extra...)...)
	}
	a := start("--demo") // migrates and creates the user first
	b, c := start("--no-migrate"), start("--no-migrate")
	n := rounds(t)
	if maxRounds > 0 {
		n = min(n, maxRounds)
	}
	var (
		lat     []time.Duration
		revoked []string
		false_  int
	)
	for i := range n {
		if i == n/2 {
			c.Kill()
			c = start("--no-migrate")
			for _, tok := range revoked {
				if st := me(t, c.URL, tok); st != http.StatusUnauthorized {
					t.Fatalf("restarted instance accepted a token revoked before its restart: status %d", st)
				}
			}
		}
		st, pair := post(t, a.URL+"/api/token/", "", map[string]string{"email": "test@email.com", "password": "test123456"})
		if st != 200 {
			t.Fatalf("round %d: login: %d %v", i, st, pair)
		}
		access, refresh := pair["access"].(string), pair["refresh"].(string)
		for _, p := range []*proctest.Proc{b, c} {
			if st := me(t, p.URL, access); st != 200 {
				t.Fatalf("round %d: fresh token refused by %s: %d", i, p.URL, st)
			}
		}
		if st, body := post(t, a.URL+"/api/logout/", access, map[string]string{"refresh": refresh}); st != 205 {
			t.Fatalf("round %d: logout: %d %v", i, st, body)
		}
		loggedOut := time.Now()
		if st := me(t, a.URL, access); st != http.StatusUnauthorized {
			t.Fatalf("round %d: the instance that logged out accepted the token: %d", i, st)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, p := range []*proctest.Proc{b, c} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					st := me(t, p.URL, access)
					d := time.Since(loggedOut)
					if st == http.StatusUnauthorized {
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
						return
					}
					if d > bound {
						mu.Lock()
						false_++
						mu.Unlock()
						return
					}
					time.Sleep(200 * time.Microsecond)
				}
			}()
		}
		wg.Wait()
		revoked = append(revoked, access)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	t.Logf("%d logouts, %d propagation checks: p50 %v, p99 %v, max %v; false accepts after %v: %d",
		n, len(lat), pct(0.50), pct(0.99), pct(1), bound, false_)
	if false_ > 0 {
		t.Fatalf("%d false accepts: a revoked token was still accepted %v after the logout", false_, bound)
	}
}
