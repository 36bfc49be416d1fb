package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/storekit"
)

type tokenDoc struct {
	ID            int64      `bson:"_id"`
	JTI           string     `bson:"jti"`
	UserID        *int64     `bson:"user_id"`
	Token         string     `bson:"token"`
	CreatedAt     *time.Time `bson:"created_at"`
	ExpiresAt     time.Time  `bson:"expires_at"`
	BlacklistedAt *time.Time `bson:"blacklisted_at"`
}

// blacklistDoc is the blacklisting of one token. Inserting it (unique jti)
// is the one atomic step that decides which of several concurrent callers
// blacklists the token. It carries the revocations recorded with it until
// they are all in the revocation log (Done), so that a caller that dies
// half-way is completed by the next one.
type blacklistDoc struct {
	JTI           string    `bson:"jti"`
	TokenID       int64     `bson:"token_id"`
	BlacklistedAt time.Time `bson:"blacklisted_at"`
	ExpiresAt     time.Time `bson:"expires_at"`
	Revs          []revDoc  `bson:"revs"`
	Done          bool      `bson:"done"`
	_             struct{}  `bson:"-"`
}

type revDoc struct {
	Seq       int64      `bson:"_id"`
	SessionID string     `bson:"session_id"`
	JTI       string     `bson:"jti"`
	UserID    int64      `bson:"user_id"`
	NotBefore *time.Time `bson:"not_before"`
	ExpiresAt time.Time  `bson:"expires_at"`
	Reason    string     `bson:"reason"`
	CreatedAt time.Time  `bson:"created_at"`
	// Audit is what the revocation's audit entry adds, for a caller-supplied
	// revocation with AuditUntil set; nil otherwise. It rides along in the
	// blacklist document (so that a caller completing a blacklisting writes
	// the audit entry too) but is not stored in the revocation log.
	Audit *auditInfo `bson:"audit,omitempty"`
}

// auditInfo is the part of an audit entry that a revocation does not have.
type auditInfo struct {
	IP        string    `bson:"ip"`
	UserAgent string    `bson:"user_agent"`
	KeepUntil time.Time `bson:"keep_until"`
}

func (d revDoc) rev() jwtrevoke.Revocation {
	r := jwtrevoke.Revocation{Seq: d.Seq, SessionID: d.SessionID, JTI: d.JTI, UserID: d.UserID,
		ExpiresAt: d.ExpiresAt.UTC(), Reason: d.Reason, CreatedAt: d.CreatedAt.UTC()}
	if d.NotBefore != nil {
		r.NotBefore = d.NotBefore.UTC()
	}
	return r
}

