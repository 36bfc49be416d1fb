package denylist_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/jwtrevoke/jwtrevoke/internal/denylist"
)

func TestRevoked(t *testing.T) {
	s := denylist.New()
	s.AddSession("s1", 100)
	s.AddToken("j1", 100)
	s.AddUser(7, 50_000, 100)
	cases := []struct {
		name     string
		sid, jti string
		user     int64
		iat      int64
		want     bool
	}{
		{"RevokedSession", "s1", "x", 1, 60, true},
		{"OtherSession", "s2", "x", 1, 60, false},
		{"RevokedToken", "", "j1", 1, 60, true},
		{"UserBeforeCutoff", "s2", "x", 7, 49, true},
		{"UserAtCutoffSecond", "s2", "x", 7, 50, false},
		{"UserNoIat", "", "x", 7, 0, true},
		{"SessionBeganBeforeCutoff", "00000000c34f" + "7" + "0000000000000000000", "", 7, 99, true},
		{"SessionBeganAfterCutoff", "00000000c351" + "7" + "0000000000000000000", "", 7, 50, false},
		{"SessionTimeAfterIatIgnored", "ffffffffffff" + "7" + "0000000000000000000", "", 7, 49, true},
		{"EmptyIDsNotLookedUp", "", "", 1, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := s.Revoked(c.sid, c.jti, c.user, c.iat); got != c.want {
				t.Fatalf("Revoked(%q,%q,%d,%d)=%v, want %v", c.sid, c.jti, c.user, c.iat, got, c.want)
			}
		})
	}
}

func TestAddKeepsLatest(t *testing.T) {
	s := denylist.New()
	s.AddUser(1, 50_000, 100)
	s.AddUser(1, 40_000, 200) // an older cut-off must not lower the newer one
	if !s.Revoked("", "", 1, 45) {
		t.Fatal("cut-off was lowered by an older revocation")
	}
	s.AddSession("a", 200)
	s.AddSession("a", 100)
	if n := s.GC(150); n != 0 {
		t.Fatalf("GC(150) removed %d, want 0 (expiry was lowered)", n)
	}
}

func TestGC(t *testing.T) {
	s := denylist.New()
	s.AddSession("old", 10)
	s.AddSession("new", 30)
	s.AddToken("old", 10)
	s.AddUser(1, 5_000, 10)
	if n := s.GC(10); n != 3 {
		t.Fatalf("GC removed %d, want 3", n)
	}
	if s.Len() != 1 || !s.Revoked("new", "", 0, 0) || s.Revoked("old", "old", 1, 0) {
		t.Fatalf("after GC: len=%d, want only session new", s.Len())
	}
}

func TestConcurrent(t *testing.T) {
	s := denylist.New()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				id := fmt.Sprintf("%d-%d", g, i)
				s.AddSession(id, int64(1000+i))
				if !s.Revoked(id, "", 0, 0) {
					t.Errorf("%s not revoked right after AddSession", id)
					return
				}
				s.GC(int64(i / 2))
			}
		}()
	}
	wg.Wait()
}

func BenchmarkRevoked(b *testing.B) {
	s := denylist.New()
	for i := range 1_000_000 {
		s.AddSession(fmt.Sprintf("%032x", i), 1<<40)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Revoked("ffffffffffffffffffffffffffffffff", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", int64(i), 1)
	}
}

func TestSessionTime(t *testing.T) {
	ms, ok := denylist.SessionTime("018f3a2b4c5d7abc8def0123456789ab")
	if !ok || ms != 0x018f3a2b4c5d {
		t.Fatalf("SessionTime = %d, %v; want %d, true", ms, ok, int64(0x018f3a2b4c5d))
	}
	for _, bad := range []string{"", "8885eec886a449fb94c9366901ecd576", "018f3a2b4c5d7abc8def0123456789a", "018F3A2B4C5D7ABC8DEF0123456789AB"} {
		if _, ok := denylist.SessionTime(bad); ok {
			t.Errorf("SessionTime(%q) accepted", bad)
		}
	}
}
