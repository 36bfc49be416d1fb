package jwtrevoke

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Fuzz targets of the token parser. Their keys and clock are fixed (the
// SimpleJWT reference key, the RFC 7515 A.3 and RFC 8037 keys, the time of
// the reference tokens), so that a corpus entry found once means the same
// thing at every run.

// fuzzNow is the clock of the fuzzed codecs: the reference tokens are
// valid then.
var fuzzNow = time.Unix(1795343100, 0)

// fuzzCodecs are the codecs a fuzzed token is decoded with: HS256 alone
// (SimpleJWT's setup), ES256 with a previous HS256 key (a rotation, so
// tokens with and without kid, of two algorithms), and EdDSA.
func fuzzCodecs(tb testing.TB) []*codec {
	tb.Helper()
	keys := map[string]*Key{}
	for _, v := range loadRFCVectors(tb) {
		if v.Alg == "ES256" || v.Alg == "EdDSA" {
			material, _, _ := rfcMaterial(tb, v)
			k, err := ParseKey(v.Alg, material)
			if err != nil {
				tb.Fatal(err)
			}
			keys[v.Alg] = k
		}
	}
	hs, err := ParseKey("HS256", refKey)
	if err != nil {
		tb.Fatal(err)
	}
	now := func() time.Time { return fuzzNow }
	var cs []*codec
	for _, k := range []struct {
		current  *Key
		previous []*Key
	}{{hs, nil}, {keys["ES256"], []*Key{hs}}, {keys["EdDSA"], nil}} {
		c, err := newCodec(DefaultSettings(), k.current, k.previous, now)
		if err != nil {
			tb.Fatal(err)
		}
		cs = append(cs, c)
	}
	return cs
}

// fuzzSeeds are real tokens of each codec, SimpleJWT's reference tokens,
// and attack shapes.
func fuzzSeeds(tb testing.TB, cs []*codec) []string {
	tb.Helper()
	seeds := []string{refAccess, refRefresh}
	for _, c := range cs {
		for _, typ := range []TokenType{AccessToken, RefreshToken} {
			tok, err := c.encode(&Claims{Type: typ, ExpiresAt: fuzzNow.Add(time.Hour).Unix(), IssuedAt: fuzzNow.Unix(),
				JTI: newJTI(), UserID: 1, HasUser: true, SessionID: newSessionID(fuzzNow), Extra: map[string]any{"scope": []any{"a", json.Number("1")}}})
			if err != nil {
				tb.Fatal(err)
			}
			seeds = append(seeds, tok)
		}
	}
	enc := base64.RawURLEncoding
	p := strings.Split(refAccess, ".")
	seeds = append(seeds,
		enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))+"."+p[1]+".",
		enc.EncodeToString([]byte(`{"alg":"HS256","alg":"none"}`))+"."+p[1]+"."+p[2],
		enc.EncodeToString([]byte(`{"alg":"HS256","jku":"http://127.0.0.1/"}`))+"."+p[1]+"."+p[2],
		p[0]+"."+p[1][:10]+"\n"+p[1][10:]+"."+p[2],
		p[0]+"."+p[1]+"."+p[2]+"=",
		`{"payload":"`+p[1]+`","protected":"`+p[0]+`","signature":"`+p[2]+`"}`,
		p[0]+"."+p[1],
		p[0]+"."+p[1]+"."+p[2]+"."+p[2],
		"..",
		"",
	)
	return seeds
}

var compactRE = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)

// refCheckObject is checkObject written the plain way, with encoding/json's
// Decoder and a map: the oracle the allocation-free walk is tested against.
func refCheckObject(b []byte, header bool) error {
	if !utf8.Valid(b) {
		return errNotUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errNotObject
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errNotObject
		}
		name := t.(string)
		if header && slices.Contains(refusedHeaders, name) {
			return errors.New("refused header")
		}
		if seen[name] {
			return errDuplicateName
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return errNotObject
		}
	}
	if _, err := dec.Token(); err != nil {
		return errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return errNotObject
	}
	return nil
}

