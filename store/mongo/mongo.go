package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jwtrevoke/jwtrevoke"
)

var _ jwtrevoke.Store = (*Store)(nil)

// Store is a MongoDB database with the collections users,
// outstanding_tokens, blacklisted_tokens, sessions, revocations,
// rotations, settings and counters.
type Store struct {
	// Logger receives notices such as a refused TTL index; default slog.Default().
	Logger *slog.Logger

	client *mongo.Client
	db     *mongo.Database
	ttl    bool

	users, outstanding, blacklisted, sessions, revocations, rotations, settings, counters *mongo.Collection
}

// Open connects to the database at url (mongodb://host:27017/dbname) and
// pings it. Call Migrate before first use to create the indexes.
func Open(ctx context.Context, url string) (*Store, error) {
	cs, err := connString(url)
	if err != nil {
		return nil, err
	}
	client, err := mongo.Connect(options.Client().ApplyURI(url).SetTimeout(10 * time.Second))
	if err != nil {
		return nil, fmt.Errorf("open mongodb: %w", err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("open mongodb: %w", err)
	}
	db := client.Database(cs)
	return &Store{
		client: client, db: db, Logger: slog.Default(),
		users: db.Collection("users"), outstanding: db.Collection("outstanding_tokens"),
		blacklisted: db.Collection("blacklisted_tokens"), sessions: db.Collection("sessions"),
		revocations: db.Collection("revocations"), rotations: db.Collection("rotations"),
		settings: db.Collection("settings"),
		counters: db.Collection("counters"),
	}, nil
}

// connString returns the database name of a mongodb:// URL.
func connString(raw string) (string, error) {
	if err := options.Client().ApplyURI(raw).Validate(); err != nil {
		return "", fmt.Errorf("mongodb URL: %w", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("mongodb URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", fmt.Errorf("mongodb URL %q names no database: want mongodb://host:27017/dbname", u.Redacted())
	}
	return name, nil
}

// Close disconnects.
func (s *Store) Close() error {
	return s.client.Disconnect(context.Background())
}

// Migrate creates the indexes: unique keys that make writes race-free
// (a rotation's unique key is its _id, the old token's jti), and TTL
// indexes on expires_at, so the server drops expired documents by
// itself. A server that refuses TTL indexes (FerretDB) gets plain ones on
// expires_at instead; flushexpiredtokens then deletes expired documents.
func (s *Store) Migrate(ctx context.Context) error {
	unique := options.Index().SetUnique(true)
	for _, ix := range []struct {
		c    *mongo.Collection
		keys bson.D
		opts *options.IndexOptionsBuilder
	}{
		{s.users, bson.D{{Key: "email_lower", Value: 1}}, unique},
		{s.outstanding, bson.D{{Key: "jti", Value: 1}}, unique},
		{s.outstanding, bson.D{{Key: "user_id", Value: 1}}, nil},
		{s.blacklisted, bson.D{{Key: "jti", Value: 1}}, unique},
		{s.blacklisted, bson.D{{Key: "token_id", Value: 1}}, nil},
		{s.sessions, bson.D{{Key: "user_id", Value: 1}}, nil},
	} {
		m := mongo.IndexModel{Keys: ix.keys}
		if ix.opts != nil {
			m.Options = ix.opts
		}
		if _, err := ix.c.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("migrate: index on %s: %w", ix.c.Name(), err)
		}
	}
	expiry := bson.D{{Key: "expires_at", Value: 1}}
	s.ttl = true
	for _, c := range []*mongo.Collection{s.outstanding, s.blacklisted, s.sessions, s.revocations, s.rotations} {
		if s.ttl {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: expiry, Options: options.Index().SetExpireAfterSeconds(0)})
			if err == nil {
				continue
			}
			s.ttl = false
			s.Logger.Info("the MongoDB server refuses TTL indexes; expired tokens are deleted by flushexpiredtokens", "err", err)
		}
		if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: expiry}); err != nil {
			return fmt.Errorf("migrate: index on %s: %w", c.Name(), err)
		}
	}
	return nil
}

