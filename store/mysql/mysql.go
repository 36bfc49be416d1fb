package mysql

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/sqlstore"
)

var _ jwtrevoke.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

func errNumber(err error) uint16 {
	var me *driver.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

var dialect = &sqlstore.Dialect{
	Name: "mysql",
	InsertIgnore: func(insert, col string) string {
		return insert + " ON DUPLICATE KEY UPDATE " + col + " = " + col
	},
	EmailEquals: "email = ?", // the column's collation ignores case
	Time:        sqlstore.NativeTime,
	IsUnique:    func(err error) bool { return errNumber(err) == 1062 },
	// ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
	IsRetryable: func(err error) bool { n := errNumber(err); return n == 1213 || n == 1205 },
	Counter:     sqlstore.DuplicateKeyThenSelect,
}

// Store is a MySQL or MariaDB database.
type Store struct {
	sqlstore.Ranged
}

// A restart reads its revocations in several ranges at once (see
// sqlstore.Ranged).
var _ jwtrevoke.RevocationRanger = (*Store)(nil)

// DSN turns mysql://user:pass@host:3306/db?param=value into the driver's
// DSN, with times read and written in UTC.
func DSN(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "mysql" || u.Host == "" {
		return "", fmt.Errorf("mysql URL %q: want mysql://user:password@host:3306/dbname", redact(rawURL))
	}
	cfg := driver.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if !strings.Contains(u.Host, ":") {
		cfg.Addr += ":3306"
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Params = map[string]string{}
	for k, v := range u.Query() {
		cfg.Params[k] = v[len(v)-1]
	}
	if _, ok := cfg.Params["time_zone"]; !ok {
		cfg.Params["time_zone"] = "'+00:00'"
	}
	return cfg.FormatDSN(), nil
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable)"
}

// Open connects to the database at url (mysql://user:pass@host:3306/db) and
// pings it. Call Migrate before first use.
func Open(ctx context.Context, url string) (*Store, error) {
	dsn, err := DSN(url)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, fmt.Errorf("open mysql: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxLifetime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open mysql: %w", err)
	}
	return &Store{sqlstore.Ranged{Store: sqlstore.New(dialect, db, db)}}, nil
}

// Migrate applies the embedded migrations not applied yet.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return s.Store.Migrate(ctx, sub, `CREATE TABLE IF NOT EXISTS jwtrevoke_schema_migrations (version integer NOT NULL PRIMARY KEY, name varchar(255) NOT NULL, applied_at datetime(6) NOT NULL) ENGINE=InnoDB`)
}
