package denylist_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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

func TestKeyEncoding(t *testing.T) {
	const lower = "018f3a2b4c5d7abc8def0123456789ab"
	upper := strings.ToUpper(lower)
	s := denylist.New()
	s.AddSession(lower, 100)
	s.AddToken(upper, 100)
	s.AddSession("simplejwt:42:1700000000", 100)
	s.AddToken("not-hex-jti", 100)
	cases := []struct {
		sid, jti string
		want     bool
	}{
		{lower, "", true},
		{upper, "", false}, // upper-case hex is another id
		{"018f3a2b4c5d7abc8def0123456789aB", "", false},
		{"", upper, true},
		{"", lower, false},
		{"", "018f3a2b4c5d7abc8def0123456789aB", false},
		{lower[:31], "", false},
		{lower + "0", "", false},
		{"018f3a2b4c5d7abc8def0123456789ac", "", false},
		{"simplejwt:42:1700000000", "", true},
		{"simplejwt:42:1700000001", "", false},
		{"", "simplejwt:42:1700000000", false}, // sessions and tokens are apart
		{"not-hex-jti", "", false},
		{"", "not-hex-jti", true},
		{upper, lower, false},
	}
	for _, c := range cases {
		if got := s.Revoked(c.sid, c.jti, 1, 1); got != c.want {
			t.Errorf("Revoked(%q, %q) = %v, want %v", c.sid, c.jti, got, c.want)
		}
	}
	if s.Len() != 4 {
		t.Errorf("Len() = %d, want 4", s.Len())
	}
}

func TestUserKeys(t *testing.T) {
	s := denylist.New()
	for _, u := range []int64{0, -1, 1, 1 << 40, -1 << 63, 1<<63 - 1} {
		s.AddUser(u, 10_000, 100)
	}
	for _, u := range []int64{0, -1, 1, 1 << 40, -1 << 63, 1<<63 - 1} {
		if !s.Revoked("", "", u, 5) || s.Revoked("", "", u, 10) {
			t.Errorf("user %d: cut-off not applied exactly", u)
		}
	}
	for _, u := range []int64{2, -2, 1<<40 + 1} {
		if s.Revoked("", "", u, 5) {
			t.Errorf("user %d revoked", u)
		}
	}
}

// model is the set as plain maps, as it was first written.
type model struct {
	sessions, tokens map[string]int64
	users            map[int64][2]int64 // notBefore, expires
}

func (m *model) revoked(sid, jti string, user, iat int64) bool {
	if _, ok := m.sessions[sid]; ok && sid != "" {
		return true
	}
	if _, ok := m.tokens[jti]; ok && jti != "" {
		return true
	}
	if c, ok := m.users[user]; ok {
		issued, ok := denylist.SessionTime(sid)
		if !ok || issued > iat*1000+999 {
			issued = iat * 1000
		}
		return issued < c[0]
	}
	return false
}

func (m *model) gc(now int64) int {
	n := 0
	for k, e := range m.sessions {
		if e <= now {
			delete(m.sessions, k)
			n++
		}
	}
	for k, e := range m.tokens {
		if e <= now {
			delete(m.tokens, k)
			n++
		}
	}
	for k, c := range m.users {
		if c[1] <= now {
			delete(m.users, k)
			n++
		}
	}
	return n
}

