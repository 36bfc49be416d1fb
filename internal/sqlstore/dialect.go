package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect is what differs between the SQL databases.
type Dialect struct {
	// Name is used in error messages ("sqlite", "postgres", "mysql").
	Name string
	// Numbered placeholders ($1, $2...) instead of ?.
	Numbered bool
	// Returning means inserts report generated keys with RETURNING rather
	// than LastInsertId.
	Returning bool
	// InsertIgnore builds "insert unless the unique key exists": it gets
	// the INSERT statement and the conflicting column.
	InsertIgnore func(insert, conflictColumn string) string
	// EmailEquals is the condition matching the email column against one
	// placeholder, case-insensitively.
	EmailEquals string
	// Time encodes a time for a query argument.
	Time func(time.Time) any
	// TextTimes means times are stored as text (TextTime, SQLite). Queries
	// that read many rows then select time columns as plain text (see
	// timeCol) and parse them here, which is several times faster than
	// the driver's parsing of columns declared as datetime.
	TextTimes bool
	// IsUnique reports a unique or primary key violation.
	IsUnique func(error) bool
	// IsRetryable reports a deadlock or serialization failure, after which
	// the whole transaction is run again.
	IsRetryable func(error) bool
	// AfterRevocations, when set, is a statement that tells the other
	// instances that revocations were recorded (PostgreSQL's NOTIFY). It
	// runs after the recording transaction has committed, never inside it
	// (PostgreSQL serializes the commits of notifying transactions on one
	// lock held through their WAL flush), from one background notifier per
	// Store that coalesces a burst of commits into few statements: every
	// commit is followed by a statement that starts after it. Listeners
	// only need the poke; they read the revocations from the tables.
	AfterRevocations string
	// PollArgs, when set, are put before the arguments of the polling
	// queries (the revocation log's, the blacklist feed's), which are then
	// sent unprepared, planned at each run with its arguments: the
	// driver's options (pgx's QueryExecModeCacheDescribe). A statement prepared
	// once gets, on PostgreSQL, a generic plan made while the tables were
	// young and kept until the next ANALYZE: a full scan and sort of every
	// unexpired row at each poll once they have grown.
	PollArgs []any
	// Lateral means JOIN LATERAL works (PostgreSQL; not SQLite or
	// MariaDB): the blacklist feed then finds each entry's token by its
	// key whatever the plan (see BlacklistedAfter).
	Lateral bool
	// UpdateReturning means UPDATE ... RETURNING works (SQLite 3.35 and
	// later, PostgreSQL; not MySQL or MariaDB).
	UpdateReturning bool
	// WritableCTE means data-modifying statements work in WITH
	// (PostgreSQL): a logout is then written by one statement, see
	// recordStatement.
	WritableCTE bool
	// GroupCommit runs concurrent write transactions together: one
	// database transaction for a whole queue of callers, each inside a
	// savepoint of its own, committed once (one fsync) for all of them. For
	// single-writer databases (SQLite), whose writers otherwise each wait
	// for the others' fsyncs in turn. See groupCommit.
	GroupCommit bool
	// Counter is how CountAttempt adds to a counter atomically.
	Counter Counter
	// NullsHigh means NULL sorts after every value in ascending order
	// (PostgreSQL), not before (SQLite, MySQL): orders where a NULL counts
	// as the earliest then say so (see nullsFirst).
	NullsHigh bool
}

// nullsFirst is what an ORDER BY term ascending or not adds so that NULL
// sorts before every value ascending and after every value descending, as
// an index in that order keeps it.
func (d *Dialect) nullsFirst(ascending bool) string {
	switch {
	case !d.NullsHigh:
		return ""
	case ascending:
		return " NULLS FIRST"
	}
	return " NULLS LAST"
}

// Counter is a way of adding to a counter row, creating it if absent, and
// reading its new value, atomically.
type Counter int

const (
	// UpsertReturning (SQLite, PostgreSQL) is one statement: INSERT ... ON
	// CONFLICT DO UPDATE SET n = n + excluded.n RETURNING n.
	UpsertReturning Counter = iota
	// DuplicateKeyThenSelect (MySQL, MariaDB, which have no RETURNING for
	// an upsert) is a transaction: INSERT ... ON DUPLICATE KEY UPDATE
	// n = n + VALUES(n), which leaves the row locked, then SELECT ... FOR
	// UPDATE reading it back before any other transaction can change it.
	DuplicateKeyThenSelect
)

