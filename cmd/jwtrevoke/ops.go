package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke/admin"
	"github.com/jwtrevoke/jwtrevoke/internal/reqlog"
)

// Ops are serve's operations settings.
type Ops struct {
	Metrics         bool          // METRICS: collect and serve Prometheus metrics
	MetricsAddr     string        // METRICS_ADDR: serve them there instead of on the API's address
	LogFormat       string        // LOG_FORMAT: text or json
	LogLevel        slog.Level    // LOG_LEVEL
	AccessLog       bool          // ACCESS_LOG: one line per request
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: how long requests in flight may take at shutdown
	FlushEvery      time.Duration // FLUSH_EXPIRED_EVERY: 0 is never
	Admin           bool          // ADMIN: serve the admin pages at /admin/
	AdminSecure     bool          // ADMIN_SECURE_COOKIES: Secure cookies without TLS here (a TLS proxy in front)
	AdminIdle       time.Duration // ADMIN_SESSION_IDLE
	AdminMaxAge     time.Duration // ADMIN_SESSION_MAX_AGE
	GCHeadroomMB    int           // GC_HEADROOM_MB: heap headroom under load (internal/gctune); 0 is GOGC=100 always
}

// DefaultOps returns the defaults: metrics on the API's address, text logs
// at info with an access log, 15 s to drain at shutdown, no scheduled
// flush, the admin pages served with admin's default session lifetimes.
func DefaultOps() Ops {
	return Ops{Metrics: true, LogFormat: "text", LogLevel: slog.LevelInfo, AccessLog: true, ShutdownTimeout: 15 * time.Second,
		Admin: true, AdminIdle: admin.DefaultSessionIdle, AdminMaxAge: admin.DefaultSessionMaxAge, GCHeadroomMB: 32}
}

func (o Ops) validate() error {
	if o.LogFormat != "text" && o.LogFormat != "json" {
		return fmt.Errorf("LOG_FORMAT %q must be text or json", o.LogFormat)
	}
	if o.ShutdownTimeout <= 0 {
		return errors.New("SHUTDOWN_TIMEOUT must be positive")
	}
	if o.FlushEvery < 0 {
		return errors.New("FLUSH_EXPIRED_EVERY must not be negative (0 turns it off)")
	}
	if o.AdminIdle <= 0 || o.AdminMaxAge <= 0 {
		return errors.New("ADMIN_SESSION_IDLE and ADMIN_SESSION_MAX_AGE must be positive")
	}
	if o.GCHeadroomMB < 0 || o.GCHeadroomMB > 4096 {
		return errors.New("GC_HEADROOM_MB must be between 0 (off) and 4096")
	}
	if o.MetricsAddr != "" && !o.Metrics {
		return errors.New("METRICS_ADDR is set but METRICS is false")
	}
	return nil
}

// intField is a whole-number setting of the Config.
func intField(name, usage string, f func(*Config) *int) setting {
	return setting{name: name, usage: usage,
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", name, v)
			}
			*f(c) = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(*f(c)) },
	}
}

func logLevelSetting() setting {
	const name = "LOG_LEVEL"
	return setting{name: name, usage: "least severe log records written: debug, info, warn or error",
		set: func(c *Config, v string) error {
			if err := c.Ops.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("%s: %q is not debug, info, warn or error", name, v)
			}
			return nil
		},
		get: func(c *Config) string { return strings.ToLower(c.Ops.LogLevel.String()) },
	}
}

// urlSetting is a store URL: jwtrevoke config prints it without its
// password.
func urlSetting(name, usage string, f func(*Config) *string) setting {
	s := stringSetting(name, usage, false, f)
	s.redact = redactURL
	return s
}

// secretQuery are query parameters of store URLs that may hold a password.
var secretQuery = []string{"password", "pass", "pwd", "secret", "sslpassword", "token"}

// redactURL hides the password of a store URL, in its user information
// or in its query, for logs and jwtrevoke config. A value that does not
// parse as a URL keeps only its scheme.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := neturl.Parse(raw)
	if err != nil {
		scheme, _, _ := strings.Cut(raw, "://")
		return scheme + "://" + masked
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			for _, s := range secretQuery {
				if strings.EqualFold(k, s) {
					q.Set(k, masked)
				}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// masked stands for a secret value in what jwtrevoke prints.
const masked = "xxxxx"

// logger is the command's logger: LOG_FORMAT on Stderr at LOG_LEVEL,
// adding the request id of the context to each record.
func (m *Main) logger(c *Config) *slog.Logger {
	return newLogger(m.Stderr, c.Ops.LogFormat, c.Ops.LogLevel)
}

// quietLogger is the logger of a one-shot command: only errors, unless
// LOG_LEVEL was given.
func (m *Main) quietLogger(c *Config) *slog.Logger {
	level := max(c.Ops.LogLevel, slog.LevelError)
	if c.Source["LOG_LEVEL"] != "default" {
		level = c.Ops.LogLevel
	}
	return newLogger(m.Stderr, c.Ops.LogFormat, level)
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(reqlog.NewHandler(h))
}
