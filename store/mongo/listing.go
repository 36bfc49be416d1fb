package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/storekit"
)

// OutstandingTokens implements jwtrevoke.Store. Each order is one indexed
// find (created_at, expires_at or blacklisted_at, each with _id, which is
// the token's ID); with SortBlacklisted, the blacklisted tokens and then
// the others, by _id (see storekit.Concat). A token without created_at
// (null) sorts as the earliest, as MongoDB sorts null before dates.
func (s *Store) OutstandingTokens(ctx context.Context, q jwtrevoke.TokenQuery) ([]jwtrevoke.OutstandingToken, error) {
	now, err := storekit.Start(q)
	if err != nil {
		return nil, err
	}
	filter := bson.D{}
	if q.UserID != nil {
		filter = append(filter, bson.E{Key: "user_id", Value: *q.UserID})
	}
	if q.JTI != "" {
		filter = append(filter, bson.E{Key: "jti", Value: q.JTI})
	}
	blacklisted := bson.E{Key: "blacklisted_at", Value: bson.M{"$ne": nil}}
	notBlacklisted := bson.E{Key: "blacklisted_at", Value: nil}
	if q.BlacklistedOnly {
		filter = append(filter, blacklisted)
	}
	switch q.Status {
	case jwtrevoke.TokenLive:
		filter = append(filter, notBlacklisted, bson.E{Key: "expires_at", Value: bson.M{"$gt": now}})
	case jwtrevoke.TokenExpired:
		filter = append(filter, bson.E{Key: "expires_at", Value: bson.M{"$lte": now}})
	case jwtrevoke.TokenBlacklisted:
		filter = append(filter, blacklisted)
	}
	dir := -1
	if q.Ascending {
		dir = 1
	}
	part := func(cond *bson.E, field string) storekit.Part[jwtrevoke.OutstandingToken] {
		f := filter
		if cond != nil {
			f = append(f[:len(f):len(f)], *cond)
		}
		sort := bson.D{{Key: field, Value: dir}, {Key: "_id", Value: dir}}
		if field == "_id" {
			sort = sort[1:]
		}
		return storekit.Part[jwtrevoke.OutstandingToken]{
			List: func(limit, offset int) ([]jwtrevoke.OutstandingToken, error) {
				return s.findTokens(ctx, f, sort, limit, offset)
			},
			Count: func() (int, error) {
				n, err := s.outstanding.CountDocuments(ctx, f)
				return int(n), err
			},
		}
	}
	var first, second storekit.Part[jwtrevoke.OutstandingToken]
	hasFirst, hasSecond := storekit.Parts(q)
	switch q.Sort {
	case jwtrevoke.SortExpires:
		first = part(nil, "expires_at")
	case jwtrevoke.SortBlacklisted:
		if hasFirst {
			first = part(&blacklisted, "blacklisted_at")
		}
		if hasSecond {
			second = part(&notBlacklisted, "_id")
		}
	default:
		first = part(nil, "created_at")
	}
	out, err := storekit.Concat(q.Limit, q.Offset, first, second)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// findTokens reads the tokens matching filter in order, from offset, at
// most limit (0: all).
func (s *Store) findTokens(ctx context.Context, filter bson.D, sort bson.D, limit, offset int) ([]jwtrevoke.OutstandingToken, error) {
	opts := options.Find().SetSort(sort).SetSkip(int64(offset))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.outstanding.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []tokenDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]jwtrevoke.OutstandingToken, len(docs))
	for i, d := range docs {
		out[i] = jwtrevoke.OutstandingToken{ID: d.ID, UserID: d.UserID, JTI: d.JTI, Token: d.Token,
			CreatedAt: utcPtr(d.CreatedAt), ExpiresAt: d.ExpiresAt.UTC(), BlacklistedAt: utcPtr(d.BlacklistedAt)}
	}
	return out, nil
}

// Stats implements jwtrevoke.Store with one CountDocuments per figure,
// each over an index (expires_at, blacklisted_at, the revocations'
// created_at, keep_until, attempts' expires_at), but the live sessions',
// which reads the unexpired sessions to leave out the revoked ones, and
// the count of all revocations. The counts are not one snapshot: a write
// between two of them can show.
func (s *Store) Stats(ctx context.Context, now time.Time) (jwtrevoke.Stats, error) {
	var st jwtrevoke.Stats
	var unexpired, blacklistedLive int64
	expired := bson.M{"$lte": now}
	blacklisted := bson.M{"$ne": nil}
	for _, c := range []struct {
		coll   *mongo.Collection
		filter bson.M
		n      *int64
	}{
		{s.outstanding, bson.M{"expires_at": bson.M{"$gt": now}}, &unexpired},
		{s.outstanding, bson.M{"expires_at": expired}, &st.ExpiredTokens},
		{s.outstanding, bson.M{"blacklisted_at": blacklisted}, &st.BlacklistedTokens},
		{s.outstanding, bson.M{"blacklisted_at": blacklisted, "expires_at": bson.M{"$gt": now}}, &blacklistedLive},
		{s.sessions, bson.M{"expires_at": bson.M{"$gt": now}, "revoked_at": nil}, &st.LiveSessions},
		{s.sessions, bson.M{"expires_at": expired}, &st.Expired.Sessions},
		{s.revocations, bson.M{}, &st.Revocations},
		{s.revocations, bson.M{"created_at": bson.M{"$gt": now.Add(-time.Hour), "$lte": now}}, &st.RevokedLastHour},
		{s.revocations, bson.M{"created_at": bson.M{"$gt": now.Add(-24 * time.Hour), "$lte": now}}, &st.RevokedLastDay},
		{s.revocations, bson.M{"expires_at": expired}, &st.Expired.Revocations},
		{s.rotations, bson.M{"expires_at": expired}, &st.Expired.Rotations},
		{s.audit, bson.M{"keep_until": expired}, &st.Expired.Audit},
		{s.attempts, bson.M{"expires_at": expired, "k": 1}, &st.Expired.Attempts},
	} {
		n, err := c.coll.CountDocuments(ctx, c.filter)
		if err != nil {
			return jwtrevoke.Stats{}, fmt.Errorf("stats: count %s: %w", c.coll.Name(), err)
		}
		*c.n = n
	}
	st.LiveTokens = unexpired - blacklistedLive
	st.Expired.Outstanding = st.ExpiredTokens
	st.Expired.Blacklisted = st.BlacklistedTokens - blacklistedLive
	return st, nil
}
