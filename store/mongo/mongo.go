package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jwtrevoke/jwtrevoke"
)

var _ jwtrevoke.Store = (*Store)(nil)

// Store is a MongoDB database with the collections users,
// outstanding_tokens, blacklisted_tokens, sessions, revocations,
// rotations, audit, attempts, settings and counters.
type Store struct {
	// Logger receives notices such as a refused TTL index; default slog.Default().
	Logger *slog.Logger

	client *mongo.Client
	db     *mongo.Database
	ttl    bool
	// logged is set by Migrate once the blacklist is entirely in the
	// revocation log (BlacklistLogged).
	logged atomic.Bool

	users, outstanding, blacklisted, sessions, revocations, rotations, audit, attempts, settings, counters, claims *mongo.Collection
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
		audit: db.Collection("audit"), attempts: db.Collection("attempts"),
		settings: db.Collection("settings"),
		counters: db.Collection("counters"), claims: db.Collection("counter_claims"),
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
// (a rotation's unique key is its _id, the old token's jti), the audit
// trail's by user and time, the outstanding tokens' for listing them in
// each order and counting them, the revocations' by creation (Stats), and
// TTL indexes on expires_at (keep_until for
// the audit trail), so the server drops expired documents by itself. A
// server that refuses TTL indexes (FerretDB) gets plain ones instead;
// flushexpiredtokens then deletes expired documents. Last, once per
// database, it brings the blacklists of earlier versions into the
// revocation log (logBlacklist).
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
		// Listing in each order, ties by ID (the TTL index on expires_at
		// cannot be compound), and Stats' counts.
		{s.outstanding, bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, nil},
		{s.outstanding, bson.D{{Key: "expires_at", Value: 1}, {Key: "_id", Value: 1}}, nil},
		{s.outstanding, bson.D{{Key: "blacklisted_at", Value: 1}, {Key: "_id", Value: 1}}, nil},
		{s.revocations, bson.D{{Key: "created_at", Value: 1}}, nil},
		{s.blacklisted, bson.D{{Key: "jti", Value: 1}}, unique},
		{s.blacklisted, bson.D{{Key: "token_id", Value: 1}}, nil},
		{s.sessions, bson.D{{Key: "user_id", Value: 1}}, nil},
		{s.audit, bson.D{{Key: "user_id", Value: 1}, {Key: "created_at", Value: -1}}, nil},
		{s.attempts, bson.D{{Key: "w", Value: 1}, {Key: "k", Value: -1}}, nil},
		{s.claims, bson.D{{Key: "created_at", Value: 1}}, nil},
	} {
		m := mongo.IndexModel{Keys: ix.keys}
		if ix.opts != nil {
			m.Options = ix.opts
		}
		if _, err := ix.c.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("migrate: index on %s: %w", ix.c.Name(), err)
		}
	}
	s.ttl = true
	for _, c := range []*mongo.Collection{s.outstanding, s.blacklisted, s.sessions, s.revocations, s.rotations, s.attempts, s.audit} {
		expiry := bson.D{{Key: "expires_at", Value: 1}}
		if c == s.audit {
			expiry = bson.D{{Key: "keep_until", Value: 1}}
		}
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
	if err := s.logBlacklist(ctx); err != nil {
		return fmt.Errorf("migrate: blacklist log: %w", err)
	}
	return nil
}

// SelfExpiring reports whether Migrate could create TTL indexes, so the
// server deletes expired documents by itself.
func (s *Store) SelfExpiring() bool { return s.ttl }

func isDup(err error) bool { return mongo.IsDuplicateKeyError(err) }

// claimDoc is one number taken from a counter: its unique _id
// ("name/number") is what makes the number this caller's.
type claimDoc struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	CreatedAt time.Time `bson:"created_at"`
}

// next allocates n numbers from the named counter, each unique among all
// callers of every instance, and returns them in increasing order (not
// necessarily consecutive). A number is taken by inserting its claim
// document: a unique _id is the one write that is atomic on every
// MongoDB-wire server, FerretDB included, whose $inc is a read-modify-write
// that loses concurrent increments (it handed out duplicate sequence
// numbers, so concurrent revocations overwrote one another). The counter
// document only hints where to start; it may lag behind.
func (s *Store) next(ctx context.Context, name string, n int64) ([]int64, error) {
	var hint struct {
		Seq int64 `bson:"seq"`
	}
	err := s.counters.FindOne(ctx, bson.M{"_id": name}).Decode(&hint)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("counter %s: %w", name, err)
	}
	out := make([]int64, 0, n)
	candidate := hint.Seq + 1
	now := time.Now().UTC()
	for tries := 0; int64(len(out)) < n; tries++ {
		if tries > 10_000 {
			return nil, fmt.Errorf("counter %s: no free number after %d tries", name, tries)
		}
		_, err := s.claims.InsertOne(ctx, claimDoc{ID: name + "/" + strconv.FormatInt(candidate, 10), Name: name, CreatedAt: now})
		switch {
		case err == nil:
			out = append(out, candidate)
		case !isDup(err):
			return nil, fmt.Errorf("counter %s: %w", name, err)
		}
		candidate++
	}
	// Move the hint on (best effort: a lost update only costs a later
	// caller a few duplicate-key retries).
	if _, err := s.counters.UpdateOne(ctx, bson.M{"_id": name}, bson.M{"$max": bson.M{"seq": out[len(out)-1]}},
		options.UpdateOne().SetUpsert(true)); err != nil && !isDup(err) {
		return nil, fmt.Errorf("counter %s: %w", name, err)
	}
	return out, nil
}

// claimRetention is how long claim documents are kept. A caller starts
// from the hint it read moments before, so a number claimed longer ago
// than any operation can last is never tried again and its claim can go.
const claimRetention = time.Hour

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
	ids, err := s.next(ctx, "users", 1)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	id := ids[0]
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