// checkAccepted fails t unless raw, which c accepted as claims, is what
// the independent checks accept: a compact JWS (by regexp) of unique-keyed
// JSON objects (by the plain oracle) that golang-jwt alone, configured with
// one of c's keys under its own algorithm, verifies and finds unexpired;
// and the claims c returned are the payload's.
func checkAccepted(t *testing.T, c *codec, raw string, claims *Claims) {
	t.Helper()
	if !compactRE.MatchString(raw) || len(raw) > MaxTokenLength {
		t.Fatalf("accepted a token that is not compact: %q", raw)
	}
	parts := strings.Split(raw, ".")
	if len(parts[0]) > MaxHeaderLength {
		t.Fatalf("accepted a header of %d bytes", len(parts[0]))
	}
	enc := base64.RawURLEncoding.Strict()
	hb, err1 := enc.DecodeString(parts[0])
	pb, err2 := enc.DecodeString(parts[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("accepted undecodable parts: %v %v", err1, err2)
	}
	if err := refCheckObject(hb, true); err != nil {
		t.Fatalf("accepted header %q: %v", hb, err)
	}
	if err := refCheckObject(pb, false); err != nil {
		t.Fatalf("accepted claims %q: %v", pb, err)
	}
	verified := false
	for _, key := range c.keys {
		p := jwt.NewParser(jwt.WithValidMethods([]string{key.Algorithm}), jwt.WithStrictDecoding(),
			jwt.WithJSONNumber(), jwt.WithIssuedAt(), jwt.WithTimeFunc(func() time.Time { return fuzzNow }))
		if _, err := p.Parse(raw, func(*jwt.Token) (any, error) { return key.verifier, nil }); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		t.Fatalf("accepted a token that golang-jwt verifies with none of the keys: %q", raw)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(pb))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if claims.ExpiresAt <= fuzzNow.Unix() {
		t.Fatalf("accepted a token expired at %d", claims.ExpiresAt)
	}
	if jti, _ := m["jti"].(string); jti != claims.JTI || jti == "" {
		t.Fatalf("claims jti %q, payload %v", claims.JTI, m["jti"])
	}
}

// FuzzDecode: any string as a token, through every codec and expected
// type. Never a panic; every acceptance is of a token that verifies.
func FuzzDecode(f *testing.F) {
	cs := fuzzCodecs(f)
	for _, s := range fuzzSeeds(f, cs) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, c := range cs {
			for _, want := range []TokenType{"", AccessToken, RefreshToken} {
				claims, err := c.decode(raw, want)
				if err != nil {
					continue
				}
				checkAccepted(t, c, raw, claims)
				if want != "" && claims.Type != want {
					t.Fatalf("decode(%s) returned a %q token", want, claims.Type)
				}
			}
		}
	})
}

// FuzzSignedClaims: any bytes as header and claims, signed with the HS256
// key, so that the fuzzer explores what lies behind the signature check:
// the structure checks, golang-jwt's claim validation and SimpleJWT's
// claims. Never a panic; every acceptance passes the independent checks.
func FuzzSignedClaims(f *testing.F) {
	cs := fuzzCodecs(f)
	hs := cs[0]
	for _, s := range fuzzSeeds(f, cs) {
		p := strings.Split(s, ".")
		if len(p) != 3 {
			continue
		}
		h, err1 := base64.RawURLEncoding.DecodeString(p[0])
		c, err2 := base64.RawURLEncoding.DecodeString(p[1])
		if err1 == nil && err2 == nil {
			f.Add(h, c)
		}
	}
	claims := `{"token_type":"access","exp":1795343356,"iat":1795343056,"jti":"8885eec886a449fb94c9366901ecd576","user_id":1}`
	f.Add([]byte(`{"alg":"HS256","typ":"JWT"}`), []byte(claims))
	f.Add([]byte(`{"alg":"HS256","typ":"JWT","alg":"HS256"}`), []byte(claims))
	f.Add([]byte(`{"alg":"HS256"}`), []byte(strings.Replace(claims, "}", `,"user_id":2}`, 1)))
	f.Add([]byte("{\"alg\":\"HS256\",\r\n\"x\":[{\"a\":\"}\"}]}"), []byte(claims+" "))
	f.Add([]byte(`{"alg":"HS256"}`), []byte(strings.Replace(claims, `"exp"`, `"\u0065xp"`, 1)))
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		enc := base64.RawURLEncoding
		input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
		sig, err := jwt.SigningMethodHS256.Sign(input, []byte(refKey))
		if err != nil {
			t.Fatal(err)
		}
		raw := input + "." + enc.EncodeToString(sig)
		for _, want := range []TokenType{"", AccessToken} {
			c, err := hs.decode(raw, want)
			if err == nil {
				checkAccepted(t, hs, raw, c)
			}
		}
	})
}

// FuzzCheckObject: the allocation-free walk of checkObject agrees with
// the plain Decoder-and-map oracle on every input.
func FuzzCheckObject(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"a":1,"a":2}}`,
		`{"a":[1,{"b":"}"}],"b":"\"","c":null,"d":true,"e":-1.5e+10}`, `{"jku":"x"}`, `{"crit":[]}`,
		`{"a":1}{}`, `{"a":1} x`, `[1]`, `"s"`, `null`, `{"a":1,}`, `{"a" 1}`, "{\"\xff\":1}",
		`{"\ud800":1,"\udbff":2}`, "{\"\ufffd\":1,\"\\ufffd\":2}", "\ufeff{}", `{"a":"\u0000"}`,
		`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"a":18}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, header bool) {
		got, want := checkObject(b, header), refCheckObject(b, header)
		if (got == nil) != (want == nil) {
			t.Fatalf("checkObject(%q, %v) = %v, the oracle says %v", b, header, got, want)
		}
	})
}