// SelfExpiring reports whether Migrate could create TTL indexes, so the
// server deletes expired documents by itself.
func (s *Store) SelfExpiring() bool { return s.ttl }

func isDup(err error) bool { return mongo.IsDuplicateKeyError(err) }

// next allocates n consecutive numbers from the named counter and returns
// the first.
func (s *Store) next(ctx context.Context, name string, n int64) (int64, error) {
	var doc struct {
		Seq int64 `bson:"seq"`
	}
	upsert := func() error {
		return s.counters.FindOneAndUpdate(ctx, bson.M{"_id": name}, bson.M{"$inc": bson.M{"seq": n}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	}
	err := upsert()
	for i := 0; i < 5 && isDup(err); i++ {
		// Concurrent upserts of a new counter: one inserted it, retry.
		err = upsert()
	}
	if err != nil {
		return 0, fmt.Errorf("counter %s: %w", name, err)
	}
	return doc.Seq - n + 1, nil
}

type userDoc struct {
	ID          int64      `bson:"_id"`
	Email       string     `bson:"email"`
	EmailLower  string     `bson:"email_lower"`
	Password    string     `bson:"password"`
	IsActive    bool       `bson:"is_active"`
	IsStaff     bool       `bson:"is_staff"`
	IsSuperuser bool       `bson:"is_superuser"`
	DateJoined  time.Time  `bson:"date_joined"`
	LastLogin   *time.Time `bson:"last_login"`
}

func (d *userDoc) user() *jwtrevoke.User {
	u := &jwtrevoke.User{ID: d.ID, Email: d.Email, PasswordHash: d.Password, IsActive: d.IsActive,
		IsStaff: d.IsStaff, IsSuperuser: d.IsSuperuser, DateJoined: d.DateJoined.UTC()}
	if d.LastLogin != nil {
		t := d.LastLogin.UTC()
		u.LastLogin = &t
	}
	return u
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// CreateUser implements jwtrevoke.Store.
func (s *Store) CreateUser(ctx context.Context, u *jwtrevoke.User) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	id, err := s.next(ctx, "users", 1)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	d := userDoc{ID: id, Email: u.Email, EmailLower: lower(u.Email), Password: u.PasswordHash, IsActive: u.IsActive,
		IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser, DateJoined: u.DateJoined.UTC(), LastLogin: u.LastLogin}
	if _, err := s.users.InsertOne(ctx, d); err != nil {
		if isDup(err) {
			return fmt.Errorf("create user %q: %w", u.Email, jwtrevoke.ErrExists)
		}
		return fmt.Errorf("create user: %w", err)
	}
	u.ID = id
	return nil
}

func (s *Store) findUser(ctx context.Context, filter bson.M) (*jwtrevoke.User, error) {
	var d userDoc
	if err := s.users.FindOne(ctx, filter).Decode(&d); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, jwtrevoke.ErrNotFound
		}
		return nil, err
	}
	return d.user(), nil
}

// UserByID implements jwtrevoke.Store.
func (s *Store) UserByID(ctx context.Context, id int64) (*jwtrevoke.User, error) {
	u, err := s.findUser(ctx, bson.M{"_id": id})
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail implements jwtrevoke.Store.
func (s *Store) UserByEmail(ctx context.Context, email string) (*jwtrevoke.User, error) {
	u, err := s.findUser(ctx, bson.M{"email_lower": lower(email)})
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", email, err)
	}
	return u, nil
}

// UpdateUser implements jwtrevoke.Store.
func (s *Store) UpdateUser(ctx context.Context, u *jwtrevoke.User) error {
	res, err := s.users.UpdateOne(ctx, bson.M{"_id": u.ID}, bson.M{"$set": bson.M{
		"password": u.PasswordHash, "is_active": u.IsActive, "is_staff": u.IsStaff,
		"is_superuser": u.IsSuperuser, "last_login": u.LastLogin,
	}})
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("update user %d: %w", u.ID, jwtrevoke.ErrNotFound)
	}
	return nil
}
