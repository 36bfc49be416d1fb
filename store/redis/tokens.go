package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/storekit"
)

// OutstandingTokens implements jwtrevoke.TokenStore. A jti is one key; a
// user's tokens are read whole from the user's index (utoks:<user>) and
// ordered here. Otherwise the index of the order is read from the
// requested end, a chunk at a time, and each token checked against the
// query: toks:created (created_at), toks:exp (expires_at, narrowed to the
// live or expired ones by score), or btoks:at (blacklisted_at) and then
// toks (by id) for the tokens not blacklisted. A page then costs about
// Offset+Limit tokens read, divided by the share of the tokens the
// query selects. Tokens whose keys Redis has expired are not listed.
func (s *Store) OutstandingTokens(ctx context.Context, q jwtrevoke.TokenQuery) ([]jwtrevoke.OutstandingToken, error) {
	now, err := storekit.Start(q)
	if err != nil {
		return nil, err
	}
	var out []jwtrevoke.OutstandingToken
	switch {
	case q.JTI != "":
		out, err = s.tokens(ctx, []string{q.JTI})
	case q.UserID != nil:
		var jtis []string
		if jtis, err = s.c.ZRange(ctx, s.prefix+"utoks:"+strconv.FormatInt(*q.UserID, 10), 0, -1).Result(); err == nil {
			out, err = s.tokens(ctx, jtis)
		}
	default:
		return s.scanTokens(ctx, q, now)
	}
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out = slices.DeleteFunc(out, func(t jwtrevoke.OutstandingToken) bool { return !storekit.Selects(q, t, now) })
	slices.SortFunc(out, storekit.Compare(q))
	return storekit.Page(out, q.Limit, q.Offset), nil
}

