package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	mongoopts "go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jwtrevoke/jwtrevoke/store/mysql"
)

// ferretScans is the note on the rows measured on FerretDB: its numbers
// are those of its scans, not of a MongoDB server's indexes.
const ferretScans = "the MongoDB server is FerretDB, whose v1 SQLite backend (tools/ferretdb) hands its database only a filter of the form {_id: string} and reads the whole collection for any other, such as a token's jti: this measures those scans"

// servers names the database servers behind stores, with their versions,
// as they report them, for the machine table; and whether the MongoDB
// server is FerretDB. A server that cannot be asked is named with the
// error.
func servers(ctx context.Context, stores []string, u storeURLs) (desc string, ferret bool) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out []string
	seen := map[string]bool{}
	add := func(name string, version func() (string, error)) {
		if seen[name] {
			return
		}
		seen[name] = true
		v, err := version()
		if err != nil {
			v = "(" + firstLine(err.Error()) + ")"
		}
		out = append(out, name+" "+v)
	}
	sqlite := func() (string, error) { return sqlVersion(ctx, "sqlite", ":memory:", "SELECT sqlite_version()") }
	for _, st := range stores {
		switch st {
		case "sqlite":
			add("SQLite", sqlite)
		case "postgres":
			add("PostgreSQL", func() (string, error) { return sqlVersion(ctx, "pgx", u.Postgres, "SHOW server_version") })
		case "mysql":
			add("MySQL/MariaDB", func() (string, error) {
				dsn, err := mysql.DSN(u.MySQL)
				if err != nil {
					return "", err
				}
				return sqlVersion(ctx, "mysql", dsn, "SELECT VERSION()")
			})
		case "redis": // the users in SQLite, the rest in Redis
			add("SQLite", sqlite)
			add("Redis", func() (string, error) { return redisVersion(ctx, u.Redis) })
		case "mongo":
			add("MongoDB", func() (string, error) {
				v, f, err := mongoVersion(ctx, u.Mongo)
				ferret = f
				return v, err
			})
		}
	}
	return strings.Join(out, "; "), ferret
}

func sqlVersion(ctx context.Context, driver, dsn, query string) (string, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	err = db.QueryRowContext(ctx, query).Scan(&v)
	return v, err
}

func redisVersion(ctx context.Context, url string) (string, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return "", err
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", err
	}
	return infoField(info, "redis_version")
}

// infoField is a field of Redis's INFO answer (lines of name:value).
func infoField(info, name string) (string, error) {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("INFO has no %s", name)
}

// mongoVersion is the server's buildInfo version, and FerretDB's when the
// server is FerretDB.
func mongoVersion(ctx context.Context, url string) (string, bool, error) {
	c, err := mongodrv.Connect(mongoopts.Client().ApplyURI(url))
	if err != nil {
		return "", false, err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	var info struct {
		Version string `bson:"version"`
		Ferret  string `bson:"ferretdbVersion"`
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return "", false, err
	}
	v, ferret := describeMongo(info.Version, info.Ferret)
	return v, ferret, nil
}

// describeMongo names the MongoDB server from buildInfo's version and
// ferretdbVersion ("" for a MongoDB server).
func describeMongo(version, ferret string) (string, bool) {
	if ferret == "" {
		return version, false
	}
	if ferret == "unknown" { // an embedded FerretDB does not know its version
		return version + " (FerretDB)", true
	}
	return fmt.Sprintf("%s (FerretDB %s)", version, ferret), true
}
