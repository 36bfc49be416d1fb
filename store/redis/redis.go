package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/storekit"
)

var (
	_ jwtrevoke.TokenStore      = (*Store)(nil)
	_ jwtrevoke.Notifier        = (*Store)(nil)
	_ jwtrevoke.LoggedBlacklist = (*Store)(nil)
)

// Store keeps tokens, sessions, revocations and settings in Redis.
type Store struct {
	c      *goredis.Client
	prefix string // "{jwtrevoke}:" + the URL's prefix parameter + ":"
	url    string
	// logged is set once the database is known to be at schemaVersion 3
	// or later (BlacklistLogged).
	logged atomic.Bool
	// oldLayout is set while the database holds revocations in the layout
	// before schemaVersion 4, which Migrate moves to the revocation log:
	// reading the log meanwhile would miss them, so it fails.
	oldLayout atomic.Bool
}

// errOldLayout is what reading the revocation log returns before Migrate
// has moved an earlier version's revocations into it.
var errOldLayout = errors.New("the Redis database holds revocations of an earlier version, not moved yet: run jwtrevoke migrate (serve does unless --no-migrate)")

// Open connects to redis://[user:pass@]host:6379/N and checks that the
// server cannot lose revocations: maxmemory-policy must be noeviction
// (unless the URL adds allow_eviction=true), and a server without AOF gets a
// loud warning. The URL parameter prefix=NAME namespaces the keys, so
// several deployments (or tests) can share a server.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return nil, fmt.Errorf("redis URL: want redis://host:6379/N")
	}
	q := u.Query()
	prefix, allowEviction := q.Get("prefix"), q.Get("allow_eviction") == "true"
	q.Del("prefix")
	q.Del("allow_eviction")
	u.RawQuery = q.Encode()
	opts, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	c := goredis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("open redis %s: %w", u.Redacted(), err)
	}
	if err := checkServer(ctx, c, allowEviction); err != nil {
		c.Close()
		return nil, err
	}
	st := &Store{c: c, prefix: "{jwtrevoke}:" + prefix + ":", url: u.Redacted()}
	// A database migrated to schemaVersion already holds its whole
	// blacklist in the revocation log; any other (an error reading it
	// included) is left to Migrate, and the service asks IsBlacklisted.
	v, err := c.Get(ctx, st.prefix+"schema").Int()
	switch {
	case err == nil && v >= schemaVersion:
		st.logged.Store(true)
	case err != nil && !errors.Is(err, goredis.Nil):
		c.Close()
		return nil, fmt.Errorf("open redis %s: schema: %w", u.Redacted(), err)
	default:
		n, err := c.Exists(ctx, st.prefix+"revs").Result()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("open redis %s: %w", u.Redacted(), err)
		}
		st.oldLayout.Store(n > 0)
	}
	return st, nil
}

// checkServer refuses an evicting server and warns about one without AOF.
func checkServer(ctx context.Context, c *goredis.Client, allowEviction bool) error {
	cfg, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		slog.Warn("cannot read the Redis server's maxmemory-policy (CONFIG is not allowed?); make sure it is noeviction, or revocations may be evicted and revoked tokens accepted", "err", err)
		return nil
	}
	if p := cfg["maxmemory-policy"]; p != "noeviction" {
		if !allowEviction {
			return fmt.Errorf("redis maxmemory-policy is %q: Redis could evict revocations and revoked tokens would be accepted; set maxmemory-policy noeviction (or add allow_eviction=true to the URL to accept the risk)", p)
		}
		slog.Warn("REDIS MAY EVICT REVOCATIONS: maxmemory-policy is not noeviction and allow_eviction=true was given; an evicted revocation means a revoked token is accepted", "maxmemory-policy", p)
	}
	if aof, err := c.ConfigGet(ctx, "appendonly").Result(); err == nil && aof["appendonly"] != "yes" {
		slog.Warn("redis runs without AOF (appendonly no): revocations acknowledged to clients are lost if Redis restarts; set appendonly yes and appendfsync always")
	}
	return nil
}

// Close closes the connections.
func (s *Store) Close() error { return s.c.Close() }

// Channel is the pub/sub channel every revocation is published on, as the
// JSON that DecodeRevocation reads.
func (s *Store) Channel() string { return s.prefix + "revocations" }

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func optMS(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ms(*t)
}

func fromMS(s string) (time.Time, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return time.UnixMilli(v).UTC(), nil
}

func optID(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}

func tokenArgs(t jwtrevoke.OutstandingToken) []any {
	return []any{t.JTI, optID(t.UserID), t.Token, optMS(t.CreatedAt), ms(t.ExpiresAt)}
}

