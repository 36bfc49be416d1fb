package redis

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzParseRev: parseRev, the fast decoder of stored revocations, reads
// every object json.Unmarshal reads into a revJSON to the same fields,
// and refuses what it refuses.
func FuzzParseRev(f *testing.F) {
	for _, s := range []string{
		`{"seq":"7","session_id":"abc","jti":"","user_id":"1","not_before":"","expires_at":"1700000000000","reason":"logout","created_at":"1690000000000"}`,
		`{"seq":"8","session_id":"","jti":"a\/b\u00e9\n","user_id":"2","expires_at":"1","reason":"rotated","created_at":"0","audit":{"ip":"::1","user_agent":"x","keep_until":"5"}}`,
		`{"seq":"1","seq":"2","reason":null,"extra":[1,{"a":true}]}`,
		`{"seq":1}`, `{"jti":["x"]}`, `[]`, `"x"`, `{`, `{} x`, `null`, ``, `{"reason":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return // encoding/json replaces invalid UTF-8; stored revocations are written as JSON, valid UTF-8
		}
		var want revJSON
		wantErr := json.Unmarshal(b, &want)
		if hasKeyOtherCase(b) {
			// encoding/json matches member names case-insensitively (and
			// then may refuse a "Seq" that is a number); parseRev reads
			// only the lower-case names the stores write
			return
		}
		got, err := parseRev(string(b))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: parseRev error %v, json.Unmarshal error %v", b, err, wantErr)
		}
		got.Audit = nil // not stored: the scripts strip it
		if err == nil && !reflect.DeepEqual(got, revJSON{Seq: want.Seq, SessionID: want.SessionID, JTI: want.JTI, UserID: want.UserID,
			NotBefore: want.NotBefore, ExpiresAt: want.ExpiresAt, Reason: want.Reason, CreatedAt: want.CreatedAt}) {
			t.Fatalf("%q: parseRev %+v, json.Unmarshal %+v", b, got, want)
		}
	})
}

// hasKeyOtherCase reports whether the object b has a member that
// encoding/json decodes into one of revJSON's fields although its name is
// not exactly the field's (encoding/json folds case).
func hasKeyOtherCase(b []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	for k := range m {
		var exact, folded revJSON
		js, _ := json.Marshal(map[string]string{k: "x"})
		if json.Unmarshal(js, &folded) == nil && folded != exact && !isRevMember(k) {
			return true
		}
	}
	return false
}

func isRevMember(k string) bool {
	switch k {
	case "seq", "session_id", "jti", "user_id", "not_before", "expires_at", "reason", "created_at":
		return true
	}
	return false
}

// BenchmarkDecodeRevocation: what a server starting on Redis spends per
// loaded revocation decoding it, against encoding/json on the same bytes.
func BenchmarkDecodeRevocation(b *testing.B) {
	js := []byte(`{"seq":"123456","session_id":"0a4f3c9e1b2d4e5f6a7b8c9d0e1f2a3b","jti":"","user_id":"42","not_before":"","expires_at":"1764720000000","reason":"logout","created_at":"1764633600000"}`)
	b.Run("parseRev", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeRevocation(js); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var j revJSON
			if err := json.Unmarshal(js, &j); err != nil {
				b.Fatal(err)
			}
			if _, err := j.rev(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
