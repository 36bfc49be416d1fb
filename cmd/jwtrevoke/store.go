package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/metrics"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
	"github.com/jwtrevoke/jwtrevoke/store/mongo"
	"github.com/jwtrevoke/jwtrevoke/store/mysql"
	"github.com/jwtrevoke/jwtrevoke/store/postgres"
	"github.com/jwtrevoke/jwtrevoke/store/redis"
	"github.com/jwtrevoke/jwtrevoke/store/sqlite"
)

// openStore opens the store a database URL names and, when migrate is set,
// brings its schema up to date.
func openStore(ctx context.Context, url string, migrate bool) (jwtrevoke.Store, error) {
	scheme, _, ok := strings.Cut(url, "://")
	if !ok {
		return nil, usageError{fmt.Errorf("database %q is not a URL such as sqlite:///path/to.db or memory://", url)}
	}
	switch scheme {
	case "memory":
		return memory.New(), nil
	case "sqlite":
		path, err := sqlitePath(url)
		if err != nil {
			return nil, usageError{err}
		}
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		return migrated(ctx, st, migrate)
	case "postgres", "postgresql":
		st, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return migrated(ctx, st, migrate)
	case "mysql":
		st, err := mysql.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return migrated(ctx, st, migrate)
	case "mongodb", "mongodb+srv":
		st, err := mongo.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		// Mongo has no schema: its indexes are made even without migrate.
		return migrated(ctx, st, true)
	}
	return nil, usageError{fmt.Errorf("database scheme %q is not supported (sqlite, postgres, mysql, mongodb, memory)", scheme)}
}

// openStores opens the configured DATABASE and, when TOKEN_STORE is set,
// the token store, and returns them as one Store: users from the database,
// tokens, sessions and revocations from the token store.
func openStores(ctx context.Context, c *Config, migrate bool) (jwtrevoke.Store, error) {
	st, err := openStore(ctx, c.Database, migrate)
	if err != nil || c.TokenStore == "" {
		return st, err
	}
	tokens, err := openTokenStore(ctx, c.TokenStore, migrate)
	if err != nil {
		st.Close()
		return nil, err
	}
	return jwtrevoke.Split(st, tokens), nil
}

// tokenStore is a store of tokens only.
type tokenStore interface {
	jwtrevoke.TokenStore
	Close() error
}

// openTokenStore opens the store a TOKEN_STORE URL names, and with
// migrate brings what it holds up to date (Redis: indexes data written by
// earlier versions, once).
func openTokenStore(ctx context.Context, url string, migrate bool) (tokenStore, error) {
	scheme, _, _ := strings.Cut(url, "://")
	switch scheme {
	case "redis", "rediss":
		st, err := redis.Open(ctx, url)
		if err != nil || !migrate {
			return st, err
		}
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrate token store: %w", err)
		}
		return st, nil
	}
	return nil, usageError{fmt.Errorf("token store %q is not supported: use redis://host:6379/N", url)}
}

// openService opens the configured store and the service over it. The
// caller closes the store. With met, the store's operations are timed and
// the service's revocations observed.
func (m *Main) openService(ctx context.Context, c *Config, migrate bool, log *slog.Logger, met *metrics.Metrics) (*jwtrevoke.Service, jwtrevoke.Store, error) {
	st, err := openStores(ctx, c, migrate)
	if err != nil {
		return nil, nil, err
	}
	if m.wrapStore != nil {
		st = m.wrapStore(st)
	}
	opts := jwtrevoke.Options{Hasher: &c.Argon2, Logger: log}
	if met != nil {
		st = met.Store(st)
		opts.Observer = met.Observer()
	}
	svc, err := jwtrevoke.New(ctx, st, c.Settings, opts)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return svc, st, nil
}

// sqlitePath turns a SQLite URL into a file path, as SQLAlchemy and
// dj-database-url read them: sqlite:///jwtrevoke.db is jwtrevoke.db in the
// working directory, sqlite:////var/lib/auth.db is the absolute path.
func sqlitePath(url string) (string, error) {
	rest := strings.TrimPrefix(url, "sqlite://")
	path := strings.TrimPrefix(rest, "/")
	if path == "" || path == "/" {
		return "", fmt.Errorf("database %q names no file: use sqlite:///file.db (relative) or sqlite:////abs/path.db", url)
	}
	return path, nil
}

// migratingStore is a store with an embedded schema.
type migratingStore interface {
	jwtrevoke.Store
	Migrate(ctx context.Context) error
}

// migrated runs st's migrations when asked to, closing st on failure.
func migrated(ctx context.Context, st migratingStore, migrate bool) (jwtrevoke.Store, error) {
	if migrate {
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}
