package sqlstore

// PollQueries returns the SQL of the polls every instance runs ten times a
// second: the revocation log's and the blacklist feed's, with their
// arguments in the order (after, now) and (after, now, limit).
func (s *Store) PollQueries() (revocations, feed string) {
	return s.q(s.revocationsQuery("") + " LIMIT 10000"), s.feed
}
