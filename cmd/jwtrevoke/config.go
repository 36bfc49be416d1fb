package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/password"
)

// Config is everything a command needs to open the store and run the
// service: the SimpleJWT settings plus where the data lives.
type Config struct {
	Settings jwtrevoke.Settings
	Database string
	// TokenStore, when set, holds tokens, sessions and revocations instead
	// of Database (redis://...).
	TokenStore string
	// Key files, read into Settings by resolveKeys.
	SigningKeyFile, VerifyingKeyFile, PreviousKeyFiles string
	// Source says where each setting's value came from: default, file, env
	// or flag.
	Source map[string]string
	// HTTP are serve's HTTP server limits.
	HTTP HTTPLimits
	// Argon2 are the argon2id parameters new password hashes get
	// (ARGON2_MEMORY_KIB, ARGON2_TIME, ARGON2_PARALLELISM).
	Argon2 password.Hasher
	// Ops are serve's operations settings: metrics, logs, shutdown and
	// scheduled flushes.
	Ops Ops
}

// DefaultDatabase is the embedded store in the working directory.
const DefaultDatabase = "sqlite:///jwtrevoke.db"

// setting describes one configurable value: its SimpleJWT name (also the
// config file key and, prefixed with JWTREVOKE_, the environment variable)
// and its flag.
type setting struct {
	name   string
	flag   string
	usage  string
	secret bool // its value is never printed (jwtrevoke config masks it)
	// duration: a number in the config file is a number of seconds.
	duration bool
	// redact, when set, is how jwtrevoke config prints the value (URLs
	// with passwords).
	redact func(string) string
	set    func(c *Config, v string) error
	get    func(c *Config) string
}

func durationSetting(name, usage string, f func(*jwtrevoke.Settings) *time.Duration) setting {
	return durationField(name, usage, func(c *Config) *time.Duration { return f(&c.Settings) })
}

// durationField is a setting held in a time.Duration of the Config.
func durationField(name, usage string, f func(*Config) *time.Duration) setting {
	return setting{name: name, usage: usage, duration: true,
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration such as 5s, 5m or 24h", name, v)
			}
			*f(c) = d
			return nil
		},
		get: func(c *Config) string { return f(c).String() },
	}
}

func boolSetting(name, usage string, f func(*jwtrevoke.Settings) *bool) setting {
	return boolField(name, usage, func(c *Config) *bool { return f(&c.Settings) })
}

// boolField is a setting held in a bool of the Config.
func boolField(name, usage string, f func(*Config) *bool) setting {
	return setting{name: name, usage: usage,
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not true or false", name, v)
			}
			*f(c) = b
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(*f(c)) },
	}
}

func stringSetting(name, usage string, secret bool, f func(*Config) *string) setting {
	return setting{name: name, usage: usage, secret: secret,
		set: func(c *Config, v string) error { *f(c) = v; return nil },
		get: func(c *Config) string { return *f(c) },
	}
}

