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
	rows, err := s.R.QueryContext(ctx, s.q(`SELECT b.id, o.jti, `+s.d.timeCol("o.expires_at")+`, `+s.d.timeCol("b.blacklisted_at")+`
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
		)
		if err := rows.Scan(&e.ID, &e.JTI, &exp, &blk); err != nil {
			return nil, fmt.Errorf("list blacklist: %w", err)
		}
		e.ExpiresAt, e.BlacklistedAt = exp.t, blk.t
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list blacklist: %w", err)
	}
	return out, nil
}
