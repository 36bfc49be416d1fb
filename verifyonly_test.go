package jwtrevoke_test

import (
	"errors"
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

func TestVerifyOnlyService(t *testing.T) {
	priv := keyFor(t, "ES256")
	signing, err := jwtrevoke.ParseKey("ES256", priv)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwtrevoke.PublicKey("ES256", signing.Public())
	if err != nil {
		t.Fatal(err)
	}
	if pub.ID != signing.ID || pub.Algorithm != "ES256" {
		t.Fatalf("kid %q, want %q", pub.ID, signing.ID)
	}
	if _, err := jwtrevoke.PublicKey("HS256", []byte("0123456789abcdef0123456789abcdef")); err == nil {
		t.Fatal("PublicKey accepted HS256")
	}
	if _, err := jwtrevoke.PublicKey("ES384", signing.Public()); err == nil {
		t.Fatal("PublicKey accepted a P-256 key for ES384")
	}

	st := memory.New()
	s := jwtrevoke.DefaultSettings()
	s.Algorithm, s.SigningKey = "ES256", priv
	svc, err := jwtrevoke.New(t.Context(), st, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetKeys([]*jwtrevoke.Key{pub}); err == nil {
		t.Fatal("SetKeys accepted on a signing service")
	}
	mustUser(t, svc, "a@x.io")
	pair, err := svc.Obtain(t.Context(), "a@x.io", "pw-a@x.io", jwtrevoke.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}

	v, err := jwtrevoke.NewVerifier(t.Context(), st, jwtrevoke.DefaultSettings(), []*jwtrevoke.Key{pub}, jwtrevoke.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := v.CheckAccess(pair.Access); err != nil || c.Type != jwtrevoke.AccessToken {
		t.Fatalf("CheckAccess: %v %v", c, err)
	}
	if _, err := v.CheckAccess(pair.Refresh); !errors.Is(err, jwtrevoke.ErrTokenWrongType) {
		t.Fatalf("refresh: %v", err)
	}
	// It signs nothing and has no users.
	if _, err := v.Obtain(t.Context(), "a@x.io", "pw-a@x.io", jwtrevoke.ClientInfo{}); err == nil {
		t.Fatal("a verify-only service logged someone in")
	}
	if err := v.SetKeys(nil); err == nil {
		t.Fatal("SetKeys accepted no keys")
	}
	if err := svc.Blacklist(t.Context(), pair.Refresh); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.CheckAccess(pair.Access); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
		t.Fatalf("after blacklist: %v", err)
	}
	other, _ := jwtrevoke.ParseKey("ES256", keyFor(t, "ES256"))
	otherPub, _ := jwtrevoke.PublicKey("ES256", other.Public())
	if err := v.SetKeys([]*jwtrevoke.Key{otherPub}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.CheckAccess(pair.Access); !errors.Is(err, jwtrevoke.ErrTokenInvalid) {
		t.Fatalf("after SetKeys: %v", err)
	}
}
