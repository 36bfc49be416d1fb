package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/jwtrevoke/jwtrevoke"
)

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "conf.json")
	if err := os.WriteFile(file, []byte(`{"ACCESS_TOKEN_LIFETIME": "10m", "REFRESH_TOKEN_LIFETIME": 7200,
		"ROTATE_REFRESH_TOKENS": true, "LEEWAY": "3s", "AUTH_HEADER_TYPES": ["Bearer", "JWT"],
		"LOGIN_RATE_PER_IP": "30/minute", "TRUSTED_PROXIES": ["10.0.0.0/8", "192.0.2.7", "::ffff:172.16.0.0/108"],
		"HTTP_READ_HEADER_TIMEOUT": 2, "HTTP_MAX_HEADER_BYTES": 32768}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addSettingFlags(fs)
	if err := fs.Parse([]string{"--config", file, "--leeway", "5s", "--http-max-header-bytes", "8192", "--http-write-timeout", "1m"}); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(fs, env("JWTREVOKE_REFRESH_TOKEN_LIFETIME", "3h", "JWTREVOKE_LEEWAY", "4s",
		"JWTREVOKE_LOGIN_RATE_PER_ACCOUNT", "3/15m", "JWTREVOKE_HTTP_IDLE_TIMEOUT", "1m", "JWTREVOKE_HTTP_MAX_HEADER_BYTES", "16384",
		"JWTREVOKE_ARGON2_MEMORY_KIB", "12288", "JWTREVOKE_ARGON2_TIME", "3", "JWTREVOKE_LOGIN_RATE_SCOPE", "instance",
		"JWTREVOKE_AUDIT_RETENTION", "720h", "JWTREVOKE_AUTH_TOKEN_CLASSES", "access, Sliding"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Settings
	checks := []struct {
		name      string
		got, want any
		source    string
	}{
		{"ACCESS_TOKEN_LIFETIME", s.AccessTokenLifetime, 10 * time.Minute, "file"},
		{"REFRESH_TOKEN_LIFETIME", s.RefreshTokenLifetime, 3 * time.Hour, "env"},
		{"LEEWAY", s.Leeway, 5 * time.Second, "flag"},
		{"ROTATE_REFRESH_TOKENS", s.RotateRefreshTokens, true, "file"},
		{"BLACKLIST_AFTER_ROTATION", s.BlacklistAfterRotation, true, "default"},
		{"DATABASE", c.Database, DefaultDatabase, "default"},
		{"AUTH_HEADER_TYPES", len(s.AuthHeaderTypes), 2, "file"},
		{"LOGIN_RATE_PER_IP", s.LoginRatePerIP, jwtrevoke.Rate{N: 30, Per: time.Minute}, "file"},
		{"LOGIN_RATE_PER_ACCOUNT", s.LoginRatePerAccount, jwtrevoke.Rate{N: 3, Per: 15 * time.Minute}, "env"},
		{"TRUSTED_PROXIES", fmt.Sprint(s.TrustedProxies), "[10.0.0.0/8 192.0.2.7/32 172.16.0.0/12]", "file"},
		{"HTTP_READ_HEADER_TIMEOUT", c.HTTP.ReadHeaderTimeout, 2 * time.Second, "file"},
		{"HTTP_READ_TIMEOUT", c.HTTP.ReadTimeout, 10 * time.Second, "default"},
		{"HTTP_WRITE_TIMEOUT", c.HTTP.WriteTimeout, time.Minute, "flag"},
		{"HTTP_IDLE_TIMEOUT", c.HTTP.IdleTimeout, time.Minute, "env"},
		{"HTTP_MAX_HEADER_BYTES", c.HTTP.MaxHeaderBytes, 8192, "flag"},
		{"ARGON2_MEMORY_KIB", c.Argon2.Memory, uint32(12288), "env"},
		{"ARGON2_TIME", c.Argon2.Time, uint32(3), "env"},
		{"ARGON2_PARALLELISM", c.Argon2.Threads, uint8(1), "default"},
		{"LOGIN_RATE_SCOPE", s.LoginRateScope, "instance", "env"},
		{"AUDIT_RETENTION", s.AuditRetention, 720 * time.Hour, "env"},
		{"AUTH_TOKEN_CLASSES", fmt.Sprint(s.AuthTokenClasses), "[access sliding]", "env"},
		{"REFRESH_REUSE_GRACE", s.RefreshReuseGrace, time.Duration(0), "default"},
	}
	for _, ch := range checks {
		if ch.got != ch.want || c.Source[ch.name] != ch.source {
			t.Errorf("%s = %v from %s, want %v from %s", ch.name, ch.got, c.Source[ch.name], ch.want, ch.source)
		}
	}
}

func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"unknown": `{"NOPE": 1}`,
		"badjson": `{`,
		"baddur":  `{"LEEWAY": "soon"}`,
		// Login hardening and HTTP limits.
		"badrate":        `{"LOGIN_RATE_PER_IP": "lots"}`,
		"rateperiod":     `{"LOGIN_RATE_PER_ACCOUNT": "5/fortnight"}`,
		"ratenumber":     `{"LOGIN_RATE_PER_ACCOUNT": 5}`,
		"badproxy":       `{"TRUSTED_PROXIES": "10.0.0.0/33"}`,
		"proxyname":      `{"TRUSTED_PROXIES": ["10.0.0.0/8", "proxy.internal"]}`,
		"headerbytes":    `{"HTTP_MAX_HEADER_BYTES": 10}`,
		"headerbytesnan": `{"HTTP_MAX_HEADER_BYTES": "64k"}`,
		"zerotimeout":    `{"HTTP_READ_TIMEOUT": "0s"}`,
		"headerslower":   `{"HTTP_READ_HEADER_TIMEOUT": "1m", "HTTP_READ_TIMEOUT": "10s"}`,
		// Weaker than OWASP's argon2id minimums, and other bad values.
		"weakargon":     `{"ARGON2_MEMORY_KIB": 4096}`,
		"weakargontime": `{"ARGON2_MEMORY_KIB": 9216, "ARGON2_TIME": 1}`,
		"argonthreads":  `{"ARGON2_PARALLELISM": 300}`,
		"ratescope":     `{"LOGIN_RATE_SCOPE": "galaxy"}`,
		"authclass":     `{"AUTH_TOKEN_CLASSES": "refresh"}`,
		"graceneg":      `{"REFRESH_REUSE_GRACE": "-1s"}`,
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name+".json")
			if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			addSettingFlags(fs)
			if err := fs.Parse([]string{"--config", file}); err != nil {
				t.Fatal(err)
			}
			if _, err := loadConfig(fs, env()); err == nil {
				t.Fatal("loadConfig accepted a bad file")
			}
		})
	}
}

func TestSQLitePath(t *testing.T) {
	cases := map[string]string{
		"sqlite:///jwtrevoke.db":     "jwtrevoke.db",
		"sqlite:///data/auth.db":     "data/auth.db",
		"sqlite:////var/lib/auth.db": "/var/lib/auth.db",
		"sqlite://rel.db":            "rel.db",
	}
	for url, want := range cases {
		if got, err := sqlitePath(url); err != nil || got != want {
			t.Errorf("sqlitePath(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
	for _, bad := range []string{"sqlite://", "sqlite:///", "sqlite:////"} {
		if _, err := sqlitePath(bad); err == nil {
			t.Errorf("sqlitePath(%q) accepted", bad)
		}
	}
}

// TestConfigHardeningDefaults: the login limits are on and the HTTP
// limits set when nothing is configured.
func TestConfigHardeningDefaults(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addSettingFlags(fs)
	c, err := loadConfig(fs, env())
	if err != nil {
		t.Fatal(err)
	}
	s := c.Settings
	if s.LoginRatePerIP.String() != "20/minute" || s.LoginRatePerAccount.String() != "5/minute" || len(s.TrustedProxies) != 0 {
		t.Errorf("login defaults: per IP %s, per account %s, trusted proxies %v", s.LoginRatePerIP, s.LoginRatePerAccount, s.TrustedProxies)
	}
	if c.HTTP != DefaultHTTPLimits() || c.HTTP.ReadHeaderTimeout != 5*time.Second || c.HTTP.MaxHeaderBytes != 64<<10 {
		t.Errorf("HTTP defaults: %+v", c.HTTP)
	}
	// "none" turns a login limit off.
	if err := fs.Parse([]string{"--login-rate-per-ip", "none", "--login-rate-per-account", "off"}); err != nil {
		t.Fatal(err)
	}
	if c, err = loadConfig(fs, env()); err != nil || c.Settings.LoginRatePerIP.Enabled() || c.Settings.LoginRatePerAccount.Enabled() {
		t.Fatalf("limits off: %v %v %v", c.Settings.LoginRatePerIP, c.Settings.LoginRatePerAccount, err)
	}
}

// TestConfigCommand: jwtrevoke config prints every setting once with its
// value and source (default, file, env, flag), in text and JSON, and never
// a secret: the signing key (given or read from SIGNING_KEY_FILE) and the
// passwords of store URLs are masked.
func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "conf.json")
	if err := os.WriteFile(file, []byte(`{"ACCESS_TOKEN_LIFETIME": "10m", "FLUSH_EXPIRED_EVERY": 3600, "LOG_FORMAT": "json",
		"TOKEN_STORE": "redis://:redis-secret-pw@cache:6379/0"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	const dbSecret, querySecret = "db-secret-pw", "query-secret-pw"
	getenv := env("JWTREVOKE_CONFIG", file, "JWTREVOKE_SIGNING_KEY", testKey, "JWTREVOKE_SHUTDOWN_TIMEOUT", "42s",
		"JWTREVOKE_DATABASE", "postgres://app:"+dbSecret+"@db:5432/auth?sslmode=disable&password="+querySecret)
	secrets := []string{testKey, dbSecret, querySecret, "redis-secret-pw"}
	code, out, errs := run(t, getenv, "", "config", "--log-level", "debug", "--metrics-addr", "127.0.0.1:9090")
	if code != 0 {
		t.Fatalf("config: code %d err %q", code, errs)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("config prints the secret %q:\n%s", s, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(settings)+1 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("%d lines for %d settings:\n%s", len(lines), len(settings), out)
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f[1:]
	}
	for name, want := range map[string][]string{
		"ACCESS_TOKEN_LIFETIME":  {"10m0s", "file"},
		"FLUSH_EXPIRED_EVERY":    {"1h0m0s", "file"},
		"LOG_FORMAT":             {"json", "file"},
		"TOKEN_STORE":            {"redis://:xxxxx@cache:6379/0", "file"},
		"SIGNING_KEY":            {"xxxxx", "env"},
		"SHUTDOWN_TIMEOUT":       {"42s", "env"},
		"DATABASE":               {"postgres://app:xxxxx@db:5432/auth?password=xxxxx&sslmode=disable", "env"},
		"LOG_LEVEL":              {"debug", "flag"},
		"METRICS_ADDR":           {"127.0.0.1:9090", "flag"},
		"METRICS":                {"true", "default"},
		"ACCESS_LOG":             {"true", "default"},
		"REFRESH_TOKEN_LIFETIME": {"24h0m0s", "default"},
		"ISSUER":                 {`""`, "default"},
	} {
		if got := rows[name]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}

	code, out, errs = run(t, getenv, "", "config", "--json")
	if code != 0 {
		t.Fatalf("config --json: code %d err %q", code, errs)
	}
	var list []effective
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != len(settings) {
		t.Fatalf("config --json: %v, %d entries:\n%s", err, len(list), out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("config --json prints the secret %q", s)
		}
	}
	byName := map[string]effective{}
	for _, e := range list {
		byName[e.Name] = e
	}
	if e := byName["SIGNING_KEY"]; !e.Masked || e.Value != "xxxxx" || e.Source != "env" {
		t.Errorf("SIGNING_KEY in JSON: %+v", e)
	}
	if e := byName["LEEWAY"]; e.Masked || e.Value != "0s" || e.Source != "default" {
		t.Errorf("LEEWAY in JSON: %+v", e)
	}

	// A key read from SIGNING_KEY_FILE is masked too.
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, env("JWTREVOKE_SIGNING_KEY_FILE", keyFile), "", "config")
	if code != 0 || strings.Contains(out, testKey) || !strings.Contains(out, keyFile) {
		t.Errorf("config with SIGNING_KEY_FILE: code %d:\n%s", code, out)
	}
}

// TestOpsSettings: the operations settings' defaults and refusals.
func TestOpsSettings(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addSettingFlags(fs)
	c, err := loadConfig(fs, env())
	if err != nil {
		t.Fatal(err)
	}
	if c.Ops != DefaultOps() || !c.Ops.Metrics || !c.Ops.AccessLog || c.Ops.FlushEvery != 0 || c.Ops.ShutdownTimeout != 15*time.Second {
		t.Errorf("defaults: %+v", c.Ops)
	}
	for name, kv := range map[string][]string{
		"format":   {"JWTREVOKE_LOG_FORMAT", "xml"},
		"level":    {"JWTREVOKE_LOG_LEVEL", "loud"},
		"shutdown": {"JWTREVOKE_SHUTDOWN_TIMEOUT", "0s"},
		"flush":    {"JWTREVOKE_FLUSH_EXPIRED_EVERY", "-1h"},
		"metrics":  {"JWTREVOKE_METRICS", "maybe"},
		"addr":     {"JWTREVOKE_METRICS_ADDR", "127.0.0.1:9090", "JWTREVOKE_METRICS", "false"},
	} {
		if _, err := loadConfig(fs, env(kv...)); err == nil {
			t.Errorf("%s: %v accepted", name, kv)
		}
	}
}
