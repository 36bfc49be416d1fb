package jwtrevoke

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestVerifiedCache: a token answered from the cache of verified tokens
// gets exactly the answer of the slow path at every later moment and for
// every expected type, each caller gets claims of its own, and a codec
// with other keys does not know the tokens of the old one.
func TestVerifiedCache(t *testing.T) {
	now := fuzzNow
	clock := func() time.Time { return now }
	s := DefaultSettings()
	s.Leeway = 2 * time.Second
	c, err := newCodec(s, mustKey(t, "HS256", refKey), nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	claims := benchClaims()
	claims.ExpiresAt = now.Unix() + 60
	claims.Extra = map[string]any{"scope": "read"}
	raw, err := c.encode(claims)
	if err != nil {
		t.Fatal(err)
	}
	same := func(name string, want TokenType) *Claims {
		t.Helper()
		got, gerr := c.decode(raw, want)
		exp, eerr := c.decodeSlow(raw, want)
		agreeDecode(t, name, raw, want, got, gerr, exp, eerr)
		return got
	}
	first := same("first", AccessToken)
	if first == nil {
		t.Fatal("refused a fresh token")
	}
	if c.fast.verified.get(raw, AccessToken, now, s.Leeway) == nil {
		t.Fatal("an accepted token is not in the cache")
	}
	// Each caller's claims are its own.
	first.JTI, first.Extra["scope"] = "changed", "admin"
	if again := same("after a caller changed its claims", AccessToken); again.JTI == "changed" || again.Extra["scope"] != "read" {
		t.Fatalf("cached claims changed by a caller: %+v", again)
	}
	// The type is checked on every hit.
	same("other type", RefreshToken)
	same("any type", "")
	// The time claims are checked on every hit, with the leeway.
	for _, d := range []time.Duration{59 * time.Second, 61 * time.Second, 62 * time.Second, time.Hour} {
		now = fuzzNow.Add(d)
		same("at +"+d.String(), AccessToken)
	}
	now = fuzzNow.Add(time.Hour)
	if _, err := c.decode(raw, AccessToken); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("expired token from the cache: %v", err)
	}
	now = fuzzNow.Add(-time.Minute) // iat in the future
	same("before iat", AccessToken)
	now = fuzzNow
	// A token of the same length with one signature byte changed misses.
	forged := raw[:len(raw)-3] + string(raw[len(raw)-3]^1) + raw[len(raw)-2:]
	if _, err := c.decode(forged, AccessToken); err == nil {
		t.Fatal("forged token accepted")
	}
	if got, _ := c.decode(raw, AccessToken); got == nil {
		t.Fatal("the real token is refused after a forged one")
	}
	// Another codec (a key change) starts with an empty cache.
	other, err := newCodec(s, mustKey(t, "HS256", refKey+"-rotated"), nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.decode(raw, AccessToken); err == nil {
		t.Fatal("a codec with other keys accepted the old key's token")
	}
	if !reflect.DeepEqual(other.fast.verified.get(raw, AccessToken, now, s.Leeway), (*Claims)(nil)) {
		t.Fatal("a new codec's cache holds the old token")
	}
}

// TestEqualTime: equalTime is string equality, for every length and
// every position of a difference.
func TestEqualTime(t *testing.T) {
	base := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.payload-bytes_0123456789"
	for n := 0; n <= len(base); n++ {
		a := base[:n]
		if !equalTime(a, a) {
			t.Fatalf("equalTime(%q, itself) = false", a)
		}
		for i := range n {
			for _, bit := range []byte{1, 0x80} {
				b := a[:i] + string(a[i]^bit) + a[i+1:]
				if equalTime(a, b) {
					t.Fatalf("equalTime(%q, %q) = true", a, b)
				}
			}
		}
	}
}