// settings is the table of every configurable value, in the order they
// are documented.
var settings = []setting{
	urlSetting("DATABASE", "where users and tokens live: sqlite:///path/to.db, postgres://, mysql://, mongodb:// or memory://",
		func(c *Config) *string { return &c.Database }),
	urlSetting("TOKEN_STORE", "optional: keep tokens, sessions and revocations in redis://host:6379/N instead of DATABASE (users stay there)",
		func(c *Config) *string { return &c.TokenStore }),
	durationSetting("ACCESS_TOKEN_LIFETIME", "lifetime of access tokens",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.AccessTokenLifetime }),
	durationSetting("REFRESH_TOKEN_LIFETIME", "lifetime of refresh tokens",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.RefreshTokenLifetime }),
	durationSetting("SLIDING_TOKEN_LIFETIME", "lifetime (exp) of sliding tokens",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.SlidingTokenLifetime }),
	durationSetting("SLIDING_TOKEN_REFRESH_LIFETIME", "how long (refresh_exp) a sliding token can be refreshed",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.SlidingTokenRefreshLifetime }),
	{name: "AUTH_TOKEN_CLASSES", usage: "comma-separated token types that authenticate requests: access, sliding",
		set: func(c *Config, v string) error {
			var types []jwtrevoke.TokenType
			for _, t := range strings.Split(v, ",") {
				if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
					types = append(types, jwtrevoke.TokenType(t))
				}
			}
			c.Settings.AuthTokenClasses = types
			return nil
		},
		get: func(c *Config) string {
			var names []string
			for _, t := range c.Settings.AuthTokenClasses {
				names = append(names, string(t))
			}
			return strings.Join(names, ",")
		}},
	boolSetting("ROTATE_REFRESH_TOKENS", "a refresh also returns a new refresh token",
		func(s *jwtrevoke.Settings) *bool { return &s.RotateRefreshTokens }),
	boolSetting("BLACKLIST_AFTER_ROTATION", "blacklist the old refresh token when rotating",
		func(s *jwtrevoke.Settings) *bool { return &s.BlacklistAfterRotation }),
	durationSetting("REFRESH_REUSE_GRACE", "with rotation: how long a rotated refresh token may be retried for the same answer; later uses revoke the session",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.RefreshReuseGrace }),
	{name: "AUTH_HEADER_TYPES", usage: "comma-separated accepted authorization header types",
		set: func(c *Config, v string) error {
			var types []string
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					types = append(types, t)
				}
			}
			c.Settings.AuthHeaderTypes = types
			return nil
		},
		get: func(c *Config) string { return strings.Join(c.Settings.AuthHeaderTypes, ",") }},
	stringSetting("AUTH_HEADER_NAME", "the header that carries the token", false,
		func(c *Config) *string { return &c.Settings.AuthHeaderName }),
	stringSetting("ALGORITHM", "signing algorithm: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA", false,
		func(c *Config) *string { return &c.Settings.Algorithm }),
	stringSetting("SIGNING_KEY", "HMAC secret or PEM private key (default: generated once and kept in the store)", true,
		func(c *Config) *string { return &c.Settings.SigningKey }),
	stringSetting("SIGNING_KEY_FILE", "file holding SIGNING_KEY (e.g. private.pem from 'jwtrevoke genkey')", false,
		func(c *Config) *string { return &c.SigningKeyFile }),
	stringSetting("VERIFYING_KEY_FILE", "PEM public key that must match the signing key (a check against mix-ups)", false,
		func(c *Config) *string { return &c.VerifyingKeyFile }),
	stringSetting("PREVIOUS_KEY_FILES", "comma-separated retired keys still accepted until their tokens expire: [ALG:]path (PEM, or the HMAC secret)", false,
		func(c *Config) *string { return &c.PreviousKeyFiles }),
	durationSetting("LEEWAY", "clock skew tolerated on exp, nbf and iat",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.Leeway }),
	stringSetting("ISSUER", "iss claim to set and require", false,
		func(c *Config) *string { return &c.Settings.Issuer }),
	stringSetting("AUDIENCE", "aud claim to set and require", false,
		func(c *Config) *string { return &c.Settings.Audience }),
	stringSetting("USER_ID_CLAIM", "claim holding the user id", false,
		func(c *Config) *string { return &c.Settings.UserIDClaim }),
	stringSetting("TOKEN_TYPE_CLAIM", "claim holding the token type", false,
		func(c *Config) *string { return &c.Settings.TokenTypeClaim }),
	stringSetting("JTI_CLAIM", "claim holding the token id", false,
		func(c *Config) *string { return &c.Settings.JTIClaim }),
	boolSetting("UPDATE_LAST_LOGIN", "record the time of each login",
		func(s *jwtrevoke.Settings) *bool { return &s.UpdateLastLogin }),
	boolSetting("CHECK_USER_IS_ACTIVE", "refuse tokens of inactive users",
		func(s *jwtrevoke.Settings) *bool { return &s.CheckUserIsActive }),
	stringSetting("REVOCATION_FAIL_MODE", "when revocations cannot be loaded for too long: closed (refuse, 503) or open (log and accept)", false,
		func(c *Config) *string { return &c.Settings.RevocationFailMode }),
	durationSetting("REVOCATION_MAX_STALENESS", "how old this instance's view of the revocations may get",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.RevocationMaxStaleness }),
	durationSetting("REVOCATION_POLL_INTERVAL", "how often revocations made by other instances are loaded (besides the store's push channel)",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.RevocationPollInterval }),
	rateSetting("LOGIN_RATE_PER_IP", "login attempts (all) allowed per client address, IPv6 per /64: N/period such as 20/minute or 5/15m, or none",
		func(s *jwtrevoke.Settings) *jwtrevoke.Rate { return &s.LoginRatePerIP }),
	rateSetting("LOGIN_RATE_PER_ACCOUNT", "failed login attempts allowed per email: N/period such as 5/minute, or none",
		func(s *jwtrevoke.Settings) *jwtrevoke.Rate { return &s.LoginRatePerAccount }),
	stringSetting("LOGIN_RATE_SCOPE", "where login attempts are counted: cluster (in the store, shared by every instance) or instance (this process)", false,
		func(c *Config) *string { return &c.Settings.LoginRateScope }),
	trustedProxiesSetting(),
	argon2Setting("ARGON2_MEMORY_KIB", "argon2id memory of new password hashes, KiB (OWASP: 19456 with ARGON2_TIME 2)",
		func(h *password.Hasher) any { return &h.Memory }),
	argon2Setting("ARGON2_TIME", "argon2id iterations of new password hashes",
		func(h *password.Hasher) any { return &h.Time }),
	argon2Setting("ARGON2_PARALLELISM", "argon2id parallelism of new password hashes",
		func(h *password.Hasher) any { return &h.Threads }),
	durationSetting("USER_CACHE_TTL", "how long a user loaded to authenticate a request is reused (0: load it on every request)",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.UserCacheTTL }),
	durationSetting("AUDIT_RETENTION", "how long the audit trail keeps each revocation (who, when, why, from where); 0: no audit trail",
		func(s *jwtrevoke.Settings) *time.Duration { return &s.AuditRetention }),
	httpDurationSetting("HTTP_READ_HEADER_TIMEOUT", "serve: time a client has to send its request headers",
		func(h *HTTPLimits) *time.Duration { return &h.ReadHeaderTimeout }),
	httpDurationSetting("HTTP_READ_TIMEOUT", "serve: time a client has to send its whole request",
		func(h *HTTPLimits) *time.Duration { return &h.ReadTimeout }),
	httpDurationSetting("HTTP_WRITE_TIMEOUT", "serve: time from the end of the request headers to the end of the answer",
		func(h *HTTPLimits) *time.Duration { return &h.WriteTimeout }),
	httpDurationSetting("HTTP_IDLE_TIMEOUT", "serve: how long a kept-alive connection may wait for its next request",
		func(h *HTTPLimits) *time.Duration { return &h.IdleTimeout }),
	httpIntSetting("HTTP_MAX_HEADER_BYTES", "serve: largest request headers accepted, in bytes",
		func(h *HTTPLimits) *int { return &h.MaxHeaderBytes }),
	boolField("METRICS", "serve: collect Prometheus metrics and serve them at /metrics on the API's address (or on METRICS_ADDR)",
		func(c *Config) *bool { return &c.Ops.Metrics }),
	stringSetting("METRICS_ADDR", "serve: serve /metrics (and /healthz, /readyz) on this address instead of the API's, e.g. 127.0.0.1:9090", false,
		func(c *Config) *string { return &c.Ops.MetricsAddr }),
	stringSetting("LOG_FORMAT", "log format: text or json", false,
		func(c *Config) *string { return &c.Ops.LogFormat }),
	logLevelSetting(),
	boolField("ACCESS_LOG", "serve: log one line per request (method, path, status, size, duration, request id)",
		func(c *Config) *bool { return &c.Ops.AccessLog }),
	durationField("SHUTDOWN_TIMEOUT", "serve: on SIGTERM or SIGINT, how long requests in flight may take to finish before their connections are closed",
		func(c *Config) *time.Duration { return &c.Ops.ShutdownTimeout }),
	boolField("ADMIN", "serve: serve the admin pages at /admin/ (staff users sign in with their email and password)",
		func(c *Config) *bool { return &c.Ops.Admin }),
	boolField("ADMIN_SECURE_COOKIES", "serve: mark the admin pages' cookies Secure on plain HTTP too, for a TLS-terminating proxy in front (they are Secure over TLS anyway)",
		func(c *Config) *bool { return &c.Ops.AdminSecure }),
	durationField("ADMIN_SESSION_IDLE", "serve: an admin sign-in ends after this long without a request",
		func(c *Config) *time.Duration { return &c.Ops.AdminIdle }),
	durationField("ADMIN_SESSION_MAX_AGE", "serve: an admin sign-in ends this long after it began",
		func(c *Config) *time.Duration { return &c.Ops.AdminMaxAge }),
	intField("GC_HEADROOM_MB", "serve: while requests keep the server allocating, let the heap grow this many MB above its live size before each garbage collection (fewer collections, less CPU per request; given back when idle); 0: Go's default, GOGC=100. Ignored when GOGC is set",
		func(c *Config) *int { return &c.Ops.GCHeadroomMB }),
	durationField("FLUSH_EXPIRED_EVERY", "serve: delete expired tokens, sessions and revocations about this often (with jitter), as flushexpiredtokens does; 0: never",
		func(c *Config) *time.Duration { return &c.Ops.FlushEvery }),
}

