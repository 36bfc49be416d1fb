package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "conf.json")
	if err := os.WriteFile(file, []byte(`{"ACCESS_TOKEN_LIFETIME": "10m", "REFRESH_TOKEN_LIFETIME": 7200,
		"ROTATE_REFRESH_TOKENS": true, "LEEWAY": "3s", "AUTH_HEADER_TYPES": ["Bearer", "JWT"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addSettingFlags(fs)
	if err := fs.Parse([]string{"--config", file, "--leeway", "5s"}); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(fs, env("JWTREVOKE_REFRESH_TOKEN_LIFETIME", "3h", "JWTREVOKE_LEEWAY", "4s"))
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