// scriptErr maps the scripts' error replies to the store's sentinels.
func scriptErr(err error, jti string) error {
	if err == nil {
		return nil
	}
	// Redis 7 prefixes a script's error_reply without a code with "ERR ".
	msg := strings.TrimPrefix(err.Error(), "ERR ")
	switch {
	case strings.HasPrefix(msg, "BLACKLISTED"):
		return fmt.Errorf("token %s: %w", jti, jwtrevoke.ErrBlacklisted)
	case strings.HasPrefix(msg, "EXISTS"):
		return fmt.Errorf("%s: %w", strings.TrimPrefix(msg, "EXISTS "), jwtrevoke.ErrExists)
	}
	return err
}

// IssueSession implements jwtrevoke.TokenStore.
func (s *Store) IssueSession(ctx context.Context, t jwtrevoke.OutstandingToken, sess jwtrevoke.Session) error {
	args := append(tokenArgs(t), sess.ID, ms(sess.CreatedAt), ms(sess.ExpiresAt), sess.IP, sess.UserAgent, strconv.FormatInt(sess.UserID, 10))
	if err := scriptErr(issueScript.Run(ctx, s.c, []string{s.prefix}, args...).Err(), t.JTI); err != nil {
		return fmt.Errorf("issue session: %w", err)
	}
	return nil
}

// IsBlacklisted implements jwtrevoke.TokenStore.
func (s *Store) IsBlacklisted(ctx context.Context, jti string) (bool, error) {
	b, err := s.c.HExists(ctx, s.prefix+"tok:"+jti, "blacklisted_at").Result()
	if err != nil {
		return false, fmt.Errorf("is blacklisted: %w", err)
	}
	return b, nil
}

// Blacklist implements jwtrevoke.TokenStore.
func (s *Store) Blacklist(ctx context.Context, t jwtrevoke.OutstandingToken, revs ...jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	now := time.Now()
	encoded := make([]revJSON, len(revs))
	for i, r := range revs {
		encoded[i] = encodeRev(r, now)
	}
	arg, err := json.Marshal(encoded)
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 {
		arg = []byte("{}") // cjson decodes [] as an empty table either way
	}
	res, err := blacklistScript.Run(ctx, s.c, []string{s.prefix}, append(tokenArgs(t), ms(now), string(arg))...).StringSlice()
	if err = scriptErr(err, t.JTI); err != nil {
		return nil, fmt.Errorf("blacklist token: %w", err)
	}
	return decodeAll(res)
}

// Rotate implements jwtrevoke.TokenStore. The script keeps the rotation
// as JSON under rot:<old jti> until the old token expires.
func (s *Store) Rotate(ctx context.Context, r jwtrevoke.Rotation) (jwtrevoke.Rotation, error) {
	now := time.Now()
	if r.RotatedAt.IsZero() {
		r.RotatedAt = now
	}
	r.RotatedAt = r.RotatedAt.UTC()
	flag := "0"
	if r.BlacklistOld {
		flag = "1"
	}
	rec, err := json.Marshal(encodeRotation(r))
	if err != nil {
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
	}
	args := append(tokenArgs(r.Old), flag)
	args = append(args, tokenArgs(r.Next)...)
	args = append(args, r.SessionID, ms(r.SessionExpires), ms(now), string(rec))
	res, err := rotateScript.Run(ctx, s.c, []string{s.prefix}, args...).StringSlice()
	if err = scriptErr(err, r.Old.JTI); err != nil {
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
	}
	if len(res) != 2 {
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: unexpected reply %q", res)
	}
	switch res[0] {
	case "OK":
		return r, nil
	case "ROTATED":
		prev, err := decodeRotation([]byte(res[1]), r.Old)
		if err != nil {
			return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
		}
		return prev, fmt.Errorf("rotate token %s: %w", r.Old.JTI, jwtrevoke.ErrRotated)
	}
	return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: unexpected reply %q", res[0])
}

// RevokeSession implements jwtrevoke.TokenStore.
func (s *Store) RevokeSession(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	now := time.Now()
	arg, err := json.Marshal(encodeRev(rev, now))
	if err != nil {
		return nil, err
	}
	res, err := revokeSessionScript.Run(ctx, s.c, []string{s.prefix}, ms(now), string(arg)).Text()
	if err != nil {
		return nil, fmt.Errorf("revoke session: %w", err)
	}
	return decodeAll([]string{res})
}

// RevokeUser implements jwtrevoke.TokenStore.
func (s *Store) RevokeUser(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	now := time.Now()
	arg, err := json.Marshal(encodeRev(rev, now))
	if err != nil {
		return nil, err
	}
	res, err := revokeUserScript.Run(ctx, s.c, []string{s.prefix}, strconv.FormatInt(rev.UserID, 10), ms(now), string(arg)).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	return decodeAll(res)
}

