package sqlstore

import (
	"testing"
	"time"
)

// slowParse is what scanTime.parse did before parseTextTime: time.Parse
// with the text layouts.
func slowParse(v string) (time.Time, bool) {
	for _, layout := range []string{layoutMicros, layoutSeconds, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func checkTextTime(t *testing.T, v string) {
	got, ok := parseTextTime(v)
	want, wantOK := slowParse(v)
	if ok && (!wantOK || !got.Equal(want) || got.Location() != time.UTC) {
		t.Fatalf("parseTextTime(%q) = %v, want %v (ok %v)", v, got, want, wantOK)
	}
	// Refusing is safe (scanTime falls back to time.Parse); the forms
	// TextTime writes must take the fast path (TestParseTextTime).
}

func TestParseTextTime(t *testing.T) {
	for _, v := range []string{
		"2026-12-02 01:02:03", "2026-12-02 01:02:03.000001", "2026-12-02 01:02:03.5",
		"2026-12-02 01:02:03.123456789", "2024-02-29 23:59:59", "2023-02-29 00:00:00",
		"2026-04-31 00:00:00", "2026-13-01 00:00:00", "2026-00-01 00:00:00", "2026-12-02 24:00:00",
		"2026-12-02 01:02:03.", "2026-12-02 01:02:03.1234567890", "2026-12-02T01:02:03",
		"2026-12-02 01:02:03+00:00", "2026-12-02 01:02", "", "0000-01-01 00:00:00", "9999-12-31 23:59:59.999999",
		"2026-1a-02 01:02:03", "2026-12-02 01:02:03.12a",
	} {
		checkTextTime(t, v)
	}
	for _, tm := range []time.Time{time.Now(), time.Now().Truncate(time.Second), time.Unix(0, 0), time.Date(2038, 1, 19, 3, 14, 8, 1000, time.UTC)} {
		s := TextTime(tm).(string)
		got, ok := parseTextTime(s)
		if !ok || !got.Equal(tm.UTC().Truncate(time.Microsecond)) {
			t.Fatalf("parseTextTime(TextTime(%v)) = %v, %v", tm, got, ok)
		}
	}
}

func FuzzParseTextTime(f *testing.F) {
	f.Add("2026-12-02 01:02:03.000001")
	f.Add("2024-02-29 23:59:59")
	f.Add("2026-04-31 00:00:00.5")
	f.Fuzz(checkTextTime)
}
