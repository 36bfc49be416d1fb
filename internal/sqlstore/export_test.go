package sqlstore

// PollQueries returns the SQL of the polls every instance runs ten times a
// second: the revocation log's and the blacklist feed's, with their
// arguments in the order (after, now) and (after, now, limit).
func (s *Store) PollQueries() (revocations, feed string) {
	return s.q(s.revocationsQuery("") + " LIMIT 10000"), s.feed
}

// FlushRangeStatements returns the statements of SQLite's paced flush
// (see flushRanges), for each table FlushExpired deletes from, for a first
// batch and for a later one: pick, then the deletes, of which the tokens'
// blacklisted rows' comes first.
func (s *Store) FlushRangeStatements() map[string][]string {
	out := map[string][]string{}
	for _, t := range []flushTable{flushTokens, flushSessions, flushRevocations, flushRotations, flushAudit, flushAttempts} {
		var child *flushChild
		if t == flushTokens {
			child = &flushBlacklisted
		}
		for _, bounded := range []bool{false, true} {
			q := s.rangeStatements(t, child, bounded)
			name := t.table + " (first batch)"
			if bounded {
				name = t.table + " (later batch)"
			}
			out[name] = []string{q.pick, q.deleteChild, q.delete}
			if child == nil {
				out[name] = []string{q.pick, q.delete}
			}
		}
	}
	return out
}
