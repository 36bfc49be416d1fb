package jwtrevoke

import "time"

// Observer is told about revocations as the service records and loads
// them, for metrics. Its methods are called synchronously, while the
// revocation is applied: they must be quick, must not call the Service,
// and must be safe for concurrent use.
type Observer interface {
	// Revoked is called once for each revocation this instance recorded
	// (logout, blacklist, logout-all, an admin's action, ...), after the
	// store committed it.
	Revoked(r Revocation)
	// Propagated is called once for each revocation that Sync loaded
	// from the store and that was not yet in effect here: one recorded
	// by another instance, or written by an operator. lag is the time
	// from its CreatedAt (the recording instance's clock) until it took
	// effect here.
	Propagated(r Revocation, lag time.Duration)
}

// inEffect reports whether r is already held by the revocation set.
func (s *Service) inEffect(r Revocation) bool {
	switch {
	case r.SessionID != "":
		return s.deny.HoldsSession(r.SessionID)
	case r.JTI != "":
		return s.deny.HoldsToken(r.JTI)
	case !r.NotBefore.IsZero():
		return s.deny.HoldsUser(r.UserID, r.NotBefore.UnixMilli())
	}
	return true
}

// applyLoaded applies revocations Sync read from the store, telling the
// Observer about those that were not in effect yet.
func (s *Service) applyLoaded(revs []Revocation, now time.Time) {
	if s.obs == nil {
		s.apply(revs)
		return
	}
	for i, r := range revs {
		held := s.inEffect(r)
		s.apply(revs[i : i+1])
		if !held {
			s.obs.Propagated(r, now.Sub(r.CreatedAt))
		}
	}
}

// applyRecorded applies revocations this instance recorded, telling the
// Observer.
func (s *Service) applyRecorded(revs []Revocation) {
	s.apply(revs)
	if s.obs != nil {
		for _, r := range revs {
			s.obs.Revoked(r)
		}
	}
}
