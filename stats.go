package jwtrevoke

import (
	"context"
	"fmt"
)

// Stats counts the store's tokens, sessions and revocations at the
// service's clock, and what FlushExpired would delete now.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	st, err := s.store.Stats(ctx, s.now())
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}