// TestAgainstModel runs random adds and GCs, enough to grow and rebuild
// every shard many times, and checks every id ever seen after each step.
func TestAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ids := benchIDs(9, 6_000, true)
	for i := 0; i < len(ids); i += 50 { // some that are not lower-case hex
		ids[i] = strings.ToUpper(ids[i])
		ids[i+1] = fmt.Sprintf("simplejwt:%d:%d", i, 1_700_000_000+i)
	}
	s := denylist.New()
	m := &model{map[string]int64{}, map[string]int64{}, map[int64][2]int64{}}
	now := int64(0)
	check := func(step int) {
		t.Helper()
		if s.Len() != len(m.sessions)+len(m.tokens)+len(m.users) {
			t.Fatalf("step %d: Len() = %d, want %d", step, s.Len(), len(m.sessions)+len(m.tokens)+len(m.users))
		}
		for i, id := range ids {
			user := int64(i % 300)
			iat := int64(r.IntN(40))
			if got, want := s.Revoked(id, "", user, iat), m.revoked(id, "", user, iat); got != want {
				t.Fatalf("step %d: Revoked(%q, \"\", %d, %d) = %v, want %v", step, id, user, iat, got, want)
			}
			if got, want := s.Revoked("", id, user, iat), m.revoked("", id, user, iat); got != want {
				t.Fatalf("step %d: Revoked(\"\", %q, %d, %d) = %v, want %v", step, id, user, iat, got, want)
			}
		}
	}
	for step := range 25 {
		for range 1500 {
			id := ids[r.IntN(len(ids))]
			exp := now + int64(r.IntN(100))
			switch r.IntN(5) {
			case 0, 1, 2:
				s.AddSession(id, exp)
				if old, ok := m.sessions[id]; !ok || exp > old {
					m.sessions[id] = exp
				}
			case 3:
				s.AddToken(id, exp)
				if old, ok := m.tokens[id]; !ok || exp > old {
					m.tokens[id] = exp
				}
			case 4:
				u, nb := int64(r.IntN(300)), int64(r.IntN(40_000))
				s.AddUser(u, nb, exp)
				c := m.users[u]
				m.users[u] = [2]int64{max(c[0], nb), max(c[1], exp)}
			}
		}
		check(step)
		now += int64(r.IntN(30))
		if got, want := s.GC(now), m.gc(now); got != want {
			t.Fatalf("step %d: GC(%d) removed %d, want %d", step, now, got, want)
		}
		check(step)
	}
	if s.GC(now+1000) == 0 || s.Len() != 0 || s.Revoked(ids[5], ids[5], 1, 0) {
		t.Fatal("GC after every expiry left entries")
	}
}

// TestConcurrentReadWrite checks, under -race, that readers never miss
// an entry that was added before they looked, while writers add, raise
// and GC rebuilds the tables under them.
func TestConcurrentReadWrite(t *testing.T) {
	const n = 3_000
	keep := benchIDs(11, n, true)
	drop := benchIDs(12, n, false)
	s := denylist.New()
	var added atomic.Int64 // keep[:added] are revoked
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // writer: long-lived entries, and short-lived ones for GC
		defer wg.Done()
		for i := range n {
			s.AddSession(keep[i], 1_000)
			s.AddToken(keep[i], 1_000)
			s.AddUser(int64(i), 5_000, 1_000)
			s.AddSession(drop[i], int64(i%10))
			s.AddToken("x"+drop[i], int64(i%10))
			added.Store(int64(i + 1))
		}
	}()
	wg.Add(1)
	go func() { // GC: forgets the short-lived ones, over and over
		defer wg.Done()
		for now := int64(0); ; now = (now + 1) % 10 {
			select {
			case <-stop:
				return
			default:
			}
			s.GC(now)
		}
	}()
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for {
				a := added.Load()
				if a == int64(n) {
					return
				}
				if a == 0 {
					continue
				}
				i := r.Int64N(a)
				id := keep[i]
				if !s.Revoked(id, "", -1, 0) || !s.Revoked("", id, -1, 0) || !s.Revoked("", "", i, 4) {
					t.Errorf("entry %d (%s) missed after it was added", i, id)
					return
				}
				if s.Revoked(drop[i][:31]+"g", "", -1, 0) {
					t.Errorf("never-added id revoked")
					return
				}
			}
		}()
	}
	for added.Load() < int64(n) {
		runtime.Gosched()
	}
	close(stop)
	wg.Wait()
	s.GC(10)
	if got := s.Len(); got != 3*n {
		t.Fatalf("Len() = %d after GC of the short-lived entries, want %d", got, 3*n)
	}
}

func TestHolds(t *testing.T) {
	s := denylist.New()
	hexSid := "0123456789abcdef0123456789abcdef"
	if s.HoldsSession(hexSid) || s.HoldsToken("j") || s.HoldsUser(1, 0) {
		t.Fatal("an empty set holds something")
	}
	s.AddSession(hexSid, 100)
	s.AddSession("foreign session", 100)
	s.AddToken("j1", 100)
	s.AddUser(7, 50_000, 100)
	for _, c := range []struct {
		name string
		got  bool
		want bool
	}{
		{"HexSession", s.HoldsSession(hexSid), true},
		{"StringSession", s.HoldsSession("foreign session"), true},
		{"OtherSession", s.HoldsSession("fedcba9876543210fedcba9876543210"), false},
		{"SessionIsNotToken", s.HoldsToken(hexSid), false},
		{"Token", s.HoldsToken("j1"), true},
		{"OtherToken", s.HoldsToken("j2"), false},
		{"UserSameCutoff", s.HoldsUser(7, 50_000), true},
		{"UserEarlierCutoff", s.HoldsUser(7, 49_999), true},
		{"UserLaterCutoff", s.HoldsUser(7, 50_001), false},
		{"OtherUser", s.HoldsUser(8, 0), false},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}
