package jwtrevoke

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The fast path (fastpath.go) against the slow path (decodeSlow, through
// golang-jwt's parser): same acceptances, same claims, same errors.

// Fixed HMAC secrets of the differential codecs (besides refKey).
const (
	fastKey256b = "second-hs256-key-of-the-fast-path-differential-tests-0123456789"
	fastKey384  = "hs384-key-of-the-fast-path-differential-tests-0123456789abcdef-0123456789"
	fastKey512  = "hs512-key-of-the-fast-path-differential-tests-0123456789abcdef-0123456789abcdef-0123456789"
	fastForeign = "a-foreign-hs256-key-that-no-codec-of-these-tests-knows-0123456789"
)

// fastCase is a codec under test with the HMAC keys a fuzzed token may be
// signed with: its own, and a foreign one.
type fastCase struct {
	name string
	c    *codec
	sign []*Key
}

func mustKey(tb testing.TB, alg, material string) *Key {
	tb.Helper()
	k, err := ParseKey(alg, material)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// fastCases are: SimpleJWT's setup (HS256 alone); HS384 after an HS256 key
// with iss, aud and a leeway; HS512 after two HS256 keys (a header without
// kid is then checked with both) with renamed claims; ES256 after HS256
// (the fuzz codec: only the HS256 tokens take the fast path); and a
// verify-only codec of two HMAC keys.
func fastCases(tb testing.TB) []fastCase {
	tb.Helper()
	now := func() time.Time { return fuzzNow }
	ref, b256 := mustKey(tb, "HS256", refKey), mustKey(tb, "HS256", fastKey256b)
	k384, k512 := mustKey(tb, "HS384", fastKey384), mustKey(tb, "HS512", fastKey512)
	foreign := mustKey(tb, "HS256", fastForeign)
	mk := func(name string, s Settings, current *Key, previous ...*Key) fastCase {
		c, err := newCodec(s, current, previous, now)
		if err != nil {
			tb.Fatal(err)
		}
		return fastCase{name, c, append([]*Key{current, foreign}, previous...)}
	}
	withIss := DefaultSettings()
	withIss.Issuer, withIss.Audience, withIss.Leeway = "https://issuer.example", "api", 30*time.Second
	renamed := DefaultSettings()
	renamed.JTIClaim, renamed.TokenTypeClaim, renamed.UserIDClaim = "id", "type", "sub"
	cases := []fastCase{
		mk("HS256", DefaultSettings(), ref),
		mk("HS384+iss+aud", withIss, k384, ref),
		mk("HS512+renamed", renamed, k512, ref, b256),
	}
	es := fuzzCodecs(tb)[1]
	cases = append(cases, fastCase{"ES256+HS256", es, []*Key{ref, foreign}})
	vo, err := newVerifyCodec(DefaultSettings(), []*Key{b256, ref}, now)
	if err != nil {
		tb.Fatal(err)
	}
	cases = append(cases, fastCase{"verify-only", vo, []*Key{ref, b256, foreign}})
	for _, fc := range cases {
		if fc.c.fast == nil {
			tb.Fatalf("%s: no fast path", fc.name)
		}
	}
	return cases
}

// hmacSign returns the signature of input with key, under the key's
// algorithm.
func hmacSign(tb testing.TB, key *Key, input string) []byte {
	tb.Helper()
	sig, err := jwt.GetSigningMethod(key.Algorithm).Sign(input, key.signer)
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// tokenErrors are the errors whose errors.Is the two paths must agree on.
var tokenErrors = []error{
	ErrTokenInvalid, ErrTokenNoExp, ErrTokenNoID, ErrTokenNoType, ErrTokenWrongType,
	errNotCompact, errHeaderTooLong, errNotObject, errNotUTF8, errDuplicateName,
	jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid, jwt.ErrSignatureInvalid,
	jwt.ErrTokenInvalidClaims, jwt.ErrTokenExpired, jwt.ErrTokenNotValidYet, jwt.ErrTokenUsedBeforeIssued,
	jwt.ErrTokenInvalidIssuer, jwt.ErrTokenInvalidAudience, jwt.ErrTokenRequiredClaimMissing, jwt.ErrInvalidType,
}

// compareDecode fails t unless decode (fast path first) and decodeSlow
// agree on raw: both accept with deeply equal claims, or both refuse with
// the same error (same text, same errors.Is for every tokenErrors). It
// reports whether the fast path answered itself.
func compareDecode(t *testing.T, c *codec, raw string, want TokenType) (fast bool) {
	t.Helper()
	// The fast path's own answer, then decode's, which for a token the
	// fast path accepted comes from its cache of verified tokens: both
	// must be the slow path's.
	first, ferr := c.fast.decode(c, raw, want)
	fast = ferr != errSlowPath
	got, gerr := c.decode(raw, want)
	exp, eerr := c.decodeSlow(raw, want)
	if fast {
		agreeDecode(t, "fast path", raw, want, first, ferr, exp, eerr)
	}
	agreeDecode(t, "decode", raw, want, got, gerr, exp, eerr)
	return fast
}

// agreeDecode fails t unless got, gerr (from the path named name) and
// exp, eerr (from the slow path) agree as compareDecode says.
func agreeDecode(t *testing.T, name, raw string, want TokenType, got *Claims, gerr error, exp *Claims, eerr error) {
	t.Helper()
	switch {
	case (gerr == nil) != (eerr == nil):
		t.Fatalf("decode(%q, %q): %s %+v, %v; slow path %+v, %v", raw, want, name, got, gerr, exp, eerr)
	case gerr == nil:
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("decode(%q, %q): %s claims\n%#v\nslow path\n%#v", raw, want, name, got, exp)
		}
	default:
		if gerr.Error() != eerr.Error() {
			t.Fatalf("decode(%q, %q): %s error %q, slow path %q", raw, want, name, gerr, eerr)
		}
		for _, e := range tokenErrors {
			if errors.Is(gerr, e) != errors.Is(eerr, e) {
				t.Fatalf("decode(%q, %q): errors.Is(%v): %s %v (%v), slow path %v (%v)", raw, want, e, name, errors.Is(gerr, e), gerr, errors.Is(eerr, e), eerr)
			}
		}
	}
}

var fastWants = []TokenType{"", AccessToken, RefreshToken, SlidingToken}

// fastPayloads are claims around every decision of the two paths, for the
// default claim names (and, renamed, for the HS512 codec).
var fastPayloads = []string{
	`{"token_type":"access","exp":1795343356,"iat":1795343056,"jti":"8885eec886a449fb94c9366901ecd576","user_id":1}`,
	`{"token_type":"refresh","exp":1795429456,"iat":1795343056,"jti":"a8c5182608744f9c8f1cd4855f3f842e","user_id":1,"sid":"019a2b3c4d5e7f00a1b2c3d4e5f60718"}`,
	`{"token_type":"sliding","exp":1795343356,"iat":1795343056,"jti":"j","user_id":7,"refresh_exp":1795429456}`,
	`{"token_type":"access","exp":1795343356,"iat":1795343056,"jti":"j","user_id":1,"aud":"api","iss":"https://issuer.example"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","aud":["x","api"],"iss":"https://issuer.example"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","aud":["x",1,"api"],"iss":"https://issuer.example"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","aud":"","iss":""}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","aud":5,"iss":5}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","aud":null,"iss":null}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","aud":"other","iss":"other"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","aud":"\u0061pi","iss":"https:\/\/issuer.example"}`,
	`{"token_type":"access","exp":1795343356.5,"iat":1795343056.25,"jti":"j"}`,
	`{"token_type":"access","exp":1795343100,"jti":"j"}`,
	`{"token_type":"access","exp":1795343101,"jti":"j"}`,
	`{"token_type":"access","exp":1795343075,"jti":"j"}`,
	`{"token_type":"access","exp":1e10,"jti":"j"}`,
	`{"token_type":"access","exp":1E+400,"jti":"j"}`,
	`{"token_type":"access","exp":-1e400,"jti":"j"}`,
	`{"token_type":"access","exp":12345678901234567890,"jti":"j"}`,
	`{"token_type":"access","exp":9007199254740993,"jti":"j"}`,
	`{"token_type":"access","exp":-0,"jti":"j"}`,
	`{"token_type":"access","exp":"1795343356","jti":"j"}`,
	`{"token_type":"access","exp":null,"jti":"j"}`,
	`{"token_type":"access","exp":true,"jti":"j"}`,
	`{"token_type":"access","jti":"j"}`,
	`{"token_type":"access","exp":1795343356,"nbf":1795343200,"jti":"j"}`,
	`{"token_type":"access","exp":1795343356,"nbf":1795343100,"jti":"j"}`,
	`{"token_type":"access","exp":1795343356,"nbf":"x","iat":null,"jti":"j"}`,
	`{"token_type":"access","exp":1795343356,"iat":1795343101,"jti":"j"}`,
	`{"token_type":"access","exp":1795343356,"iat":1795343120.5,"jti":"j"}`,
	`{"token_type":"access","exp":1795343356,"iat":1e300,"jti":"j"}`,
	`{"token_type":"access","exp":1795343356,"iat":-1e300,"jti":"j"}`,
	`{"token_type":"access","exp":1795343356}`,
	`{"token_type":"access","exp":1795343356,"jti":""}`,
	`{"token_type":"access","exp":1795343356,"jti":5}`,
	`{"token_type":"access","exp":1795343356,"jti":null}`,
	`{"token_type":"access","exp":1795343356,"jti":"\u0041\ud800b\n"}`,
	`{"exp":1795343356,"jti":"j"}`,
	`{"token_type":"refresh","exp":1795343356,"jti":"j"}`,
	`{"token_type":5,"exp":1795343356,"jti":"j"}`,
	`{"token_type":"acc\u0065ss","exp":1795343356,"jti":"j"}`,
	`{"token_type":"","exp":1795343356,"jti":"j"}`,
	`{"token_type":"other","exp":1795343356,"jti":"j"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","user_id":"42"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","user_id":"+42"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","user_id":"abc"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","user_id":1.5}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","user_id":12345678901234567890}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","user_id":-3}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","user_id":true}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","user_id":null}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","sid":null}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","sid":5}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","sid":""}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","sid":"s\"id"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","scope":["a",1,{"b":null}],"x":{"y":1,"y":2},"t":true,"f":false,"n":null,"num":1.50,"s":"\u00e9"}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","exp":1795343356}`,
	`{"token_type":"access","exp":1795343356,"jti":"j","\u0065xp":1795343356}`,
	`{"token_type":"access","\u0065xp":1795343356,"jti":"j"}`,
	"{ \"token_type\" : \"access\" ,\r\n\t\"exp\" :1795343356, \"jti\":\"j\" } ",
	`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"k":10,"l":11,"m":12,"n":13,"o":14,"p":15,"q":16,"r":17,"token_type":"access","exp":1795343356,"jti":"j"}`,
	`{"type":"access","exp":1795343356,"iat":1795343056,"id":"j","sub":"5","jti":"x","token_type":"refresh","user_id":3}`,
	`{"":"empty name","token_type":"access","exp":1795343356,"jti":"j"}`,
	`{}`, `[1]`, `"s"`, `null`, `{"a":1} x`, `{"a":}`, "{\"a\":\"\xff\"}", "\ufeff{}",
}

// renameClaims gives claims for the codec of renamed claims.
func renameClaims(p string) string {
	return strings.NewReplacer(`"token_type"`, `"type"`, `"jti"`, `"id"`, `"user_id"`, `"sub"`).Replace(p)
}

// fastHeaderBytes are the decoded headers of c's fast path.
func fastHeaderBytes(tb testing.TB, c *codec) [][]byte {
	tb.Helper()
	var hs [][]byte
	for _, h := range c.fast.headers {
		b, err := base64.RawURLEncoding.DecodeString(h.seg)
		if err != nil {
			tb.Fatal(err)
		}
		hs = append(hs, b)
	}
	return hs
}

// fuzzToken builds the token of a differential fuzz input: header (empty:
// one of the codec's fast-path headers, picked by sel) and payload,
// signed with one of fc's keys (picked by sel) unless sig is given, then
// with the byte at mut>>8 flipped by mut's low byte.
func fuzzToken(tb testing.TB, fc fastCase, sel uint8, header, payload, sig []byte, mut uint16) string {
	if len(header) == 0 {
		hs := fastHeaderBytes(tb, fc.c)
		header = hs[int(sel>>3)%len(hs)]
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	if len(sig) == 0 {
		sig = hmacSign(tb, fc.sign[int(sel>>5)%len(fc.sign)], input)
	}
	raw := input + "." + enc.EncodeToString(sig)
	if mut&0xff != 0 {
		b := []byte(raw)
		b[int(mut>>8)%len(b)] ^= byte(mut)
		raw = string(b)
	}
	return raw
}

// FuzzFastPathDifferential: any header, payload and signature bytes, by
// default a header the fast path knows, signed with a key of the codec
// (or a foreign one), optionally with one byte flipped; decode and
// decodeSlow must agree exactly, on every codec and expected type.
func FuzzFastPathDifferential(f *testing.F) {
	cases := fastCases(f)
	for i, p := range fastPayloads {
		for sel := range 8 {
			f.Add(uint8(i%len(cases)+sel*37), []byte(nil), []byte(p), []byte(nil), uint16(0))
		}
		for sel := range 4 { // the codec of renamed claims (cases[2])
			f.Add(uint8(2+len(cases)*(sel*13)), []byte(nil), []byte(renameClaims(p)), []byte(nil), uint16(0))
		}
		f.Add(uint8(i), []byte(nil), []byte(p), []byte(nil), uint16(i*0x101+0x3301))
		f.Add(uint8(i), []byte(`{"alg":"HS256","typ":"JWT"}`), []byte(p), []byte(nil), uint16(0))
	}
	f.Add(uint8(0), []byte(nil), []byte(fastPayloads[0]), []byte("short"), uint16(0))
	f.Add(uint8(0), []byte(`{"alg":"HS256"}`), []byte(fastPayloads[0]), []byte(nil), uint16(0))
	f.Add(uint8(0), []byte(`{"alg":"HS256","typ":"JWT","kid":"x"}`), []byte(fastPayloads[0]), []byte(nil), uint16(0))
	f.Fuzz(func(t *testing.T, sel uint8, header, payload, sig []byte, mut uint16) {
		if len(header)+len(payload)+len(sig) > 2*MaxTokenLength {
			return
		}
		fc := cases[int(sel)%len(cases)]
		raw := fuzzToken(t, fc, sel, header, payload, sig, mut)
		for _, want := range fastWants {
			compareDecode(t, fc.c, raw, want)
		}
	})
}

// TestFastPathAgrees runs the differential check over every seed payload,
// header and key, and checks that the fast path does answer most of them
// itself.
func TestFastPathAgrees(t *testing.T) {
	var fast, total int
	for _, fc := range fastCases(t) {
		renamed := fc.c.s.JTIClaim != "jti"
		for _, p := range fastPayloads {
			if renamed {
				p = renameClaims(p)
			}
			for hi := range fastHeaderBytes(t, fc.c) {
				for ki := range fc.sign {
					raw := fuzzToken(t, fc, uint8(hi<<3|ki<<5), nil, []byte(p), nil, 0)
					for _, want := range fastWants {
						total++
						if compareDecode(t, fc.c, raw, want) {
							fast++
						}
					}
				}
			}
		}
	}
	t.Logf("the fast path answered %d of %d decodes itself", fast, total)
	if fast < total*3/4 {
		t.Fatalf("the fast path answered only %d of %d decodes", fast, total)
	}
}

// TestFastPathIssuedTokens: every token the codecs issue, of every type
// and with extra claims, takes the fast path and reads back as issued.
func TestFastPathIssuedTokens(t *testing.T) {
	for _, fc := range fastCases(t) {
		if fc.c.current == nil || !isHMAC(fc.c.current.Algorithm) {
			continue
		}
		for _, typ := range []TokenType{AccessToken, RefreshToken, SlidingToken} {
			for _, extra := range []map[string]any{nil, {"refresh_exp": json.Number("1795429456"), "scope": []any{"a", json.Number("2")}, "role": "admin"}} {
				in := &Claims{Type: typ, ExpiresAt: fuzzNow.Unix() + 60, IssuedAt: fuzzNow.Unix(), JTI: newJTI(),
					UserID: 42, HasUser: true, SessionID: newSessionID(fuzzNow), Extra: extra}
				raw, err := fc.c.encode(in)
				if err != nil {
					t.Fatal(err)
				}
				got, err := fc.c.fast.decode(fc.c, raw, typ)
				if err != nil {
					t.Fatalf("%s: fast path: %v", fc.name, err)
				}
				if !compareDecode(t, fc.c, raw, typ) {
					t.Fatalf("%s: the fast path left its own %s token to the slow path", fc.name, typ)
				}
				want := map[string]any{}
				for n, v := range extra {
					want[n] = v
				}
				if fc.c.s.Issuer != "" {
					want["iss"] = fc.c.s.Issuer
				}
				if fc.c.s.Audience != "" {
					want["aud"] = fc.c.s.Audience
				}
				in.Extra = want
				if !reflect.DeepEqual(got, in) {
					t.Fatalf("%s: decoded\n%#v\nissued\n%#v", fc.name, got, in)
				}
			}
		}
	}
}

// TestFastPathLeavesToSlowPath: what the fast path does not handle goes
// to the slow path (and is still decoded right).
func TestFastPathLeavesToSlowPath(t *testing.T) {
	cases := fastCases(t)
	hs, iss := cases[0], cases[1]
	enc := base64.RawURLEncoding
	p := fastPayloads[0]
	for _, tc := range []struct {
		fc      fastCase
		header  string
		payload string
	}{
		{hs, `{"alg":"HS256"}`, p},
		{hs, `{"typ":"JWT","alg":"HS256"}`, p},
		{hs, `{"alg":"HS256","typ":"JWT"} `, p},
		{hs, `{"alg":"HS384","typ":"JWT"}`, p},
		{hs, "", strings.Replace(p, `"jti"`, `"\u006a\u0074\u0069"`, 1)},
		{iss, "", strings.Replace(p, `}`, `,"aud":["api"],"iss":"https://issuer.example"}`, 1)},
	} {
		header := tc.header
		if header == "" {
			header = string(fastHeaderBytes(t, tc.fc.c)[0])
		}
		input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(tc.payload))
		raw := input + "." + enc.EncodeToString(hmacSign(t, tc.fc.sign[0], input))
		if _, err := tc.fc.c.fast.decode(tc.fc.c, raw, AccessToken); err != errSlowPath {
			t.Errorf("%s %s %s: fast path answered %v", tc.fc.name, tc.header, tc.payload, err)
		}
		compareDecode(t, tc.fc.c, raw, AccessToken)
	}
	// Claim names that collide turn the fast path off.
	s := DefaultSettings()
	s.UserIDClaim = "sid"
	c, err := newCodec(s, mustKey(t, "HS256", refKey), nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if c.fast != nil {
		t.Fatal("a fast path with user_id named sid")
	}
}

// TestFastPathAllocs: an HS256 access token costs at most 3 allocations
// (the Claims, the jti and sid, Extra); with iss and aud, at most 4.
func TestFastPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	c := refCodec(t, 1795343100)
	if n := testing.AllocsPerRun(200, func() {
		if _, err := c.decode(refAccess, AccessToken); err != nil {
			t.Fatal(err)
		}
	}); n > 3 {
		t.Errorf("decode(refAccess): %v allocations, want at most 3", n)
	}
	fc := fastCases(t)[1]
	raw, err := fc.c.encode(&Claims{Type: AccessToken, ExpiresAt: fuzzNow.Unix() + 60, IssuedAt: fuzzNow.Unix(), JTI: newJTI(),
		UserID: 1, HasUser: true, SessionID: newSessionID(fuzzNow)})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(200, func() {
		if _, err := fc.c.decode(raw, AccessToken); err != nil {
			t.Fatal(err)
		}
	}); n > 4 {
		t.Errorf("decode with iss and aud: %v allocations, want at most 4", n)
	}
}

// TestFastPathConcurrent decodes with every key at once (the pooled
// hashes and buffers), for the race detector.
func TestFastPathConcurrent(t *testing.T) {
	cases := fastCases(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fc := cases[(g+i)%len(cases)]
				p := fastPayloads[(g*7+i)%4]
				if fc.c.s.JTIClaim != "jti" {
					p = renameClaims(p)
				}
				raw := fuzzToken(t, fc, uint8(i), nil, []byte(p), nil, 0)
				a, aerr := fc.c.decode(raw, "")
				b, berr := fc.c.decodeSlow(raw, "")
				if fmt.Sprint(aerr) != fmt.Sprint(berr) || !reflect.DeepEqual(a, b) {
					t.Errorf("%s %q: fast %+v %v, slow %+v %v", fc.name, raw, a, aerr, b, berr)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzAppendJSONValue: the claims encoder's hand-written strings and
// integers are byte for byte json.Marshal's.
func FuzzAppendJSONValue(f *testing.F) {
	for _, s := range []string{"", "access", "a<b>&c", `q"b\`, "\x00\x1f\x7f", "é", "\xff", "jti-0123456789abcdef"} {
		f.Add(s, int64(0))
	}
	f.Add("x", int64(-1<<63))
	f.Add("y", int64(1<<63-1))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		for _, v := range []any{s, n} {
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendJSONValue([]byte("prefix"), v)
			if err != nil || string(got) != "prefix"+string(want) {
				t.Fatalf("appendJSONValue(%#v) = %q, %v; json.Marshal: %q", v, got, err, want)
			}
		}
	})
}

// TestFastSign: a token signed with the current HMAC key's pooled hash is
// byte for byte the one golang-jwt signs, for each HMAC algorithm, with
// and without iss, aud and extra claims.
func TestFastSign(t *testing.T) {
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		for _, mod := range []func(*Settings){nil, func(s *Settings) { s.Issuer, s.Audience = "https://issuer.example", "api" }} {
			s := DefaultSettings()
			s.Algorithm = alg
			if mod != nil {
				mod(&s)
			}
			c, err := newCodec(s, mustKey(t, alg, refKey+refKey), nil, func() time.Time { return fuzzNow })
			if err != nil {
				t.Fatal(err)
			}
			if c.fast == nil || c.fast.signer == nil {
				t.Fatalf("%s: no fast signer", alg)
			}
			claims := benchClaims()
			claims.Extra = map[string]any{"scope": "read <write>", "n": 3}
			fast, err := c.encode(claims)
			if err != nil {
				t.Fatal(err)
			}
			signer := c.fast.signer
			c.fast.signer = nil
			slow, err := c.encode(claims)
			c.fast.signer = signer
			if err != nil {
				t.Fatal(err)
			}
			if fast != slow {
				t.Fatalf("%s: fast signing\n%s\ngolang-jwt\n%s", alg, fast, slow)
			}
		}
	}
}