// Revocations implements jwtrevoke.TokenStore.
func (s *Store) Revocations(ctx context.Context, afterSeq int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	revs, _, err := s.RevocationsPage(ctx, afterSeq, now, 0)
	return revs, err
}

var _ jwtrevoke.RevocationRanger = (*Store)(nil)

// RevocationsPage implements jwtrevoke.RevocationPager: a page is limit
// entries of the revocation log (all when limit is 0), one ZRANGEBYSCORE.
func (s *Store) RevocationsPage(ctx context.Context, afterSeq int64, now time.Time, limit int) ([]jwtrevoke.Revocation, int64, error) {
	by := &goredis.ZRangeBy{Min: "(" + strconv.FormatInt(afterSeq, 10), Max: "+inf"}
	if limit > 0 {
		by.Count = int64(limit)
	}
	out, last, n, err := s.readLog(ctx, by, now)
	if err != nil || limit == 0 || n < limit {
		return out, 0, err
	}
	return out, last, nil
}

// LastRevocationSeq implements jwtrevoke.RevocationRanger: the highest
// score of the revocation log.
func (s *Store) LastRevocationSeq(ctx context.Context) (int64, error) {
	if s.oldLayout.Load() {
		return 0, fmt.Errorf("last revocation: %w", errOldLayout)
	}
	last, err := s.c.ZRevRangeWithScores(ctx, s.prefix+"revlog", 0, 0).Result()
	if err != nil {
		return 0, fmt.Errorf("last revocation: %w", err)
	}
	if len(last) == 0 {
		return 0, nil
	}
	return int64(last[0].Score), nil
}

// RevocationsRange implements jwtrevoke.RevocationRanger: a range of
// scores of the revocation log, one ZRANGEBYSCORE.
func (s *Store) RevocationsRange(ctx context.Context, from, to int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	if to <= from {
		return nil, nil
	}
	out, _, _, err := s.readLog(ctx, &goredis.ZRangeBy{
		Min: "(" + strconv.FormatInt(from, 10), Max: strconv.FormatInt(to, 10)}, now)
	return out, err
}

// readLog reads the revocation log's entries that by selects, in Seq
// order, and returns those not expired at now, the Seq of the last entry
// read (expired or not) and how many entries it read. The entries are the
// stored JSON themselves: Redis sends them from the sorted set without a
// lookup per key, most of the cost of a long load when they were keys.
func (s *Store) readLog(ctx context.Context, by *goredis.ZRangeBy, now time.Time) (out []jwtrevoke.Revocation, last int64, n int, err error) {
	if s.oldLayout.Load() {
		return nil, 0, 0, fmt.Errorf("list revocations: %w", errOldLayout)
	}
	members, err := s.c.ZRangeByScore(ctx, s.prefix+"revlog", by).Result()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("list revocations: %w", err)
	}
	if len(members) == 0 {
		return nil, 0, 0, nil
	}
	out = make([]jwtrevoke.Revocation, 0, len(members))
	for _, m := range members {
		r, err := decodeRevocation(m)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("list revocations: %w", err)
		}
		last = r.Seq
		if r.ExpiresAt.After(now) {
			out = append(out, r)
		}
	}
	return out, last, len(members), nil
}

// Sessions implements jwtrevoke.TokenStore.
func (s *Store) Sessions(ctx context.Context, userID int64, now time.Time) ([]jwtrevoke.Session, error) {
	ids, err := s.c.ZRevRange(ctx, s.prefix+"usess:"+strconv.FormatInt(userID, 10), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	var out []jwtrevoke.Session
	for _, id := range ids {
		h, err := s.c.HGetAll(ctx, s.prefix+"sess:"+id).Result()
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		if len(h) == 0 {
			continue
		}
		ss := jwtrevoke.Session{ID: id, UserID: userID, IP: h["ip"], UserAgent: h["user_agent"]}
		var err1, err2 error
		ss.CreatedAt, err1 = fromMS(h["created_at"])
		ss.ExpiresAt, err2 = fromMS(h["expires_at"])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		if r := h["revoked_at"]; r != "" {
			t, err := fromMS(r)
			if err != nil {
				return nil, fmt.Errorf("list sessions: %w", err)
			}
			ss.RevokedAt = &t
		}
		if ss.ExpiresAt.After(now) {
			out = append(out, ss)
		}
	}
	return out, nil
}

func decodeToken(h map[string]string) (jwtrevoke.OutstandingToken, error) {
	t := jwtrevoke.OutstandingToken{JTI: h["jti"], Token: h["token"]}
	id, err := strconv.ParseInt(h["id"], 10, 64)
	if err != nil {
		return t, fmt.Errorf("token id %q", h["id"])
	}
	t.ID = id
	if u := h["user_id"]; u != "" {
		v, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			return t, fmt.Errorf("token user %q", u)
		}
		t.UserID = &v
	}
	if t.ExpiresAt, err = fromMS(h["expires_at"]); err != nil {
		return t, err
	}
	for field, dst := range map[string]**time.Time{"created_at": &t.CreatedAt, "blacklisted_at": &t.BlacklistedAt} {
		if v := h[field]; v != "" {
			tm, err := fromMS(v)
			if err != nil {
				return t, err
			}
			*dst = &tm
		}
	}
	return t, nil
}

