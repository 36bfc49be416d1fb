package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestInfoField(t *testing.T) {
	info := "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n"
	if v, err := infoField(info, "redis_version"); err != nil || v != "7.0.15" {
		t.Fatalf("infoField = %q, %v", v, err)
	}
	if _, err := infoField(info, "redis_mode"); err == nil {
		t.Fatal("a missing field gave no error")
	}
}

func TestDescribeMongo(t *testing.T) {
	if v, ferret := describeMongo("7.0.77", "v1.24.2"); v != "7.0.77 (FerretDB v1.24.2)" || !ferret {
		t.Errorf("FerretDB: %q, %v", v, ferret)
	}
	if v, ferret := describeMongo("7.0.42", "unknown"); v != "7.0.42 (FerretDB)" || !ferret {
		t.Errorf("embedded FerretDB: %q, %v", v, ferret)
	}
	if v, ferret := describeMongo("8.0.4", ""); v != "8.0.4" || ferret {
		t.Errorf("MongoDB: %q, %v", v, ferret)
	}
}

func TestUsesStore(t *testing.T) {
	for sc, want := range map[string]bool{"me": false, "refresh": false, "memory": false,
		"login": true, "rotate": true, "logout": true, "propagation": true, "flush": true} {
		if got := usesStore(sc); got != want {
			t.Errorf("usesStore(%s) = %v", sc, got)
		}
	}
}

// TestServers asks the servers the tests are given (JWTREVOKE_TEST_*)
// for their versions, as the bench's machine table does.
func TestServers(t *testing.T) {
	u := storeURLs{Postgres: os.Getenv("JWTREVOKE_TEST_POSTGRES"), MySQL: os.Getenv("JWTREVOKE_TEST_MYSQL"),
		Redis: os.Getenv("JWTREVOKE_TEST_REDIS"), Mongo: os.Getenv("JWTREVOKE_TEST_MONGO")}
	stores := []string{"sqlite"}
	names := []string{"SQLite"}
	for _, s := range []struct{ url, store, name string }{
		{u.Postgres, "postgres", "PostgreSQL"}, {u.MySQL, "mysql", "MySQL/MariaDB"},
		{u.Redis, "redis", "Redis"}, {u.Mongo, "mongo", "MongoDB"},
	} {
		if s.url == "" {
			t.Logf("JWTREVOKE_TEST_%s not set: %s not asked", strings.ToUpper(s.store), s.name)
			continue
		}
		stores = append(stores, s.store)
		names = append(names, s.name)
	}
	desc, _ := servers(t.Context(), append(stores, "sqlite"), u)
	t.Logf("servers: %s", desc)
	parts := strings.Split(desc, "; ")
	if len(parts) != len(names) {
		t.Fatalf("servers = %q, want one part per server of %v", desc, names)
	}
	version := regexp.MustCompile(`^[0-9]+\.[0-9]+`)
	for i, p := range parts {
		v, ok := strings.CutPrefix(p, names[i]+" ")
		if !ok || !version.MatchString(v) {
			t.Errorf("part %d: %q, want %s and a version", i, p, names[i])
		}
	}
}
