package jwtrevoke

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// rfcVector is one entry of testdata/rfc/vectors.json.
type rfcVector struct {
	Name   string          `json:"name"`
	Source string          `json:"source"`
	Alg    string          `json:"alg"`
	JWK    json.RawMessage `json:"jwk"`
	JWS    string          `json:"jws"`
}

func loadRFCVectors(t testing.TB) []rfcVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/rfc/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []rfcVector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 {
		t.Fatalf("%d vectors, want 4", len(vs))
	}
	return vs
}

// rfcMaterial turns a vector's JWK into what ParseKey reads: the HMAC
// secret, or a PEM key (the private key when the JWK has one, after
// checking that it belongs to the public members).
func rfcMaterial(t testing.TB, v rfcVector) (material, public string, private crypto.Signer) {
	t.Helper()
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(v.JWK); err != nil {
		t.Fatalf("%s: JWK: %v", v.Name, err)
	}
	if secret, ok := jwk.Key.([]byte); ok {
		return string(secret), "", nil
	}
	pubDER, err := x509.MarshalPKIXPublicKey(jwk.Public().Key)
	if err != nil {
		t.Fatal(err)
	}
	public = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	switch k := jwk.Key.(type) {
	case *ecdsa.PrivateKey:
		// The private scalar must give the public point of the JWK.
		ek, err := ecdh.P256().NewPrivateKey(k.D.FillBytes(make([]byte, 32)))
		if err != nil {
			t.Fatal(err)
		}
		want, err := k.PublicKey.ECDH()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ek.PublicKey().Bytes(), want.Bytes()) {
			t.Fatalf("%s: d does not match x, y", v.Name)
		}
		private = k
	case ed25519.PrivateKey:
		if !bytes.Equal(ed25519.NewKeyFromSeed(k.Seed()).Public().(ed25519.PublicKey), jwk.Public().Key.(ed25519.PublicKey)) {
			t.Fatalf("%s: d does not match x", v.Name)
		}
		private = k
	}
	if private == nil {
		return public, public, nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(private)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), public, private
}

// rfcCodec is a codec that checks tokens with key alone (a public key
// can be a codec's current key here: nothing is signed).
func rfcCodec(t testing.TB, key *Key, now time.Time) *codec {
	t.Helper()
	current := *key
	if current.signer == nil {
		current.signer = current.verifier
	}
	c, err := newCodec(DefaultSettings(), &current, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rfcOtherKey is a fresh key of the same algorithm as the vector's.
func rfcOtherKey(t *testing.T, alg string) *Key {
	t.Helper()
	var material string
	switch {
	case isHMAC(alg):
		b := make([]byte, 64)
		_, _ = rand.Read(b)
		material = string(b)
	case strings.HasPrefix(alg, "RS"):
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		material = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	default:
		var err error
		if material, _, err = GenerateKey(alg); err != nil {
			t.Fatal(err)
		}
	}
	k, err := ParseKey(alg, material)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRFCExamples: the JWS examples of RFC 7515 appendix A.1-A.3 and RFC
// 8037 A.4 verify with their keys as ParseKey reads them, under their own
// algorithm (golang-jwt's method for it, and the codec's path), and are
// refused with another key of the same algorithm, with their key bound to
// any other algorithm, and with the public key used as an HMAC secret.
func TestRFCExamples(t *testing.T) {
	enc := base64.RawURLEncoding
	for _, v := range loadRFCVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			material, public, private := rfcMaterial(t, v)
			key, err := ParseKey(v.Alg, material)
			if err != nil {
				t.Fatalf("ParseKey(%s): %v", v.Alg, err)
			}
			parts := strings.Split(v.JWS, ".")
			if len(parts) != 3 {
				t.Fatalf("%d parts", len(parts))
			}
			input := parts[0] + "." + parts[1]
			sig, err := enc.Strict().DecodeString(parts[2])
			if err != nil {
				t.Fatal(err)
			}
			method := jwt.GetSigningMethod(v.Alg)
			if err := method.Verify(input, sig, key.verifier); err != nil {
				t.Fatalf("golang-jwt %s does not verify the example: %v", v.Alg, err)
			}
			if err := verifyJWS(rfcCodec(t, key, time.Now()), v.JWS); err != nil {
				t.Fatalf("the codec's verification refuses the example: %v", err)
			}
			// Deterministic signatures come out byte for byte.
			if key.signer != nil && (isHMAC(v.Alg) || v.Alg == "EdDSA") {
				again, err := method.Sign(input, key.signer)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again, sig) {
					t.Fatalf("signing the example's input again gives another signature")
				}
			}
			if private != nil {
				// ECDSA is randomised: a new signature must verify too.
				again, err := method.Sign(input, key.signer)
				if err != nil {
					t.Fatal(err)
				}
				if err := method.Verify(input, again, key.verifier); err != nil {
					t.Fatalf("a new signature with the example's private key: %v", err)
				}
			}

			// Another key of the same algorithm.
			if err := verifyJWS(rfcCodec(t, rfcOtherKey(t, v.Alg), time.Now()), v.JWS); err == nil {
				t.Fatal("verified with another key")
			}
			// The same key material under every other algorithm: ParseKey
			// refuses it, or the codec refuses the token.
			for _, alg := range Algorithms {
				if alg == v.Alg {
					continue
				}
				if err := jwt.GetSigningMethod(alg).Verify(input, sig, key.verifier); err == nil {
					t.Errorf("golang-jwt %s verifies the %s example with its key", alg, v.Alg)
				}
				k, err := ParseKey(alg, material)
				if err != nil {
					continue
				}
				if err := verifyJWS(rfcCodec(t, k, time.Now()), v.JWS); err == nil {
					t.Errorf("verified with the key bound to %s", alg)
				}
			}
			// Key confusion: the public key as an HMAC secret.
			if public != "" {
				hk, err := ParseKey("HS256", public)
				if err != nil {
					t.Fatal(err)
				}
				if err := verifyJWS(rfcCodec(t, hk, time.Now()), v.JWS); err == nil {
					t.Fatal("verified with the public key as an HMAC secret")
				}
			}
			// A bit flipped anywhere in the signature.
			for i := range sig {
				bad := bytes.Clone(sig)
				bad[i] ^= 0x01
				if err := method.Verify(input, bad, key.verifier); err == nil {
					t.Fatalf("verified with bit 0 of signature byte %d flipped", i)
				}
			}
		})
	}
}

// TestRFCExamplesThroughDecode: the full decoding path reads RFC 7515's
// examples (JSON with CRLFs and whitespace, no kid) up to the first claim
// SimpleJWT needs and they lack, jti, while they are unexpired; and
// refuses them as expired after their exp.
func TestRFCExamplesThroughDecode(t *testing.T) {
	const exp = 1300819380 // the examples' exp
	for _, v := range loadRFCVectors(t) {
		if !strings.HasPrefix(v.Name, "RFC 7515") {
			continue // RFC 8037's payload is not JSON
		}
		t.Run(v.Name, func(t *testing.T) {
			material, _, _ := rfcMaterial(t, v)
			key, err := ParseKey(v.Alg, material)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rfcCodec(t, key, time.Unix(exp-60, 0)).decode(v.JWS, ""); !errors.Is(err, ErrTokenNoID) {
				t.Fatalf("before exp: err=%v, want %v", err, ErrTokenNoID)
			}
			if _, err := rfcCodec(t, key, time.Unix(exp, 0)).decode(v.JWS, ""); !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("at exp: err=%v, want %v", err, ErrTokenInvalid)
			}
		})
	}
}