// tokens reads the tokens jtis, in one round trip, leaving out those whose
// keys are gone.
func (s *Store) tokens(ctx context.Context, jtis []string) ([]jwtrevoke.OutstandingToken, error) {
	cmds := make([]*goredis.MapStringStringCmd, len(jtis))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, jti := range jtis {
			cmds[i] = p.HGetAll(ctx, s.prefix+"tok:"+jti)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]jwtrevoke.OutstandingToken, 0, len(jtis))
	for _, c := range cmds {
		if c.Val()["id"] == "" {
			continue // expired (at most a blacklisting written after the key expired is left)
		}
		t, err := decodeToken(c.Val())
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// tokenIndex is a sorted set of tokens read in order by scanTokens:
// members with a score from min to max (Redis's syntax), of which jti
// takes the token's jti, and of which only the tokens keep accepts count.
type tokenIndex struct {
	key      string
	min, max string
	jti      func(member string) string
	keep     func(jwtrevoke.OutstandingToken) bool
}

func wholeMember(m string) string { return m }

// userMember is the jti of a member "user:jti" (toks:exp).
func userMember(m string) string {
	_, jti, _ := strings.Cut(m, ":")
	return jti
}

// scanTokens lists q by reading the indexes of its order (see
// OutstandingTokens).
func (s *Store) scanTokens(ctx context.Context, q jwtrevoke.TokenQuery, now time.Time) ([]jwtrevoke.OutstandingToken, error) {
	all := func(jwtrevoke.OutstandingToken) bool { return true }
	var parts []tokenIndex
	switch q.Sort {
	case jwtrevoke.SortExpires:
		ix := tokenIndex{key: "toks:exp", min: "-inf", max: "+inf", jti: userMember, keep: all}
		switch q.Status {
		case jwtrevoke.TokenLive:
			ix.min = "(" + ms(now)
		case jwtrevoke.TokenExpired:
			ix.max = ms(now)
		}
		parts = append(parts, ix)
	case jwtrevoke.SortBlacklisted:
		first, second := storekit.Parts(q)
		if first {
			parts = append(parts, tokenIndex{key: "btoks:at", min: "-inf", max: "+inf", jti: wholeMember, keep: all})
		}
		if second {
			parts = append(parts, tokenIndex{key: "toks", min: "-inf", max: "+inf", jti: wholeMember,
				keep: func(t jwtrevoke.OutstandingToken) bool { return t.BlacklistedAt == nil }})
		}
	default:
		parts = append(parts, tokenIndex{key: "toks:created", min: "-inf", max: "+inf", jti: wholeMember, keep: all})
	}
	skip := q.Offset
	var out []jwtrevoke.OutstandingToken
	visit := func(t jwtrevoke.OutstandingToken) bool {
		if !storekit.Selects(q, t, now) {
			return true
		}
		if skip > 0 {
			skip--
			return true
		}
		out = append(out, t)
		return q.Limit <= 0 || len(out) < q.Limit
	}
	chunk := 1000
	if q.Limit > 0 {
		chunk = min(max(q.Offset+q.Limit, 100), chunk)
	}
	for _, ix := range parts {
		more, err := s.scanIndex(ctx, ix, q, chunk, visit)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		if !more {
			break
		}
	}
	return out, nil
}

// scanIndex calls visit with the tokens of ix that ix.keep accepts, in q's
// order, reading chunk members at a time, until visit returns false; it
// returns whether it got to the end. A chunk always ends with all the
// members of its last score (read separately when the chunk cut them), so
// that the members of one score, ordered by the store's rule (by ID, not
// as Redis orders equal scores), are never split.
func (s *Store) scanIndex(ctx context.Context, ix tokenIndex, q jwtrevoke.TokenQuery, chunk int, visit func(jwtrevoke.OutstandingToken) bool) (bool, error) {
	order := storekit.Compare(q)
	lo, hi := ix.min, ix.max
	for {
		zs, err := s.scoreRange(ctx, ix.key, lo, hi, !q.Ascending, chunk)
		if err != nil {
			return false, err
		}
		full := len(zs) == chunk
		if full {
			last := zs[len(zs)-1].Score
			i := len(zs)
			for i > 0 && zs[i-1].Score == last {
				i--
			}
			group, err := s.scoreRange(ctx, ix.key, score(last), score(last), false, 0)
			if err != nil {
				return false, err
			}
			zs = append(zs[:i], group...)
			if q.Ascending {
				lo = "(" + score(last)
			} else {
				hi = "(" + score(last)
			}
		}
		jtis := make([]string, len(zs))
		for i, z := range zs {
			jtis[i] = ix.jti(z.Member.(string))
		}
		toks, err := s.tokens(ctx, jtis)
		if err != nil {
			return false, err
		}
		slices.SortFunc(toks, order)
		for _, t := range toks {
			if ix.keep(t) && !visit(t) {
				return false, nil
			}
		}
		if !full {
			return true, nil
		}
	}
}

// scoreRange reads the members of key with a score from lo to hi, with
// their scores, highest first when desc, at most count (0: all).
func (s *Store) scoreRange(ctx context.Context, key, lo, hi string, desc bool, count int) ([]goredis.Z, error) {
	by := &goredis.ZRangeBy{Min: lo, Max: hi, Count: int64(count)}
	if desc {
		return s.c.ZRevRangeByScoreWithScores(ctx, s.prefix+key, by).Result()
	}
	return s.c.ZRangeByScoreWithScores(ctx, s.prefix+key, by).Result()
}

// score writes a score as a Redis range bound.
func score(f float64) string {
	switch {
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsInf(f, 1):
		return "+inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Stats implements jwtrevoke.TokenStore with one script of ZCARD and ZCOUNT
// on the indexes the scripts keep (see statsScript): O(log n) each,
// whatever the number of tokens. Like FlushExpired, it counts what the
// indexes hold: an expired token, session or revocation counts until
// flushexpiredtokens removes it, even once Redis has dropped its key.
func (s *Store) Stats(ctx context.Context, now time.Time) (jwtrevoke.Stats, error) {
	var st jwtrevoke.Stats
	v, err := statsScript.Run(ctx, s.c, []string{s.prefix}, ms(now), ms(now.Add(-time.Hour)), ms(now.Add(-24*time.Hour))).Int64Slice()
	if err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	fields := []*int64{&st.LiveTokens, &st.ExpiredTokens, &st.BlacklistedTokens, &st.LiveSessions,
		&st.Revocations, &st.RevokedLastHour, &st.RevokedLastDay, &st.Expired.Blacklisted, &st.Expired.Sessions,
		&st.Expired.Revocations, &st.Expired.Rotations, &st.Expired.Audit, &st.Expired.Attempts}
	if len(v) != len(fields) {
		return jwtrevoke.Stats{}, fmt.Errorf("stats: unexpected reply %v", v)
	}
	for i, f := range fields {
		*f = v[i]
	}
	st.Expired.Outstanding = st.ExpiredTokens
	return st, nil
}

// schemaVersion is the version of the data Migrate brings a database to:
// 2 added toks:created, btoks:at, btoks:exp, rsess:exp and revs:created;
// 3 recorded the token revocation of every rotated, blacklisted token
// that has none (see rotatedBackfillScript), after which the revocation
// log holds every blacklisted token (BlacklistLogged); 4 moved the
// revocations from a key each (rev:<seq>, indexed by revs) to the sorted
// set revlog (see revlogScript), which one ZRANGEBYSCORE reads in order.
const schemaVersion = 4

// revlogBatch is how many revocations one revlogScript moves.
const revlogBatch = 1000

// Migrate brings, once per database (the version is kept in the key
// schema), what the scripts of earlier versions wrote up to date: it
// indexes what they wrote without the indexes that listing and Stats use
// (see backfillScript), with one ZSCAN of toks, btoks, sess:exp and revlog,
// after moving the revocations they kept a key each to the revocation log
// (revlogScript), and records the token revocations of the rotations they
// blacklisted without one (rotatedBackfillScript), with a ZSCAN of
// rots:exp; a script per chunk of members, so that Redis is never blocked
// for long. Instances of an earlier version writing meanwhile
// leave their writes out of the new indexes, and the revocations they
// record (until they stop) out of the log that this version reads: stop
// them before this version starts, or set the key schema back to 3 once
// they are gone and migrate again. Until Migrate has moved them, this
// version refuses to read the revocations of an earlier one (see Open).
func (s *Store) Migrate(ctx context.Context) error {
	v, err := s.c.Get(ctx, s.prefix+"schema").Int()
	switch {
	case err == nil && v >= schemaVersion:
		s.logged.Store(true)
		return nil
	case err != nil && !errors.Is(err, goredis.Nil):
		return fmt.Errorf("migrate: %w", err)
	}
	for {
		n, err := revlogScript.Run(ctx, s.c, []string{s.prefix}, revlogBatch).Int()
		if err != nil {
			return fmt.Errorf("migrate revs: %w", err)
		}
		if n == 0 {
			break
		}
	}
	s.oldLayout.Store(false)
	if v < 2 {
		for _, index := range []string{"toks", "btoks", "sess:exp", "revlog"} {
			err := s.zscanMembers(ctx, index, func(members []any) error {
				return backfillScript.Run(ctx, s.c, []string{s.prefix}, append([]any{index}, members...)...).Err()
			})
			if err != nil {
				return fmt.Errorf("migrate %s: %w", index, err)
			}
		}
	}
	if v < 3 {
		err = s.zscanMembers(ctx, "rots:exp", func(members []any) error {
			return rotatedBackfillScript.Run(ctx, s.c, []string{s.prefix}, append([]any{ms(time.Now())}, members...)...).Err()
		})
		if err != nil {
			return fmt.Errorf("migrate rots:exp: %w", err)
		}
	}
	if err := s.c.Set(ctx, s.prefix+"schema", schemaVersion, 0).Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	s.logged.Store(true)
	return nil
}

// zscanMembers calls fn with the members of the sorted set index, a ZSCAN
// chunk (about 500) at a time.
func (s *Store) zscanMembers(ctx context.Context, index string, fn func(members []any) error) error {
	var cursor uint64
	for {
		kv, next, err := s.c.ZScan(ctx, s.prefix+index, cursor, "", 500).Result()
		if err != nil {
			return err
		}
		if len(kv) > 0 {
			members := make([]any, 0, len(kv)/2)
			for i := 0; i < len(kv); i += 2 { // member, score
				members = append(members, kv[i])
			}
			if err := fn(members); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// BlacklistLogged implements jwtrevoke.LoggedBlacklist: every script
// that blacklists a token records, in the same script, a revocation that
// refuses it (Rotate the old token's, see rotateScript; Blacklist and
// RevokeUser the session and user revocations the service gives them), so
// the revocation log holds the whole blacklist once the database is at
// schemaVersion 3 or later (Migrate, or Open finding it there).
func (s *Store) BlacklistLogged() bool { return s.logged.Load() }
