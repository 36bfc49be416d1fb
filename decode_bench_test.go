package jwtrevoke

import (
	"testing"
	"time"
)

// Benchmarks of the codec, run with
//
//	go test -run '^$' -bench 'Decode|Sign|Encode' -benchmem .
//
// BenchmarkDecodeHS256/cached is decode of a SimpleJWT-shaped access
// token the codec has seen (a client's next request: the cache of
// verified tokens answers), /fast the same token's first decode (the fast
// path, the cache off), /slow the same through golang-jwt's parser
// (decodeSlow); the ES256 and EdDSA ones are for reference (slow path
// only: their verification dominates).

func benchClaims() *Claims {
	return &Claims{Type: AccessToken, ExpiresAt: fuzzNow.Unix() + 300, IssuedAt: fuzzNow.Unix(), JTI: newJTI(),
		UserID: 1, HasUser: true, SessionID: newSessionID(fuzzNow)}
}

func benchDecode(b *testing.B, c *codec, slow bool) {
	b.Helper()
	raw, err := c.encode(benchClaims())
	if err != nil {
		b.Fatal(err)
	}
	decode := c.decode
	if slow {
		decode = c.decodeSlow
	}
	if _, err := decode(raw, AccessToken); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(raw, AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

func benchHS256(b *testing.B, mod func(*Settings)) *codec {
	b.Helper()
	s := DefaultSettings()
	if mod != nil {
		mod(&s)
	}
	c, err := newCodec(s, mustKey(b, "HS256", refKey), nil, func() time.Time { return fuzzNow })
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkDecodeHS256(b *testing.B) {
	c := benchHS256(b, nil)
	uncached := benchHS256(b, nil)
	uncached.fast.verified = nil
	b.Run("cached", func(b *testing.B) { benchDecode(b, c, false) })
	b.Run("fast", func(b *testing.B) { benchDecode(b, uncached, false) })
	b.Run("slow", func(b *testing.B) { benchDecode(b, c, true) })
	// With ISSUER and AUDIENCE set: iss and aud are checked and go into
	// Extra.
	ia := benchHS256(b, func(s *Settings) { s.Issuer, s.Audience = "https://issuer.example", "api" })
	b.Run("iss+aud/cached", func(b *testing.B) { benchDecode(b, ia, false) })
	iaUncached := benchHS256(b, func(s *Settings) { s.Issuer, s.Audience = "https://issuer.example", "api" })
	iaUncached.fast.verified = nil
	b.Run("iss+aud/fast", func(b *testing.B) { benchDecode(b, iaUncached, false) })
	b.Run("iss+aud/slow", func(b *testing.B) { benchDecode(b, ia, true) })
	// A refused token (bad signature): the fast path's refusal.
	b.Run("badsig/fast", func(b *testing.B) {
		raw, _ := c.encode(benchClaims())
		raw = raw[:len(raw)-2] + "AA"
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.decode(raw, AccessToken); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

func BenchmarkDecodeES256(b *testing.B) { benchDecode(b, fuzzCodecs(b)[1], false) }

func BenchmarkDecodeEdDSA(b *testing.B) { benchDecode(b, fuzzCodecs(b)[2], false) }

func benchEncode(b *testing.B, c *codec) {
	b.Helper()
	claims := benchClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.encode(claims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeHS256(b *testing.B) { benchEncode(b, benchHS256(b, nil)) }

func BenchmarkSignES256(b *testing.B) { benchEncode(b, fuzzCodecs(b)[1]) }

func BenchmarkSignEdDSA(b *testing.B) { benchEncode(b, fuzzCodecs(b)[2]) }
