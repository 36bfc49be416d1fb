package mongo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jwtrevoke/jwtrevoke"
)

// auditDoc is one entry of a user's audit trail: a caller-supplied
// revocation recorded with AuditUntil, kept until keep_until. Its _id is
// the revocation's sequence number, so writing it again (a caller
// completing a blacklisting that died half-way) is harmless.
type auditDoc struct {
	Seq       int64      `bson:"_id"`
	UserID    int64      `bson:"user_id"`
	SessionID string     `bson:"session_id"`
	JTI       string     `bson:"jti"`
	NotBefore *time.Time `bson:"not_before"`
	ExpiresAt time.Time  `bson:"expires_at"`
	Reason    string     `bson:"reason"`
	IP        string     `bson:"ip"`
	UserAgent string     `bson:"user_agent"`
	CreatedAt time.Time  `bson:"created_at"`
	KeepUntil time.Time  `bson:"keep_until"`
}

func (d auditDoc) rev() jwtrevoke.Revocation {
	r := jwtrevoke.Revocation{Seq: d.Seq, SessionID: d.SessionID, JTI: d.JTI, UserID: d.UserID,
		ExpiresAt: d.ExpiresAt.UTC(), Reason: d.Reason, CreatedAt: d.CreatedAt.UTC(),
		IP: d.IP, UserAgent: d.UserAgent, AuditUntil: d.KeepUntil.UTC()}
	if d.NotBefore != nil {
		r.NotBefore = d.NotBefore.UTC()
	}
	return r
}

// Audit implements jwtrevoke.Store.
func (s *Store) Audit(ctx context.Context, userID int64, limit int) ([]jwtrevoke.Revocation, error) {
	opts := options.Find().SetSort(bson.D{{Key: "user_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.audit.Find(ctx, bson.M{"user_id": userID}, opts)
	if err != nil {
		return nil, fmt.Errorf("audit trail of user %d: %w", userID, err)
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("audit trail of user %d: %w", userID, err)
	}
	out := make([]jwtrevoke.Revocation, len(docs))
	for i, d := range docs {
		out[i] = d.rev()
	}
	return out, nil
}

// attemptDoc is one change of a window's attempt counter: the k-th
// (from 1) change of window W (key NUL window start in Unix ms) and the
// counter's value N after it. The counter's value is the N of its highest
// k. Its _id (W NUL k) is unique, which is what makes CountAttempt atomic
// without transactions: of concurrent changes that read the same highest
// k, exactly one inserts k+1; the others re-read and try k+2, and so on.
// (An update with $inc is not enough: FerretDB applies update operators
// by reading the document and writing it back, losing concurrent
// increments.) A window's documents are deleted together once it has
// ended, never before, so the k of a window are dense from 1: that is
// what keeps a slow caller from re-inserting a deleted k.
type attemptDoc struct {
	ID        string    `bson:"_id"`
	W         string    `bson:"w"`
	K         int64     `bson:"k"`
	N         int64     `bson:"n"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// maxAttemptRetries bounds how often one CountAttempt loses the race for
// the next k before it gives up.
const maxAttemptRetries = 1000

// CountAttempt implements jwtrevoke.Store (see attemptDoc).
func (s *Store) CountAttempt(ctx context.Context, key string, windowStart time.Time, window time.Duration, delta int64) (int64, error) {
	w := key + "\x00" + strconv.FormatInt(windowStart.UnixMilli(), 10)
	expires := windowStart.Add(window).UTC()
	latest := options.FindOne().SetSort(bson.D{{Key: "w", Value: 1}, {Key: "k", Value: -1}})
	for range maxAttemptRetries {
		var last attemptDoc
		err := s.attempts.FindOne(ctx, bson.M{"w": w}, latest).Decode(&last)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return 0, fmt.Errorf("count attempt %q: %w", key, err)
		}
		k := last.K + 1
		d := attemptDoc{ID: w + "\x00" + strconv.FormatInt(k, 10), W: w, K: k, N: last.N + delta, ExpiresAt: expires}
		_, err = s.attempts.InsertOne(ctx, d)
		if err == nil {
			return d.N, nil
		}
		if !isDup(err) {
			return 0, fmt.Errorf("count attempt %q: %w", key, err)
		}
		// A concurrent caller took k: read the new highest and try again.
	}
	return 0, fmt.Errorf("count attempt %q: lost the race %d times", key, maxAttemptRetries)
}

// flushAttempts deletes the attempt counters of windows that ended at or
// before now, at most batch windows at a time, and calls done with the
// count of windows deleted by each batch.
func (s *Store) flushAttempts(ctx context.Context, now time.Time, batch int, done func(n int64)) error {
	for {
		// Every window has exactly one first change (k 1): it stands for
		// the window, and goes last.
		cur, err := s.attempts.Find(ctx, bson.M{"expires_at": bson.M{"$lte": now}, "k": 1},
			options.Find().SetLimit(int64(batch)).SetProjection(bson.M{"_id": 1, "w": 1}))
		if err != nil {
			return err
		}
		var heads []attemptDoc
		if err := cur.All(ctx, &heads); err != nil {
			return err
		}
		if len(heads) == 0 {
			break
		}
		ws, ids := make([]string, len(heads)), make([]string, len(heads))
		for i, h := range heads {
			ws[i], ids[i] = h.W, h.ID
		}
		if _, err := s.attempts.DeleteMany(ctx, bson.M{"w": bson.M{"$in": ws}, "k": bson.M{"$ne": 1}}); err != nil {
			return err
		}
		r, err := s.attempts.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}})
		if err != nil {
			return err
		}
		done(r.DeletedCount)
		if len(heads) < batch {
			break
		}
	}
	// Changes left without their window's first one (written by a caller
	// that was still counting in the window as it was flushed, or left by
	// a server's TTL index): not counters of their own.
	for {
		ids, err := s.ids(ctx, s.attempts, bson.M{"expires_at": bson.M{"$lte": now}}, batch)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		if _, err := s.attempts.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}}); err != nil {
			return err
		}
		if len(ids) < batch {
			break
		}
	}
	return nil
}
