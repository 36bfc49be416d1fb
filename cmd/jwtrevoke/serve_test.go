package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeCutsOffSlowLoris: a client that sends its headers a byte at a
// time and never finishes them is disconnected by the server once
// HTTP_READ_HEADER_TIMEOUT (200ms here) has passed, although it never
// stops sending; the server goes on serving others.
func TestServeCutsOffSlowLoris(t *testing.T) {
	base := server(t, env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey,
		"JWTREVOKE_HTTP_READ_HEADER_TIMEOUT", "200ms", "JWTREVOKE_HTTP_READ_TIMEOUT", "1h"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		head := "POST /api/token/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1<<20)
		n := 0
		defer func() { sent <- n }()
		for ; n < len(head); n++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{head[n]}); err != nil {
				return // the server closed the connection
			}
		}
	}()
	// The guard is far above the timeout, not a bound on it: what is
	// checked is that the server closes the connection at all.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(conn)
	close(stop)
	n := <-sent
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("the server kept a connection open whose headers never ended (%d bytes sent)", n)
	case err != nil && !errors.Is(err, syscall.ECONNRESET):
		t.Fatalf("read: %v", err)
	}
	if len(got) != 0 {
		t.Logf("the server answered %q before closing", got)
	}
	if n < 10 {
		t.Fatalf("only %d bytes sent before the close: the client was not trickling", n)
	}
	// Others are still served.
	if st, _ := call(t, "GET", base+"/api/me/", "", nil); st != http.StatusUnauthorized {
		t.Fatalf("after the slow client: GET /api/me/ = %d, want 401", st)
	}
}

// TestServeMaxHeaderBytes: headers over HTTP_MAX_HEADER_BYTES get 431.
func TestServeMaxHeaderBytes(t *testing.T) {
	base := server(t, env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey,
		"JWTREVOKE_HTTP_MAX_HEADER_BYTES", "8192"))
	req, _ := http.NewRequest("GET", base+"/api/me/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 32<<10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("32 KiB of headers: %d, want 431", res.StatusCode)
	}
	if st, _ := call(t, "GET", base+"/api/me/", "", nil); st != http.StatusUnauthorized {
		t.Fatalf("small headers: %d, want 401", st)
	}
}

// TestServeLoginRateLimits: serve applies LOGIN_RATE_PER_IP,
// LOGIN_RATE_PER_ACCOUNT and TRUSTED_PROXIES from the environment.
func TestServeLoginRateLimits(t *testing.T) {
	base := server(t, env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey,
		"JWTREVOKE_LOGIN_RATE_PER_IP", "2/minute", "JWTREVOKE_LOGIN_RATE_PER_ACCOUNT", "1/minute",
		"JWTREVOKE_TRUSTED_PROXIES", "127.0.0.1", "JWTREVOKE_LOGIN_RATE_SCOPE", "instance"), "--demo")
	post := func(xff, password string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/token/",
			strings.NewReader(`{"email":"test@email.com","password":"`+password+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", xff)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(bufio.NewReader(res.Body))
		return res.StatusCode, res.Header.Get("Retry-After"), string(body)
	}
	for _, c := range []struct {
		xff, password string
		status        int
		retryAfter    string
	}{
		{"198.51.100.1", demoPassword, 200, ""},
		{"198.51.100.1", "wrong", 401, ""},
		{"198.51.100.1", demoPassword, 429, "30"}, // per IP: 2/minute
		{"198.51.100.2", "wrong", 429, "60"},      // per account: 1 failure/minute
		{"198.51.100.2", demoPassword, 429, "60"},
	} {
		st, ra, body := post(c.xff, c.password)
		// Retry-After counts down from the period's share while the test
		// runs (real time, argon2 hashing): allow a few seconds of it.
		want, _ := strconv.Atoi(c.retryAfter)
		got, _ := strconv.Atoi(ra)
		if st != c.status || (ra == "") != (c.retryAfter == "") || got > want || got < want-5 {
			t.Fatalf("login from %s: %d Retry-After %q %s; want %d Retry-After %q", c.xff, st, ra, body, c.status, c.retryAfter)
		}
	}
}

// TestServeLoginRateLimitsShared: with the default LOGIN_RATE_SCOPE
// (cluster), two servers on one database share the per-account count:
// failures on one throttle the account on the other.
func TestServeLoginRateLimitsShared(t *testing.T) {
	getenv := env("JWTREVOKE_DATABASE", dbURL(t), "JWTREVOKE_SIGNING_KEY", testKey, "JWTREVOKE_LOGIN_RATE_PER_ACCOUNT", "2/hour")
	a := server(t, getenv, "--demo")
	b := server(t, getenv)
	for i, base := range []string{a, b} {
		if st, body := call(t, "POST", base+"/api/token/", "", map[string]string{"email": demoEmail, "password": "wrong"}); st != 401 {
			t.Fatalf("failure %d: %d %v", i+1, st, body)
		}
	}
	for _, base := range []string{a, b} {
		st, body := call(t, "POST", base+"/api/token/", "", map[string]string{"email": demoEmail, "password": demoPassword})
		if st != 429 || !strings.HasPrefix(fmt.Sprint(body["detail"]), "Request was throttled. Expected available in ") {
			t.Fatalf("login on %s after 2 failures spread over two servers: %d %v, want 429", base, st, body)
		}
	}
}

// TestServePprof: --pprof serves Go's profiler on its own address, and the
// API's address does not.
func TestServePprof(t *testing.T) {
	addr := freeAddr(t)
	base := server(t, env("JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_SIGNING_KEY", testKey), "--pprof", addr)
	for url, want := range map[string]int{"http://" + addr + "/debug/pprof/": 200, base + "/debug/pprof/": 404} {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", url, res.StatusCode, want)
		}
	}
}
