package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/internal/storekit"
)

// OutstandingTokens implements jwtrevoke.Store.
func (s *Store) OutstandingTokens(ctx context.Context, q jwtrevoke.TokenQuery) ([]jwtrevoke.OutstandingToken, error) {
	now, err := storekit.Start(q)
	if err != nil {
		return nil, err
	}
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer s.mu.Unlock()
	var out []jwtrevoke.OutstandingToken
	for _, o := range s.outstanding {
		if !storekit.Selects(q, *o, now) {
			continue
		}
		c := *o
		c.UserID = cloneID(o.UserID)
		c.CreatedAt = cloneTime(o.CreatedAt)
		c.BlacklistedAt = cloneTime(o.BlacklistedAt)
		out = append(out, c)
	}
	slices.SortFunc(out, storekit.Compare(q))
	return storekit.Page(out, q.Limit, q.Offset), nil
}

// Stats implements jwtrevoke.Store.
func (s *Store) Stats(ctx context.Context, now time.Time) (jwtrevoke.Stats, error) {
	if err := s.lock(ctx); err != nil {
		return jwtrevoke.Stats{}, fmt.Errorf("stats: %w", err)
	}
	defer s.mu.Unlock()
	var st jwtrevoke.Stats
	for _, o := range s.outstanding {
		switch {
		case o.BlacklistedAt != nil:
			st.BlacklistedTokens++
		case o.ExpiresAt.After(now):
			st.LiveTokens++
		}
		if !o.ExpiresAt.After(now) {
			st.ExpiredTokens++
		}
	}
	for _, sess := range s.sessions {
		if sess.ExpiresAt.After(now) && sess.RevokedAt == nil {
			st.LiveSessions++
		}
	}
	st.Revocations = int64(len(s.revocations))
	for _, r := range s.revocations {
		if !r.CreatedAt.After(now) {
			age := now.Sub(r.CreatedAt)
			if age < time.Hour {
				st.RevokedLastHour++
			}
			if age < 24*time.Hour {
				st.RevokedLastDay++
			}
		}
	}
	st.Expired = s.expire(now, 0, false)
	return st, nil
}