type sessionDoc struct {
	ID        string     `bson:"_id"`
	UserID    int64      `bson:"user_id"`
	CreatedAt time.Time  `bson:"created_at"`
	ExpiresAt time.Time  `bson:"expires_at"`
	RevokedAt *time.Time `bson:"revoked_at"`
	IP        string     `bson:"ip"`
	UserAgent string     `bson:"user_agent"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// insertToken adds t as outstanding; ErrExists if its jti is known.
func (s *Store) insertToken(ctx context.Context, t jwtrevoke.OutstandingToken) (int64, error) {
	if t.UserID != nil { // a user that does not exist is stored as none, as the SQL stores do
		n, err := s.users.CountDocuments(ctx, bson.M{"_id": *t.UserID})
		if err != nil {
			return 0, err
		}
		if n == 0 {
			t.UserID = nil
		}
	}
	ids, err := s.next(ctx, "outstanding_tokens", 1)
	if err != nil {
		return 0, err
	}
	id := ids[0]
	_, err = s.outstanding.InsertOne(ctx, tokenDoc{ID: id, JTI: t.JTI, UserID: t.UserID, Token: t.Token,
		CreatedAt: utcPtr(t.CreatedAt), ExpiresAt: t.ExpiresAt.UTC()})
	if isDup(err) {
		return 0, fmt.Errorf("token %s: %w", t.JTI, jwtrevoke.ErrExists)
	}
	return id, err
}

// getOrCreate returns the id of t's outstanding document, creating it.
func (s *Store) getOrCreate(ctx context.Context, t jwtrevoke.OutstandingToken) (int64, error) {
	var d tokenDoc
	err := s.outstanding.FindOne(ctx, bson.M{"jti": t.JTI}).Decode(&d)
	if err == nil {
		return d.ID, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, err
	}
	id, err := s.insertToken(ctx, t)
	if errors.Is(err, jwtrevoke.ErrExists) { // a concurrent caller created it
		if err := s.outstanding.FindOne(ctx, bson.M{"jti": t.JTI}).Decode(&d); err != nil {
			return 0, err
		}
		return d.ID, nil
	}
	return id, err
}

// IssueSession implements jwtrevoke.Store.
func (s *Store) IssueSession(ctx context.Context, t jwtrevoke.OutstandingToken, sess jwtrevoke.Session) error {
	if _, err := s.insertToken(ctx, t); err != nil {
		return fmt.Errorf("issue session: %w", err)
	}
	_, err := s.sessions.InsertOne(ctx, sessionDoc{ID: sess.ID, UserID: sess.UserID, CreatedAt: sess.CreatedAt.UTC(),
		ExpiresAt: sess.ExpiresAt.UTC(), RevokedAt: utcPtr(sess.RevokedAt), IP: sess.IP, UserAgent: sess.UserAgent})
	if isDup(err) {
		_, _ = s.outstanding.DeleteOne(ctx, bson.M{"jti": t.JTI})
		return fmt.Errorf("issue session %s: %w", sess.ID, jwtrevoke.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("issue session: %w", err)
	}
	return nil
}

// IsBlacklisted implements jwtrevoke.Store. A token counts as blacklisted
// once its blacklist document is done, its revocations all in the log:
// the blacklist is then never ahead of the revocation log
// (BlacklistLogged). A blacklisting that died half-way counts once the
// next caller blacklisting the token (or Migrate) has finished it.
func (s *Store) IsBlacklisted(ctx context.Context, jti string) (bool, error) {
	n, err := s.blacklisted.CountDocuments(ctx, bson.M{"jti": jti, "done": true})
	if err != nil {
		return false, fmt.Errorf("is blacklisted: %w", err)
	}
	return n > 0, nil
}

// prepare gives revs their sequence numbers and final expiry (raised to
// their session's), without writing them. The first callers revocations
// are the caller's own: those with AuditUntil set get an audit entry when
// recorded. The rest are revocations the store derived (RevokeUser's per
// session ones), never audited separately.
func (s *Store) prepare(ctx context.Context, now time.Time, revs []jwtrevoke.Revocation, callers int) ([]revDoc, error) {
	if len(revs) == 0 {
		return nil, nil
	}
	seqs, err := s.next(ctx, "revocations", int64(len(revs)))
	if err != nil {
		return nil, err
	}
	out := make([]revDoc, len(revs))
	for i, r := range revs {
		if r.SessionID != "" {
			var sd sessionDoc
			err := s.sessions.FindOne(ctx, bson.M{"_id": r.SessionID}).Decode(&sd)
			switch {
			case err == nil:
				if sd.ExpiresAt.After(r.ExpiresAt) {
					r.ExpiresAt = sd.ExpiresAt
				}
			case !errors.Is(err, mongo.ErrNoDocuments):
				return nil, err
			}
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		d := revDoc{Seq: seqs[i], SessionID: r.SessionID, JTI: r.JTI, UserID: r.UserID,
			ExpiresAt: r.ExpiresAt.UTC(), Reason: r.Reason, CreatedAt: r.CreatedAt.UTC()}
		if !r.NotBefore.IsZero() {
			nb := r.NotBefore.UTC()
			d.NotBefore = &nb
		}
		if i < callers && !r.AuditUntil.IsZero() {
			d.Audit = &auditInfo{IP: r.IP, UserAgent: r.UserAgent, KeepUntil: r.AuditUntil.UTC()}
		}
		out[i] = d
	}
	return out, nil
}

// record writes prepared revocations (idempotently: their ids are fixed),
// each followed by its audit entry if it has one, and marks their sessions
// revoked. Without transactions the revocation goes first: a crash in
// between may lose an audit entry, never a revocation.
func (s *Store) record(ctx context.Context, now time.Time, docs []revDoc) error {
	for _, d := range docs {
		audit := d.Audit
		d.Audit = nil
		// A duplicate means a concurrent caller finishing the same
		// blacklisting wrote this very document first.
		if _, err := s.revocations.ReplaceOne(ctx, bson.M{"_id": d.Seq}, d, options.Replace().SetUpsert(true)); err != nil && !isDup(err) {
			return err
		}
		if audit != nil {
			a := auditDoc{Seq: d.Seq, UserID: d.UserID, SessionID: d.SessionID, JTI: d.JTI, NotBefore: d.NotBefore,
				ExpiresAt: d.ExpiresAt, Reason: d.Reason, IP: audit.IP, UserAgent: audit.UserAgent,
				CreatedAt: d.CreatedAt, KeepUntil: audit.KeepUntil}
			if _, err := s.audit.ReplaceOne(ctx, bson.M{"_id": a.Seq}, a, options.Replace().SetUpsert(true)); err != nil && !isDup(err) {
				return err
			}
		}
		if d.SessionID != "" {
			if _, err := s.sessions.UpdateOne(ctx, bson.M{"_id": d.SessionID, "revoked_at": nil},
				bson.M{"$set": bson.M{"revoked_at": now.UTC()}}); err != nil {
				return err
			}
		}
	}
	return nil
}

func revs(docs []revDoc) []jwtrevoke.Revocation {
	out := make([]jwtrevoke.Revocation, len(docs))
	for i, d := range docs {
		out[i] = d.rev()
	}
	return out
}

// blacklist blacklists t with the prepared revocations. The insert of the
// blacklist document decides: a duplicate means someone else blacklisted
// it (ErrBlacklisted), after finishing their revocations if they died
// half-way.
func (s *Store) blacklist(ctx context.Context, t jwtrevoke.OutstandingToken, now time.Time, docs []revDoc) error {
	id, err := s.getOrCreate(ctx, t)
	if err != nil {
		return err
	}
	_, err = s.blacklisted.InsertOne(ctx, blacklistDoc{JTI: t.JTI, TokenID: id, BlacklistedAt: now.UTC(),
		ExpiresAt: t.ExpiresAt.UTC(), Revs: docs, Done: len(docs) == 0})
	if isDup(err) {
		var prev blacklistDoc
		if err := s.blacklisted.FindOne(ctx, bson.M{"jti": t.JTI}).Decode(&prev); err == nil && !prev.Done {
			if err := s.finish(ctx, now, prev); err != nil {
				return err
			}
		}
		return fmt.Errorf("token %s: %w", t.JTI, jwtrevoke.ErrBlacklisted)
	}
	if err != nil {
		return err
	}
	if _, err := s.outstanding.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"blacklisted_at": now.UTC()}}); err != nil {
		return err
	}
	if len(docs) == 0 {
		return nil
	}
	return s.finish(ctx, now, blacklistDoc{JTI: t.JTI, Revs: docs})
}

func (s *Store) finish(ctx context.Context, now time.Time, b blacklistDoc) error {
	if err := s.record(ctx, now, b.Revs); err != nil {
		return err
	}
	_, err := s.blacklisted.UpdateOne(ctx, bson.M{"jti": b.JTI}, bson.M{"$set": bson.M{"done": true}})
	return err
}

// Blacklist implements jwtrevoke.Store.
func (s *Store) Blacklist(ctx context.Context, t jwtrevoke.OutstandingToken, rs ...jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blacklist token: %w", err)
	}
	now := time.Now()
	if black, err := s.IsBlacklisted(ctx, t.JTI); err != nil || black {
		if err == nil {
			err = s.blacklist(ctx, t, now, nil) // completes an unfinished predecessor
		}
		return nil, fmt.Errorf("blacklist token: %w", err)
	}
	docs, err := s.prepare(ctx, now, rs, len(rs))
	if err != nil {
		return nil, fmt.Errorf("blacklist token: %w", err)
	}
	if err := s.blacklist(ctx, t, now, docs); err != nil {
		return nil, fmt.Errorf("blacklist token: %w", err)
	}
	return revs(docs), nil
}

// rotationDoc is the rotation of one refresh token. Its _id is the old
// token's jti: inserting it is the one atomic step that decides which of
// several concurrent rotations of a token wins. It carries what the
// rotation still has to write (blacklist the old token, register the next
// one, raise the session's expiry) until Done, so that a rotation that
// died half-way is completed by the next caller that finds it. It is kept
// until the old token expires (expires_at).
type rotationDoc struct {
	OldJTI         string     `bson:"_id"`
	BlacklistOld   bool       `bson:"blacklist_old"`
	NextJTI        string     `bson:"next_jti"`
	NextToken      string     `bson:"next_token"`
	NextUserID     *int64     `bson:"next_user_id"`
	NextCreatedAt  *time.Time `bson:"next_created_at"`
	NextExpiresAt  time.Time  `bson:"next_expires_at"`
	Access         string     `bson:"access_token"`
	SessionID      string     `bson:"session_id"`
	SessionExpires time.Time  `bson:"session_expires"`
	RotatedAt      time.Time  `bson:"rotated_at"`
	ExpiresAt      time.Time  `bson:"expires_at"`
	Done           bool       `bson:"done"`
}

func newRotationDoc(r jwtrevoke.Rotation) rotationDoc {
	return rotationDoc{OldJTI: r.Old.JTI, BlacklistOld: r.BlacklistOld, NextJTI: r.Next.JTI, NextToken: r.Next.Token,
		NextUserID: r.Next.UserID, NextCreatedAt: utcPtr(r.Next.CreatedAt), NextExpiresAt: r.Next.ExpiresAt.UTC(),
		Access: r.Access, SessionID: r.SessionID, SessionExpires: r.SessionExpires.UTC(), RotatedAt: r.RotatedAt.UTC(),
		ExpiresAt: r.Old.ExpiresAt.UTC()}
}

// rotation is the recorded Rotation of old (the token presented: same jti).
func (d rotationDoc) rotation(old jwtrevoke.OutstandingToken) jwtrevoke.Rotation {
	return jwtrevoke.Rotation{Old: old, BlacklistOld: d.BlacklistOld,
		Next: jwtrevoke.OutstandingToken{JTI: d.NextJTI, Token: d.NextToken, UserID: d.NextUserID,
			CreatedAt: utcPtr(d.NextCreatedAt), ExpiresAt: d.NextExpiresAt.UTC()},
		Access: d.Access, SessionID: d.SessionID, SessionExpires: d.SessionExpires.UTC(), RotatedAt: d.RotatedAt.UTC()}
}

// rotated returns the live rotation of old (not expired at now), or nil.
func (s *Store) rotated(ctx context.Context, jti string, now time.Time) (*rotationDoc, error) {
	var d rotationDoc
	err := s.rotations.FindOne(ctx, bson.M{"_id": jti, "expires_at": bson.M{"$gt": now.UTC()}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// refuse answers a rotation of a token already rotated by d: it completes
// d if its rotation died half-way, then returns d's Rotation and
// ErrRotated.
func (s *Store) refuse(ctx context.Context, now time.Time, old jwtrevoke.OutstandingToken, d rotationDoc) (jwtrevoke.Rotation, error) {
	if !d.Done {
		if err := s.finishRotation(ctx, now, old, d); err != nil {
			return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
		}
	}
	return d.rotation(old), fmt.Errorf("rotate token %s: %w", old.JTI, jwtrevoke.ErrRotated)
}

// finishRotation writes what the rotation d records, idempotently (the
// winner and callers completing it may run it at the same time), then
// marks d done.
func (s *Store) finishRotation(ctx context.Context, now time.Time, old jwtrevoke.OutstandingToken, d rotationDoc) error {
	if d.BlacklistOld {
		// The old token is blacklisted with its token revocation, which is
		// in the log before the blacklisting is done (see IsBlacklisted).
		// ErrBlacklisted: a concurrent caller (completing this rotation, or
		// a logout between the check and the insert) blacklisted it first,
		// with revocations of its own, finished before blacklist returns.
		// Either way the old token ends blacklisted, as asked; the
		// sequence number taken here is then left unused.
		docs, err := s.prepare(ctx, now, []jwtrevoke.Revocation{rotatedRev(old, now)}, 0)
		if err != nil {
			return err
		}
		if err := s.blacklist(ctx, old, now, docs); err != nil && !errors.Is(err, jwtrevoke.ErrBlacklisted) {
			return err
		}
	}
	next := d.rotation(old).Next
	if _, err := s.insertToken(ctx, next); err != nil && !errors.Is(err, jwtrevoke.ErrExists) {
		return err
	}
	if _, err := s.sessions.UpdateOne(ctx, bson.M{"_id": d.SessionID},
		bson.M{"$max": bson.M{"expires_at": d.SessionExpires}}); err != nil {
		return err
	}
	_, err := s.rotations.UpdateOne(ctx, bson.M{"_id": d.OldJTI}, bson.M{"$set": bson.M{"done": true}})
	return err
}

// rotatedRev is the token revocation recorded with the blacklisting of
// the rotated token old (jwtrevoke.ReasonRotated), until it expires.
func rotatedRev(old jwtrevoke.OutstandingToken, now time.Time) jwtrevoke.Revocation {
	r := jwtrevoke.Revocation{JTI: old.JTI, ExpiresAt: old.ExpiresAt, Reason: jwtrevoke.ReasonRotated, CreatedAt: now.UTC()}
	if old.UserID != nil {
		r.UserID = *old.UserID
	}
	return r
}

// Rotate implements jwtrevoke.Store. Without transactions it runs in
// steps: the checks, then the insert of the rotation document (the
// serialization point: of concurrent rotations of one token exactly one
// insert succeeds), then the writes it records, each idempotent.
func (s *Store) Rotate(ctx context.Context, r jwtrevoke.Rotation) (jwtrevoke.Rotation, error) {
	if err := ctx.Err(); err != nil {
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
	}
	now := time.Now()
	if r.RotatedAt.IsZero() {
		r.RotatedAt = now
	}
	r.RotatedAt = r.RotatedAt.UTC()
	prev, err := s.rotated(ctx, r.Old.JTI, now)
	if err != nil {
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
	}
	if prev != nil {
		return s.refuse(ctx, now, r.Old, *prev)
	}
	if r.BlacklistOld {
		black, err := s.IsBlacklisted(ctx, r.Old.JTI)
		if err != nil {
			return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
		}
		if black {
			return jwtrevoke.Rotation{}, fmt.Errorf("rotate token %s: %w", r.Old.JTI, jwtrevoke.ErrBlacklisted)
		}
	}
	if n, err := s.outstanding.CountDocuments(ctx, bson.M{"jti": r.Next.JTI}); err != nil || n > 0 {
		if err == nil {
			err = fmt.Errorf("new token %s: %w", r.Next.JTI, jwtrevoke.ErrExists)
		}
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
	}
	d := newRotationDoc(r)
	for attempt := 0; ; attempt++ {
		_, err = s.rotations.InsertOne(ctx, d)
		if !isDup(err) {
			break
		}
		// Another rotation of the token won; or a rotation that expired
		// (with its token) but was not flushed yet holds the _id.
		var won rotationDoc
		if err := s.rotations.FindOne(ctx, bson.M{"_id": r.Old.JTI}).Decode(&won); err != nil {
			if errors.Is(err, mongo.ErrNoDocuments) && attempt < 3 {
				continue // flushed meanwhile
			}
			return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
		}
		if won.ExpiresAt.After(now) || attempt >= 3 {
			return s.refuse(ctx, now, r.Old, won)
		}
		// Only ever deletes an expired one: a live winner stays.
		if _, err := s.rotations.DeleteOne(ctx, bson.M{"_id": r.Old.JTI, "expires_at": bson.M{"$lte": now.UTC()}}); err != nil {
			return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
		}
	}
	if err != nil {
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
	}
	if err := s.finishRotation(ctx, now, r.Old, d); err != nil {
		return jwtrevoke.Rotation{}, fmt.Errorf("rotate token: %w", err)
	}
	return r, nil
}

// RevokeSession implements jwtrevoke.Store: it records rev as Blacklist
// records its revocations (a sequence number, the expiry raised to the
// session's) and marks the session revoked.
func (s *Store) RevokeSession(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("revoke session: %w", err)
	}
	now := time.Now()
	docs, err := s.prepare(ctx, now, []jwtrevoke.Revocation{rev}, 1)
	if err != nil {
		return nil, fmt.Errorf("revoke session: %w", err)
	}
	if err := s.record(ctx, now, docs); err != nil {
		return nil, fmt.Errorf("revoke session: %w", err)
	}
	return revs(docs), nil
}

// RevokeUser implements jwtrevoke.Store. Without transactions it runs in
// steps, each idempotent: find the user's live tokens and sessions, record
// the revocations (the user's cut-off, one per live session), then
// blacklist the tokens found. The revocations go first, so that a token is
// never blacklisted before the log refuses it (BlacklistLogged): by the
// cut-off, or, for a token created after it (a login or rotation running
// meanwhile, whose session may not have been found yet: IssueSession
// inserts the token first), by a token revocation of its own.
func (s *Store) RevokeUser(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	now := time.Now()
	cur, err := s.outstanding.Find(ctx, bson.M{"user_id": rev.UserID, "expires_at": bson.M{"$gt": now}, "blacklisted_at": nil})
	if err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	var toks []tokenDoc
	if err := cur.All(ctx, &toks); err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	cur, err = s.sessions.Find(ctx, bson.M{"user_id": rev.UserID, "revoked_at": nil, "expires_at": bson.M{"$gt": now}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	var sess []sessionDoc
	if err := cur.All(ctx, &sess); err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	all := []jwtrevoke.Revocation{rev}
	for _, sd := range sess {
		all = append(all, jwtrevoke.Revocation{SessionID: sd.ID, UserID: rev.UserID, ExpiresAt: sd.ExpiresAt, Reason: rev.Reason, CreatedAt: rev.CreatedAt})
	}
	for _, d := range toks {
		if d.CreatedAt != nil && d.CreatedAt.After(rev.NotBefore) {
			all = append(all, jwtrevoke.Revocation{JTI: d.JTI, UserID: rev.UserID, ExpiresAt: d.ExpiresAt, Reason: rev.Reason, CreatedAt: rev.CreatedAt})
		}
	}
	docs, err := s.prepare(ctx, now, all, 1) // the derived revocations are not audited
	if err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	if err := s.record(ctx, now, docs); err != nil {
		return nil, fmt.Errorf("revoke user: %w", err)
	}
	for _, d := range toks {
		t := jwtrevoke.OutstandingToken{JTI: d.JTI, UserID: d.UserID, Token: d.Token, CreatedAt: d.CreatedAt, ExpiresAt: d.ExpiresAt}
		if err := s.blacklist(ctx, t, now, nil); err != nil && !errors.Is(err, jwtrevoke.ErrBlacklisted) {
			return nil, fmt.Errorf("revoke user: %w", err)
		}
	}
	return revs(docs), nil
}

// Revocations implements jwtrevoke.Store.
func (s *Store) Revocations(ctx context.Context, afterSeq int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	cur, err := s.revocations.Find(ctx, bson.M{"_id": bson.M{"$gt": afterSeq}, "expires_at": bson.M{"$gt": now}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	var docs []revDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	return revs(docs), nil
}

// Sessions implements jwtrevoke.Store.
func (s *Store) Sessions(ctx context.Context, userID int64, now time.Time) ([]jwtrevoke.Session, error) {
	cur, err := s.sessions.Find(ctx, bson.M{"user_id": userID, "expires_at": bson.M{"$gt": now}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	var docs []sessionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]jwtrevoke.Session, len(docs))
	for i, d := range docs {
		out[i] = jwtrevoke.Session{ID: d.ID, UserID: d.UserID, CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC(),
			RevokedAt: utcPtr(d.RevokedAt), IP: d.IP, UserAgent: d.UserAgent}
	}
	return out, nil
}

// FlushExpired implements jwtrevoke.Store, deleting in batches.
func (s *Store) FlushExpired(ctx context.Context, now time.Time, opts jwtrevoke.FlushOptions) (jwtrevoke.FlushResult, error) {
	var res jwtrevoke.FlushResult
	batch := storekit.BatchSize(opts)
	// Old counter claims, by the real clock (see claimRetention).
	if _, err := s.claims.DeleteMany(ctx, bson.M{"created_at": bson.M{"$lt": time.Now().Add(-claimRetention)}}); err != nil {
		return res, fmt.Errorf("flush counter claims: %w", err)
	}
	expired := bson.M{"expires_at": bson.M{"$lte": now}}
	for {
		ids, err := s.ids(ctx, s.outstanding, expired, batch)
		if err != nil {
			return res, fmt.Errorf("flush expired tokens: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		b, err := s.blacklisted.DeleteMany(ctx, bson.M{"token_id": bson.M{"$in": ids}})
		if err != nil {
			return res, fmt.Errorf("flush expired tokens: %w", err)
		}
		o, err := s.outstanding.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}})
		if err != nil {
			return res, fmt.Errorf("flush expired tokens: %w", err)
		}
		res.Blacklisted += b.DeletedCount
		res.Outstanding += o.DeletedCount
		storekit.Report(opts, res)
		if len(ids) < batch {
			break
		}
	}
	for _, c := range []struct {
		coll   *mongo.Collection
		filter bson.M
		count  *int64
	}{
		{s.sessions, expired, &res.Sessions},
		{s.revocations, expired, &res.Revocations},
		{s.rotations, expired, &res.Rotations},
		{s.audit, bson.M{"keep_until": bson.M{"$lte": now}}, &res.Audit},
	} {
		for {
			ids, err := s.ids(ctx, c.coll, c.filter, batch)
			if err != nil {
				return res, fmt.Errorf("flush expired %s: %w", c.coll.Name(), err)
			}
			if len(ids) == 0 {
				break
			}
			r, err := c.coll.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}})
			if err != nil {
				return res, fmt.Errorf("flush expired %s: %w", c.coll.Name(), err)
			}
			*c.count += r.DeletedCount
			storekit.Report(opts, res)
			if len(ids) < batch {
				break
			}
		}
	}
	err := s.flushAttempts(ctx, now, batch, func(n int64) {
		res.Attempts += n
		storekit.Report(opts, res)
	})
	if err != nil {
		return res, fmt.Errorf("flush expired attempts: %w", err)
	}
	return res, nil
}

// ids returns the _id of at most n documents matching filter.
func (s *Store) ids(ctx context.Context, c *mongo.Collection, filter bson.M, n int) ([]any, error) {
	cur, err := c.Find(ctx, filter, options.Find().SetLimit(int64(n)).SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return nil, err
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	ids := make([]any, len(docs))
	for i, d := range docs {
		ids[i] = d["_id"]
	}
	return ids, nil
}

// Setting implements jwtrevoke.Store.
func (s *Store) Setting(ctx context.Context, key, value string) (string, error) {
	if _, err := s.settings.InsertOne(ctx, bson.M{"_id": key, "value": value}); err != nil && !isDup(err) {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	var d struct {
		Value string `bson:"value"`
	}
	if err := s.settings.FindOne(ctx, bson.M{"_id": key}).Decode(&d); err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return d.Value, nil
}
