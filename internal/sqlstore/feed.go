package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

var _ jwtrevoke.BlacklistFeed = (*Store)(nil)

// BlacklistedAfter implements jwtrevoke.BlacklistFeed over SimpleJWT's
// token_blacklist tables, which a SimpleJWT peer sharing the database
// writes too.
func (s *Store) BlacklistedAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]jwtrevoke.BlacklistEntry, error) {
	// A rotation blacklists the old token in the transaction that records
	// the rotation: the rotation's row tells the two kinds apart.
	rows, err := s.pollQuery(ctx, s.q(`SELECT b.id, o.jti, `+s.d.timeCol("o.expires_at")+`, `+s.d.timeCol("b.blacklisted_at")+`,
		CASE WHEN EXISTS (SELECT 1 FROM jwtrevoke_rotation r WHERE r.old_jti = o.jti) THEN 1 ELSE 0 END
		FROM token_blacklist_blacklistedtoken b JOIN token_blacklist_outstandingtoken o ON o.id = b.token_id
		WHERE b.id > ? AND o.expires_at > ? ORDER BY b.id LIMIT ?`), afterID, s.t(now), limit)
	if err != nil {
		return nil, fmt.Errorf("list blacklist: %w", err)
	}
	defer rows.Close()
	var out []jwtrevoke.BlacklistEntry
	for rows.Next() {
		var (
			e        jwtrevoke.BlacklistEntry
			exp, blk scanTime
			rotated  int64
		)
		if err := rows.Scan(&e.ID, &e.JTI, &exp, &blk, &rotated); err != nil {
			return nil, fmt.Errorf("list blacklist: %w", err)
		}
		e.ExpiresAt, e.BlacklistedAt, e.Rotated = exp.t, blk.t, rotated == 1
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list blacklist: %w", err)
	}
	return out, nil
}
