package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/password"
)

// HTTPLimits are the limits of serve's HTTP server (HTTP_* settings).
type HTTPLimits struct {
	ReadHeaderTimeout time.Duration // HTTP_READ_HEADER_TIMEOUT: a client that has not sent its headers by then is cut off (slow loris)
	ReadTimeout       time.Duration // HTTP_READ_TIMEOUT: the whole request, body included
	WriteTimeout      time.Duration // HTTP_WRITE_TIMEOUT: from the end of the headers to the end of the answer
	IdleTimeout       time.Duration // HTTP_IDLE_TIMEOUT: a kept-alive connection waiting for its next request
	MaxHeaderBytes    int           // HTTP_MAX_HEADER_BYTES: larger headers get 431
}

// DefaultHTTPLimits returns serve's defaults: 5 s to send the headers, 10 s
// for the whole request (bodies are at most 1 MiB), 30 s to answer, 2 min
// idle, 64 KiB of headers.
func DefaultHTTPLimits() HTTPLimits {
	return HTTPLimits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

func (l HTTPLimits) validate() error {
	if l.ReadHeaderTimeout <= 0 || l.ReadTimeout <= 0 || l.WriteTimeout <= 0 || l.IdleTimeout <= 0 {
		return errors.New("HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT and HTTP_IDLE_TIMEOUT must be positive")
	}
	if l.ReadHeaderTimeout > l.ReadTimeout {
		return errors.New("HTTP_READ_HEADER_TIMEOUT must not be longer than HTTP_READ_TIMEOUT")
	}
	if l.MaxHeaderBytes < 4096 {
		return fmt.Errorf("HTTP_MAX_HEADER_BYTES %d must be at least 4096", l.MaxHeaderBytes)
	}
	return nil
}

func rateSetting(name, usage string, f func(*jwtrevoke.Settings) *jwtrevoke.Rate) setting {
	return setting{name: name, usage: usage,
		set: func(c *Config, v string) error {
			r, err := jwtrevoke.ParseRate(v)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			*f(&c.Settings) = r
			return nil
		},
		get: func(c *Config) string { return f(&c.Settings).String() },
	}
}

// trustedProxiesSetting reads TRUSTED_PROXIES: comma-separated networks
// (10.0.0.0/8) or single addresses (192.0.2.7).
func trustedProxiesSetting() setting {
	const name = "TRUSTED_PROXIES"
	return setting{name: name,
		usage: "comma-separated networks or addresses of reverse proxies whose X-Forwarded-For is believed (default none)",
		set: func(c *Config, v string) error {
			var ps []netip.Prefix
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item == "" {
					continue
				}
				p, err := parseProxy(item)
				if err != nil {
					return fmt.Errorf("%s: %q is not a network such as 10.0.0.0/8 or an address", name, item)
				}
				ps = append(ps, p)
			}
			c.Settings.TrustedProxies = ps
			return nil
		},
		get: func(c *Config) string {
			s := make([]string, len(c.Settings.TrustedProxies))
			for i, p := range c.Settings.TrustedProxies {
				s[i] = p.String()
			}
			return strings.Join(s, ",")
		},
	}
}

// parseProxy reads a network or a single address; IPv4-mapped IPv6 forms
// become IPv4, as the addresses they are matched against.
func parseProxy(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func httpDurationSetting(name, usage string, f func(*HTTPLimits) *time.Duration) setting {
	return durationField(name, usage, func(c *Config) *time.Duration { return f(&c.HTTP) })
}

func httpIntSetting(name, usage string, f func(*HTTPLimits) *int) setting {
	return intField(name, usage, func(c *Config) *int { return f(&c.HTTP) })
}

// argon2Setting is a whole-number argon2id parameter; f returns a *uint32
// or a *uint8 field of the hasher.
func argon2Setting(name, usage string, f func(*password.Hasher) any) setting {
	return setting{name: name, usage: usage,
		set: func(c *Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", name, v)
			}
			switch p := f(&c.Argon2).(type) {
			case *uint32:
				*p = uint32(n)
			case *uint8:
				if n > 255 {
					return fmt.Errorf("%s: %d is more than 255", name, n)
				}
				*p = uint8(n)
			}
			return nil
		},
		get: func(c *Config) string {
			switch p := f(&c.Argon2).(type) {
			case *uint32:
				return strconv.FormatUint(uint64(*p), 10)
			case *uint8:
				return strconv.FormatUint(uint64(*p), 10)
			}
			return ""
		},
	}
}
