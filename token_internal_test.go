package jwtrevoke

import (
	"testing"
	"time"
)

// The reference tokens of SEED_TRANSCRIPT.txt section A, issued by Django
// REST framework SimpleJWT 5.2 with SECRET_KEY
// "reference-insecure-signing-key-for-acceptance-tests".
const (
	refKey     = "reference-insecure-signing-key-for-acceptance-tests"
	refAccess  = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1MzQzMzU2LCJpYXQiOjE3OTUzNDMwNTYsImp0aSI6Ijg4ODVlZWM4ODZhNDQ5ZmI5NGM5MzY2OTAxZWNkNTc2IiwidXNlcl9pZCI6MX0.xbZUm7_IwD1aqRvL9oMRDqXDyO_JfZCzgXaxS8g_bgg"
	refRefresh = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc5NTQyOTQ1NiwiaWF0IjoxNzk1MzQzMDU2LCJqdGkiOiJhOGM1MTgyNjA4NzQ0ZjljOGYxY2Q0ODU1ZjNmODQyZSIsInVzZXJfaWQiOjF9.UgcHpumtWcOj310NMYJ7-VpxHhYN1TtlewfaPOjagk8"
)

func refCodec(t *testing.T, now int64) *codec {
	t.Helper()
	s := DefaultSettings()
	s.SigningKey = refKey
	key, err := ParseKey("HS256", refKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCodec(s, key, nil, func() time.Time { return time.Unix(now, 0) })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEncodeMatchesSimpleJWT encodes the reference tokens' claims and gets
// SimpleJWT's bytes exactly: same header, same claim order, same signature.
func TestEncodeMatchesSimpleJWT(t *testing.T) {
	c := refCodec(t, 1795343100)
	cases := []struct {
		name   string
		claims Claims
		want   string
	}{
		{"Access", Claims{Type: AccessToken, ExpiresAt: 1795343356, IssuedAt: 1795343056,
			JTI: "8885eec886a449fb94c9366901ecd576", UserID: 1, HasUser: true}, refAccess},
		{"Refresh", Claims{Type: RefreshToken, ExpiresAt: 1795429456, IssuedAt: 1795343056,
			JTI: "a8c5182608744f9c8f1cd4855f3f842e", UserID: 1, HasUser: true}, refRefresh},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.encode(&tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("encode=\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestDecodeSimpleJWTTokens reads SimpleJWT's own tokens, and refuses them
// once expired (exp <= now) or with the wrong expected type.
func TestDecodeSimpleJWTTokens(t *testing.T) {
	c := refCodec(t, 1795343100)
	a, err := c.decode(refAccess, AccessToken)
	if err != nil {
		t.Fatalf("decode access: %v", err)
	}
	if a.JTI != "8885eec886a449fb94c9366901ecd576" || a.UserID != 1 || !a.HasUser || a.IssuedAt != 1795343056 || a.SessionID != "" {
		t.Fatalf("decoded %+v", a)
	}
	if _, err := c.decode(refRefresh, AccessToken); err != ErrTokenWrongType {
		t.Fatalf("refresh as access: err=%v, want %v", err, ErrTokenWrongType)
	}
	if _, err := refCodec(t, 1795343356).decode(refAccess, AccessToken); err == nil {
		t.Fatal("access token accepted at its exp second")
	}
	if _, err := refCodec(t, 1795343355).decode(refAccess, AccessToken); err != nil {
		t.Fatalf("access token refused one second before exp: %v", err)
	}
}
