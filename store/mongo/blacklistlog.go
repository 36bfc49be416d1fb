package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/jwtrevoke/jwtrevoke"
)

var _ jwtrevoke.LoggedBlacklist = (*Store)(nil)

// blacklistLogKey is the settings document that records that the data of
// earlier versions has been brought under the guarantee of
// BlacklistLogged (see logBlacklist).
const blacklistLogKey = "jwtrevoke:schema:blacklist_log"

// BlacklistLogged implements jwtrevoke.LoggedBlacklist, once Migrate has
// run: a token counts as blacklisted (IsBlacklisted) only once the
// revocations recorded with it are in the log, and every blacklisting
// records one that refuses the token (Rotate the old token's, Blacklist
// those its caller gives, RevokeUser the cut-off and the sessions' before
// it blacklists anything).
func (s *Store) BlacklistLogged() bool { return s.logged.Load() }

// logBlacklist brings, once per database (blacklistLogKey), what earlier
// versions wrote under the guarantee of BlacklistLogged: it finishes the
// blacklistings left half-way (whose documents are not done: they count
// as blacklisted only once finished), and records the token revocation
// of every unexpired rotation that blacklisted its old token without one.
// Instances of an earlier version still running afterwards do not record
// theirs: with ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION on,
// stop them before this version starts, or delete the settings document
// once they are gone and migrate again.
func (s *Store) logBlacklist(ctx context.Context) error {
	err := s.settings.FindOne(ctx, bson.M{"_id": blacklistLogKey}).Err()
	if err == nil {
		s.logged.Store(true)
		return nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return err
	}
	now := time.Now()
	cur, err := s.blacklisted.Find(ctx, bson.M{"done": bson.M{"$ne": true}})
	if err != nil {
		return err
	}
	var pending []blacklistDoc
	if err := cur.All(ctx, &pending); err != nil {
		return err
	}
	for _, b := range pending {
		if err := s.finish(ctx, now, b); err != nil {
			return err
		}
	}
	// The tokens already revoked one by one: the rotations of this
	// version, and revocations naming a jti for other reasons, which
	// refuse the token as well.
	cur, err = s.revocations.Find(ctx, bson.M{"jti": bson.M{"$ne": ""}, "expires_at": bson.M{"$gt": now}})
	if err != nil {
		return err
	}
	var logged []revDoc
	if err := cur.All(ctx, &logged); err != nil {
		return err
	}
	have := make(map[string]bool, len(logged))
	for _, d := range logged {
		have[d.JTI] = true
	}
	cur, err = s.rotations.Find(ctx, bson.M{"blacklist_old": true, "expires_at": bson.M{"$gt": now}})
	if err != nil {
		return err
	}
	var rots []rotationDoc
	if err := cur.All(ctx, &rots); err != nil {
		return err
	}
	var missing []jwtrevoke.Revocation
	for _, d := range rots {
		if !have[d.OldJTI] {
			// A rotation not finished yet is recorded too: its old token is
			// used up, and refusing it fails closed.
			missing = append(missing, rotatedRev(jwtrevoke.OutstandingToken{JTI: d.OldJTI, UserID: d.NextUserID, ExpiresAt: d.ExpiresAt}, now))
		}
	}
	for len(missing) > 0 {
		chunk := missing[:min(len(missing), 1000)]
		missing = missing[len(chunk):]
		docs, err := s.prepare(ctx, now, chunk, 0)
		if err != nil {
			return err
		}
		if err := s.record(ctx, now, docs); err != nil {
			return err
		}
	}
	if _, err := s.settings.InsertOne(ctx, bson.M{"_id": blacklistLogKey, "value": "1"}); err != nil && !isDup(err) {
		return err
	}
	s.logged.Store(true)
	return nil
}