func init() {
	for i := range settings {
		settings[i].flag = strings.ReplaceAll(strings.ToLower(settings[i].name), "_", "-")
	}
}

// addSettingFlags declares one string flag per setting; values are parsed
// by loadConfig so that flags, environment and file share one parser.
func addSettingFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "optional JSON config file with SimpleJWT setting names as keys (env JWTREVOKE_CONFIG)")
	for _, s := range settings {
		fs.String(s.flag, "", s.usage+" (env JWTREVOKE_"+s.name+")")
	}
}

// loadConfig builds the configuration from defaults, then the config file,
// then the environment, then flags: each later source overrides earlier ones.
func loadConfig(fs *pflag.FlagSet, getenv func(string) string) (*Config, error) {
	c := &Config{Settings: jwtrevoke.DefaultSettings(), Database: DefaultDatabase, Source: map[string]string{}, HTTP: DefaultHTTPLimits(),
		Argon2: *password.Default(), Ops: DefaultOps()}
	for _, s := range settings {
		c.Source[s.name] = "default"
	}
	path, _ := fs.GetString("config")
	if path == "" {
		path = getenv("JWTREVOKE_CONFIG")
	}
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return nil, err
		}
	}
	for _, s := range settings {
		if v, ok := lookupEnv(getenv, "JWTREVOKE_"+s.name); ok {
			if err := s.set(c, v); err != nil {
				return nil, fmt.Errorf("environment JWTREVOKE_%s: %w", s.name, err)
			}
			c.Source[s.name] = "env"
		}
	}
	for _, s := range settings {
		if f := fs.Lookup(s.flag); f != nil && f.Changed {
			if err := s.set(c, f.Value.String()); err != nil {
				return nil, fmt.Errorf("flag --%s: %w", s.flag, err)
			}
			c.Source[s.name] = "flag"
		}
	}
	if err := c.resolveKeys(); err != nil {
		return nil, err
	}
	if err := c.Settings.Validate(); err != nil {
		return nil, err
	}
	if err := c.Argon2.Validate(); err != nil {
		return nil, err
	}
	if err := c.HTTP.validate(); err != nil {
		return nil, err
	}
	if err := c.Ops.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// resolveKeys reads the key files into the settings.
