// Package storekit holds what every store (the SQL ones, and memory, Mongo
// and Redis) shares to answer a jwtrevoke.TokenQuery and to follow
// jwtrevoke.FlushOptions: which tokens a query selects and in which order,
// the pages of a list made of two parts, and the batch and progress of a
// flush. It lives under internal/sqlstore, the code the stores share, but
// does not depend on database/sql: memory, Mongo and Redis use it too.
package storekit

import (
	"cmp"
	"fmt"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// Start checks q, refusing an unknown Status or Sort, and returns the
// instant it judges expiry at: q.Now, or the current time.
func Start(q jwtrevoke.TokenQuery) (time.Time, error) {
	switch q.Status {
	case jwtrevoke.TokenAll, jwtrevoke.TokenLive, jwtrevoke.TokenExpired, jwtrevoke.TokenBlacklisted:
	default:
		return time.Time{}, fmt.Errorf("list tokens: unknown status %q", q.Status)
	}
	switch q.Sort {
	case "", jwtrevoke.SortCreated, jwtrevoke.SortExpires, jwtrevoke.SortBlacklisted:
	default:
		return time.Time{}, fmt.Errorf("list tokens: unknown sort %q", q.Sort)
	}
	if q.Now.IsZero() {
		return time.Now(), nil
	}
	return q.Now, nil
}

// Selects reports whether q selects t (whatever its Limit and Offset),
// judging expiry at now.
func Selects(q jwtrevoke.TokenQuery, t jwtrevoke.OutstandingToken, now time.Time) bool {
	blacklisted, expired := t.BlacklistedAt != nil, !t.ExpiresAt.After(now)
	switch {
	case q.UserID != nil && (t.UserID == nil || *t.UserID != *q.UserID),
		q.JTI != "" && t.JTI != q.JTI,
		q.BlacklistedOnly && !blacklisted,
		q.Status == jwtrevoke.TokenBlacklisted && !blacklisted,
		q.Status == jwtrevoke.TokenExpired && !expired,
		q.Status == jwtrevoke.TokenLive && (expired || blacklisted):
		return false
	}
	return true
}

// Compare returns the order of q's list: negative when a comes before b.
// See jwtrevoke.TokenSort.
func Compare(q jwtrevoke.TokenQuery) func(a, b jwtrevoke.OutstandingToken) int {
	key := func(t jwtrevoke.OutstandingToken) *time.Time { return t.CreatedAt }
	switch q.Sort {
	case jwtrevoke.SortExpires:
		key = func(t jwtrevoke.OutstandingToken) *time.Time { return &t.ExpiresAt }
	case jwtrevoke.SortBlacklisted:
		key = func(t jwtrevoke.OutstandingToken) *time.Time { return t.BlacklistedAt }
	}
	sign := -1
	if q.Ascending {
		sign = 1
	}
	return func(a, b jwtrevoke.OutstandingToken) int {
		ka, kb := key(a), key(b)
		if q.Sort == jwtrevoke.SortBlacklisted && (ka == nil) != (kb == nil) {
			if ka == nil {
				return 1 // not blacklisted: after, whatever the direction
			}
			return -1
		}
		c := 0
		switch {
		case ka == nil && kb != nil:
			c = -1
		case ka != nil && kb == nil:
			c = 1
		case ka != nil:
			c = ka.Compare(*kb)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		return sign * c
	}
}

// Page returns the page of rows that limit (0: no limit) and offset ask
// for.
func Page[T any](rows []T, limit, offset int) []T {
	if offset >= len(rows) {
		return nil
	}
	rows = rows[max(offset, 0):]
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return rows
}

// Parts says how a store lists q when it cannot order the blacklisted and
// the other tokens in one indexed query: with SortBlacklisted, the
// blacklisted tokens (first) and the others (second) are two parts, of
// which q may rule one out; in every other order the list is one part,
// first.
func Parts(q jwtrevoke.TokenQuery) (first, second bool) {
	if q.Sort != jwtrevoke.SortBlacklisted {
		return true, false
	}
	first = q.Status != jwtrevoke.TokenLive
	second = !q.BlacklistedOnly && q.Status != jwtrevoke.TokenBlacklisted
	return first, second
}

// Part is one part of a list: List returns its rows from offset, at most
// limit (0: all of them); Count counts them all. A Part with a nil List
// is empty.
type Part[T any] struct {
	List  func(limit, offset int) ([]T, error)
	Count func() (int, error)
}

// Concat returns the page (limit, 0 meaning no limit, and offset) of the
// list made of first and then second, asking each part only for what the
// page needs: second only when the page goes past the end of first, and
// first's Count only when the page starts past its end.
func Concat[T any](limit, offset int, first, second Part[T]) ([]T, error) {
	var out []T
	if first.List != nil {
		rows, err := first.List(limit, offset)
		if err != nil || second.List == nil || (limit > 0 && len(rows) == limit) {
			return rows, err
		}
		out = rows
		switch {
		case len(rows) > 0:
			offset = 0 // the page starts in first, and goes on in second
		case offset > 0:
			n, err := first.Count()
			if err != nil {
				return nil, err
			}
			offset = max(offset-n, 0)
		}
		if limit > 0 {
			limit -= len(rows)
		}
	}
	if second.List == nil {
		return out, nil
	}
	rows, err := second.List(limit, offset)
	if err != nil {
		return nil, err
	}
	return append(out, rows...), nil
}

// BatchSize is o.Batch, or jwtrevoke.DefaultFlushBatch when that is not
// positive.
func BatchSize(o jwtrevoke.FlushOptions) int {
	if o.Batch < 1 {
		return jwtrevoke.DefaultFlushBatch
	}
	return o.Batch
}

// Report calls o.Progress, when set, with the running totals done.
func Report(o jwtrevoke.FlushOptions, done jwtrevoke.FlushResult) {
	if o.Progress != nil {
		o.Progress(done)
	}
}

// Add returns the sum of a and b.
func Add(a, b jwtrevoke.FlushResult) jwtrevoke.FlushResult {
	return jwtrevoke.FlushResult{
		Outstanding: a.Outstanding + b.Outstanding,
		Blacklisted: a.Blacklisted + b.Blacklisted,
		Sessions:    a.Sessions + b.Sessions,
		Revocations: a.Revocations + b.Revocations,
		Rotations:   a.Rotations + b.Rotations,
		Audit:       a.Audit + b.Audit,
		Attempts:    a.Attempts + b.Attempts,
	}
}