// FlushExpired implements jwtrevoke.TokenStore: Redis deletes expired keys
// itself; this removes what they leave in the indexes, in batches.
func (s *Store) FlushExpired(ctx context.Context, now time.Time, opts jwtrevoke.FlushOptions) (jwtrevoke.FlushResult, error) {
	var res jwtrevoke.FlushResult
	batch := storekit.BatchSize(opts)
	for {
		v, err := flushTokensScript.Run(ctx, s.c, []string{s.prefix}, ms(now), batch).Int64Slice()
		if err != nil {
			return res, fmt.Errorf("flush expired tokens: %w", err)
		}
		res.Outstanding += v[0]
		res.Blacklisted += v[1]
		if v[0] > 0 {
			storekit.Report(opts, res)
		}
		if v[0] < int64(batch) {
			break
		}
	}
	for _, f := range []struct {
		script *goredis.Script
		count  *int64
	}{
		{flushSessionsScript, &res.Sessions}, {flushRevocationsScript, &res.Revocations}, {flushRotationsScript, &res.Rotations},
		{flushAuditScript, &res.Audit}, {flushAttemptsScript, &res.Attempts},
	} {
		for {
			n, err := f.script.Run(ctx, s.c, []string{s.prefix}, ms(now), batch).Int64()
			if err != nil {
				return res, fmt.Errorf("flush expired: %w", err)
			}
			*f.count += n
			if n > 0 {
				storekit.Report(opts, res)
			}
			if n < int64(batch) {
				break
			}
		}
	}
	return res, nil
}

// Audit implements jwtrevoke.TokenStore: the user's audit entries, kept in
// the sorted set audit:<user> by time, newest first.
func (s *Store) Audit(ctx context.Context, userID int64, limit int) ([]jwtrevoke.Revocation, error) {
	stop := int64(-1)
	if limit > 0 {
		stop = int64(limit) - 1
	}
	members, err := s.c.ZRevRange(ctx, s.prefix+"audit:"+strconv.FormatInt(userID, 10), 0, stop).Result()
	if err != nil {
		return nil, fmt.Errorf("audit trail of user %d: %w", userID, err)
	}
	out := make([]jwtrevoke.Revocation, 0, len(members))
	for _, m := range members {
		r, err := decodeAuditEntry(m)
		if err != nil {
			return nil, fmt.Errorf("audit trail of user %d: %w", userID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// CountAttempt implements jwtrevoke.TokenStore with one script: INCRBY on
// att:<key>:<windowStart ms>, which expires at the end of the window.
func (s *Store) CountAttempt(ctx context.Context, key string, windowStart time.Time, window time.Duration, delta int64) (int64, error) {
	n, err := countAttemptScript.Run(ctx, s.c, []string{s.prefix}, key, ms(windowStart), ms(windowStart.Add(window)), delta).Int64()
	if err != nil {
		return 0, fmt.Errorf("count attempt %q: %w", key, err)
	}
	return n, nil
}

// Setting implements jwtrevoke.TokenStore.
func (s *Store) Setting(ctx context.Context, key, value string) (string, error) {
	if err := s.c.HSetNX(ctx, s.prefix+"settings", key, value).Err(); err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	v, err := s.c.HGet(ctx, s.prefix+"settings", key).Result()
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return v, nil
}

// Notify implements jwtrevoke.Notifier with SUBSCRIBE on Channel.
func (s *Store) Notify(ctx context.Context, poke func()) error {
	sub := s.c.Subscribe(ctx, s.Channel())
	defer sub.Close()
	// go-redis does not stop a blocked read when ctx is cancelled: closing
	// the subscription does.
	stop := context.AfterFunc(ctx, func() { sub.Close() })
	defer stop()
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("subscribe: %w", err)
	}
	poke() // anything published before the subscription took effect
	for {
		msg, err := sub.ReceiveMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("subscribe: %w", err)
		}
		_ = msg
		poke()
	}
}
