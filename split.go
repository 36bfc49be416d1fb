package jwtrevoke

import (
	"context"
	"errors"
)

// SplitStore keeps users in one store and everything else (tokens,
// sessions, revocations, settings) in another, e.g. users in PostgreSQL and
// tokens in Redis.
type SplitStore struct {
	UserStore
	TokenStore
	closers []interface{ Close() error }
}

// Tokens returns the store that holds the tokens and revocations.
func (s *SplitStore) Tokens() TokenStore { return s.TokenStore }

var _ Store = (*SplitStore)(nil)

// Split returns a Store whose users come from users and whose tokens come
// from tokens. Close closes both (each only once, if they are the same).
func Split(users interface {
	UserStore
	Close() error
}, tokens interface {
	TokenStore
	Close() error
}) *SplitStore {
	s := &SplitStore{UserStore: users, TokenStore: tokens, closers: []interface{ Close() error }{tokens}}
	if any(users) != any(tokens) {
		s.closers = append(s.closers, users)
	}
	return s
}

// knownUser returns id if the user exists, nil if not, as the SQL stores do
// for a token whose user is unknown.
func (s *SplitStore) knownUser(ctx context.Context, id *int64) (*int64, error) {
	if id == nil {
		return nil, nil
	}
	_, err := s.UserByID(ctx, *id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return id, nil
}

// Blacklist implements Store, storing no user id for an unknown user.
func (s *SplitStore) Blacklist(ctx context.Context, t OutstandingToken, revs ...Revocation) ([]Revocation, error) {
	var err error
	if t.UserID, err = s.knownUser(ctx, t.UserID); err != nil {
		return nil, err
	}
	return s.TokenStore.Blacklist(ctx, t, revs...)
}

// Close implements Store.
func (s *SplitStore) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