// OnConflictDoNothing is InsertIgnore for SQLite and PostgreSQL.
func OnConflictDoNothing(insert, col string) string {
	return insert + " ON CONFLICT (" + col + ") DO NOTHING"
}

// rebind turns ? placeholders into $1, $2... when the dialect numbers them.
func (d *Dialect) rebind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TextTime is the encoding SQLite uses: Django's, UTC text with
// microseconds only when not zero; the fixed widths keep text comparison
// chronological.
func TextTime(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format(layoutSeconds)
	}
	return t.Format(layoutMicros)
}

// NativeTime passes times to drivers that have a timestamp type.
func NativeTime(t time.Time) any { return t.UTC().Truncate(time.Microsecond) }

const (
	layoutSeconds = "2006-01-02 15:04:05"
	layoutMicros  = "2006-01-02 15:04:05.000000"
)

// scanTime reads a time column, whatever the driver returns for it.
type scanTime struct {
	t     time.Time
	valid bool
}

func (s *scanTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		s.valid = false
		return nil
	case time.Time:
		s.t, s.valid = x.UTC(), true
		return nil
	case []byte:
		return s.parse(string(x))
	case string:
		return s.parse(x)
	}
	return fmt.Errorf("unreadable time %T", v)
}

func (s *scanTime) parse(v string) error {
	if t, ok := parseTextTime(v); ok {
		s.t, s.valid = t, true
		return nil
	}
	for _, layout := range []string{layoutMicros, layoutSeconds, time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			s.t, s.valid = t.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("unreadable time %q", v)
}

// timeCol is how a query that reads many rows selects the time column
// col: as text where times are stored as text (TextTimes), so that the
// driver hands the text over unparsed.
func (d *Dialect) timeCol(col string) string {
	if d.TextTimes {
		return "CAST(" + col + " AS TEXT)"
	}
	return col
}

// laterUnindexed is the condition that the time column col (never NULL)
// is after the time of one placeholder, in a form that the planners of
// PostgreSQL, MySQL and SQLite do not match to an index. Where times are
// text (TextTimes), both sides are compared as text: the column's NUMERIC
// affinity would otherwise have SQLite try to convert the placeholder's
// text to a number at every row (4% of the CPU of a load of 1e6
// revocations); the text of TextTime sorts as its time.
func (d *Dialect) laterUnindexed(col string) string { return d.compareUnindexed(col, ">") }

// atOrBeforeUnindexed is the condition that the time column col (never
// NULL) is at or before the time of one placeholder, in a form the
// planners do not match to an index (see laterUnindexed).
func (d *Dialect) atOrBeforeUnindexed(col string) string { return d.compareUnindexed(col, "<=") }

// compareUnindexed is col op ?, for the time column col, unindexed (see
// laterUnindexed).
func (d *Dialect) compareUnindexed(col, op string) string {
	if d.TextTimes {
		return d.timeCol(col) + " " + op + " ?"
	}
	return "(" + col + " " + op + " ?) IS TRUE"
}

// parseTextTime reads a UTC time written by TextTime (or by Django):
// "2006-01-02 15:04:05", optionally followed by a fraction of one to nine
// digits. It does what time.Parse does with those layouts, faster, and
// reports false for anything else.
func parseTextTime(v string) (time.Time, bool) {
	if len(v) < len(layoutSeconds) || v[4] != '-' || v[7] != '-' || v[10] != ' ' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := v[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if rest := v[19:]; rest != "" {
		digits := len(rest) - 1
		if rest[0] != '.' || digits < 1 || digits > 9 {
			return time.Time{}, false
		}
		f, ok := num(20, len(v))
		if !ok {
			return time.Time{}, false
		}
		for range 9 - digits {
			f *= 10
		}
		nsec = f
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 April and the like: time.Parse refuses them
		return time.Time{}, false
	}
	return t, true
}

func (s *scanTime) ptr() *time.Time {
	if !s.valid {
		return nil
	}
	t := s.t
	return &t
}