func (c *Config) resolveKeys() error {
	if c.SigningKeyFile != "" {
		if c.Settings.SigningKey != "" {
			return errors.New("give SIGNING_KEY or SIGNING_KEY_FILE, not both")
		}
		b, err := os.ReadFile(c.SigningKeyFile)
		if err != nil {
			return fmt.Errorf("SIGNING_KEY_FILE: %w", err)
		}
		c.Settings.SigningKey = strings.TrimRight(string(b), "\r\n")
	}
	if c.VerifyingKeyFile != "" {
		b, err := os.ReadFile(c.VerifyingKeyFile)
		if err != nil {
			return fmt.Errorf("VERIFYING_KEY_FILE: %w", err)
		}
		if c.Settings.SigningKey == "" {
			return errors.New("VERIFYING_KEY_FILE is given without SIGNING_KEY or SIGNING_KEY_FILE")
		}
		sign, err := jwtrevoke.ParseKey(c.Settings.Algorithm, c.Settings.SigningKey)
		if err != nil {
			return fmt.Errorf("SIGNING_KEY: %w", err)
		}
		verify, err := jwtrevoke.ParseKey(c.Settings.Algorithm, string(b))
		if err != nil {
			return fmt.Errorf("VERIFYING_KEY_FILE: %w", err)
		}
		if sign.ID != verify.ID {
			return errors.New("VERIFYING_KEY_FILE is not the public key of the signing key")
		}
	}
	for _, item := range strings.Split(c.PreviousKeyFiles, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		alg, path := c.Settings.Algorithm, item
		if a, p, ok := strings.Cut(item, ":"); ok && slices.Contains(jwtrevoke.Algorithms, a) {
			alg, path = a, p
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("PREVIOUS_KEY_FILES: %w", err)
		}
		c.Settings.PreviousKeys = append(c.Settings.PreviousKeys, jwtrevoke.KeySpec{Algorithm: alg, Material: strings.TrimRight(string(b), "\r\n")})
	}
	return nil
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// loadFile reads a JSON object whose keys are setting names; values may be
// strings, booleans or numbers (numbers of seconds for durations).
func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	known := map[string]setting{}
	for _, s := range settings {
		known[s.name] = s
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := known[k]
		if !ok {
			return fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		var v string
		switch x := m[k].(type) {
		case string:
			v = x
		case bool:
			v = strconv.FormatBool(x)
		case float64:
			v = strconv.FormatFloat(x, 'f', -1, 64)
			if s.duration {
				v += "s"
			}
		case []any:
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			v = strings.Join(parts, ",")
		default:
			return fmt.Errorf("config file %s: %s has an unusable value", path, k)
		}
		if err := s.set(c, v); err != nil {
			return fmt.Errorf("config file %s: %w", path, err)
		}
		c.Source[k] = "file"
	}
	return nil
}
