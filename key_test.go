package jwtrevoke_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

func keyFor(t *testing.T, alg string) string {
	t.Helper()
	if strings.HasPrefix(alg, "HS") {
		return strings.Repeat("s", 64)
	}
	priv, _, err := jwtrevoke.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func serviceWith(t *testing.T, alg, key string, previous ...jwtrevoke.KeySpec) *jwtrevoke.Service {
	t.Helper()
	s := jwtrevoke.DefaultSettings()
	s.Algorithm, s.SigningKey, s.PreviousKeys = alg, key, previous
	svc, err := jwtrevoke.New(t.Context(), memory.New(), s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, svc, "a@x.io")
	return svc
}

// TestEveryAlgorithm signs and checks tokens with each algorithm, and for
// asymmetric ones checks the token against the published JWKS with
// go-jose (another implementation).
func TestEveryAlgorithm(t *testing.T) {
	for _, alg := range jwtrevoke.Algorithms {
		t.Run(alg, func(t *testing.T) {
			svc := serviceWith(t, alg, keyFor(t, alg))
			p := mustLogin(t, svc, "a@x.io")
			mustAuth(t, svc, p.Access)
			if _, err := svc.Refresh(t.Context(), p.Refresh); err != nil {
				t.Fatal(err)
			}
			raw, err := svc.JWKS()
			if err != nil {
				t.Fatal(err)
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(raw, &set); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(alg, "HS") {
				if len(set.Keys) != 0 {
					t.Fatalf("JWKS publishes %d keys for an HMAC secret", len(set.Keys))
				}
				return
			}
			if len(set.Keys) != 1 || set.Keys[0].Algorithm != alg || set.Keys[0].Use != "sig" || set.Keys[0].KeyID == "" {
				t.Fatalf("JWKS %s", raw)
			}
			sig, err := jose.ParseSigned(p.Access, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			if sig.Signatures[0].Header.KeyID != set.Keys[0].KeyID {
				t.Fatalf("token kid %q, JWKS kid %q", sig.Signatures[0].Header.KeyID, set.Keys[0].KeyID)
			}
			if _, err := sig.Verify(set.Keys[0].Key); err != nil {
				t.Fatalf("go-jose does not verify our %s token with the JWKS key: %v", alg, err)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := keyFor(t, "ES256"), keyFor(t, "ES256")
	oldSvc := serviceWith(t, "ES256", oldKey)
	oldTok := mustLogin(t, oldSvc, "a@x.io").Access

	oldPub := publicPEM(t, oldKey)
	rotated := serviceWith(t, "ES256", newKey, jwtrevoke.KeySpec{Algorithm: "ES256", Material: oldPub})
	mustAuth(t, rotated, oldTok) // old tokens verify until they expire
	newTok := mustLogin(t, rotated, "a@x.io").Access
	mustAuth(t, rotated, newTok)
	if _, _, err := oldSvc.Authenticate(t.Context(), newTok); !errors.Is(err, jwtrevoke.ErrTokenInvalid) {
		t.Fatalf("the old deployment accepted a token of the new key: %v", err)
	}
	raw, _ := rotated.JWKS()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("JWKS after rotation: %s, want both keys", raw)
	}
	retired := serviceWith(t, "ES256", newKey)
	if _, _, err := retired.Authenticate(t.Context(), oldTok); !errors.Is(err, jwtrevoke.ErrTokenInvalid) {
		t.Fatalf("a token of a key no longer configured was accepted: %v", err)
	}
	// Rotating from HMAC to ES256: the old HMAC tokens (no kid) still verify.
	hs := strings.Repeat("h", 32)
	hsTok := mustLogin(t, serviceWith(t, "HS256", hs), "a@x.io").Access
	mixed := serviceWith(t, "ES256", newKey, jwtrevoke.KeySpec{Algorithm: "HS256", Material: hs})
	mustAuth(t, mixed, hsTok)
}

func publicPEM(t *testing.T, private string) string {
	t.Helper()
	block, _ := pem.Decode([]byte(private))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(k.(crypto.Signer).Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestKeyConfusion: an HS256 token whose "secret" is the server's RSA or
// EC public key is refused (the key is bound to its own algorithm).
func TestKeyConfusion(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			priv := keyFor(t, alg)
			svc := serviceWith(t, alg, priv)
			pub := publicPEM(t, priv)
			claims := jwt.MapClaims{"token_type": "access", "exp": 4102444800, "iat": 1700000000, "jti": "0123456789abcdef0123456789abcdef", "user_id": 1}
			for _, kid := range []any{nil, svc.Keys()[0].ID} {
				tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
				if kid != nil {
					tok.Header["kid"] = kid
				}
				forged, err := tok.SignedString([]byte(pub))
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := svc.Authenticate(t.Context(), forged); !errors.Is(err, jwtrevoke.ErrTokenInvalid) {
					t.Fatalf("HS256 token keyed with the public key (kid %v): %v, want invalid", kid, err)
				}
			}
		})
	}
}

func TestParseKeyRefusesUnfitKeys(t *testing.T) {
	weakRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	weakDER, _ := x509.MarshalPKCS8PrivateKey(weakRSA)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	pemOf := func(der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	cases := []struct{ name, alg, material, want string }{
		{"ShortHMAC", "HS256", "short", "at least 32"},
		{"ShortHS512", "HS512", strings.Repeat("k", 63), "at least 64"},
		{"WeakRSA", "RS256", pemOf(weakDER), "1024 bits"},
		{"WrongCurve", "ES256", pemOf(p384DER), "P-256"},
		{"ECForRSA", "RS256", pemOf(p384DER), "RSA"},
		{"RSAForEdDSA", "EdDSA", keyFor(t, "RS256"), "Ed25519"},
		{"NotPEM", "ES256", "hello", "PEM"},
		{"UnknownAlg", "none", "x", "unknown algorithm"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := jwtrevoke.ParseKey(c.alg, c.material)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ParseKey = %v, want an error mentioning %q", err, c.want)
			}
		})
	}
}

func TestGeneratedAsymmetricKeyIsKept(t *testing.T) {
	st := memory.New()
	s := jwtrevoke.DefaultSettings()
	s.Algorithm = "EdDSA"
	a, err := jwtrevoke.New(t.Context(), st, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, a, "a@x.io")
	tok := mustLogin(t, a, "a@x.io").Access
	b, err := jwtrevoke.New(t.Context(), st, s, jwtrevoke.Options{Hasher: cheap})
	if err != nil {
		t.Fatal(err)
	}
	mustAuth(t, b, tok)
}
