package jwtrevoke

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// wycheproof is the shape of testdata/wycheproof/json_web_signature_test.json.
type wycheproof struct {
	TestGroups []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []struct {
			TcID    int    `json:"tcId"`
			Comment string `json:"comment"`
			JWS     string `json:"jws"`
			Result  string `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// vectorKey turns a vector's JWK into a verification key, bound to the
// JWK's algorithm as jwtrevoke binds its keys. Keys meant for encryption
// (use "enc", key_ops without "verify") or without an algorithm give nil:
// jwtrevoke never verifies with such a key.
func vectorKey(t *testing.T, raw json.RawMessage) *Key {
	t.Helper()
	var meta struct {
		Alg    string   `json:"alg"`
		Use    string   `json:"use"`
		KeyOps []string `json:"key_ops"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Alg == "ES521" { // RFC 7520's name for ES512
		meta.Alg = "ES512"
		raw = []byte(strings.Replace(string(raw), `"ES521"`, `"ES512"`, 1))
	}
	if meta.Alg == "" || (meta.Use != "" && meta.Use != "sig") || (meta.KeyOps != nil && !contains(meta.KeyOps, "verify")) {
		return nil
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		t.Fatalf("vector key: %v", err)
	}
	key := jwk.Public().Key
	if isHMAC(meta.Alg) {
		key = jwk.Key
	}
	k := &Key{Algorithm: meta.Alg, verifier: key, ID: jwk.KeyID}
	if k.ID == "" {
		if err := k.setID(); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// verifyJWS runs a compact JWS through the steps the codec's parser takes
// before reading claims: exactly three strictly base64url-encoded parts,
// a JSON header whose alg is one of the codec's, the key keyFor picks for
// it, and the signing method's verification.
func verifyJWS(c *codec, raw string) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errors.New("not three parts")
	}
	enc := base64.RawURLEncoding.Strict()
	hb, err := enc.DecodeString(parts[0])
	if err != nil {
		return err
	}
	if _, err := enc.DecodeString(parts[1]); err != nil {
		return err
	}
	var header map[string]any
	if err := json.Unmarshal(hb, &header); err != nil {
		return err
	}
	alg, _ := header["alg"].(string)
	m := jwt.GetSigningMethod(alg)
	if m == nil || !c.hasAlg(alg) {
		return errors.New("algorithm not accepted")
	}
	key, err := c.keyFor(&jwt.Token{Header: header, Method: m})
	if err != nil {
		return err
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return err
	}
	return m.Verify(parts[0]+"."+parts[1], sig, key)
}

// identicalToValid lists vectors marked invalid that are byte for byte tc
// 357, which the same file marks valid: their padding was lost when the
// file was made. They are (correctly) accepted.
var identicalToValid = map[int]bool{367: true, 370: true}

// stricter lists the vectors Wycheproof calls valid that jwtrevoke refuses
// on purpose.
var stricter = map[int]string{
	346: "token alg PS384, key declared PS256: one algorithm per key",
	350: "token alg PS384, key declared PS256: one algorithm per key",
	372: "a character outside base64url in the header",
	373: "a character outside base64url in the payload",
}

// TestWycheproofJWS runs Wycheproof's JWS vectors (which include RFC 7520's
// examples): every valid compact signature verifies, every invalid one is
// refused. JWS JSON serialization is refused by design (RFC 8725 3.1: one
// serialization only), so its one valid vector counts as refused.
func TestWycheproofJWS(t *testing.T) {
	raw, err := os.ReadFile("testdata/wycheproof/json_web_signature_test.json")
	if err != nil {
		t.Fatal(err)
	}
	var w wycheproof
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	var valid, invalid, jsonSerialized, refusedOnPurpose int
	for _, g := range w.TestGroups {
		keyJSON := g.Public
		if keyJSON == nil {
			keyJSON = g.Private
		}
		key := vectorKey(t, keyJSON)
		for _, tc := range g.Tests {
			var err error
			if key == nil {
				err = errors.New("no usable key")
			} else {
				c, cerr := newCodec(DefaultSettings(), &Key{Algorithm: key.Algorithm, ID: key.ID, signer: key.verifier, verifier: key.verifier}, nil, time.Now)
				if cerr != nil {
					t.Fatal(cerr)
				}
				err = verifyJWS(c, tc.JWS)
			}
			switch {
			case identicalToValid[tc.TcID]:
				valid++
				if err != nil {
					t.Errorf("tc %d: refused, but it is identical to the valid tc 357: %v", tc.TcID, err)
				}
			case stricter[tc.TcID] != "":
				refusedOnPurpose++
				if err == nil {
					t.Errorf("tc %d (%s/%s): accepted, want refused: %s", tc.TcID, g.Comment, tc.Comment, stricter[tc.TcID])
				}
			case strings.HasPrefix(strings.TrimSpace(tc.JWS), "{"):
				jsonSerialized++
				if err == nil {
					t.Errorf("tc %d (%s/%s): JSON serialization accepted", tc.TcID, g.Comment, tc.Comment)
				}
			case tc.Result == "valid":
				valid++
				if err != nil {
					t.Errorf("tc %d (%s/%s): valid signature refused: %v", tc.TcID, g.Comment, tc.Comment, err)
				}
			default:
				invalid++
				if err == nil {
					t.Errorf("tc %d (%s/%s): invalid signature accepted", tc.TcID, g.Comment, tc.Comment)
				}
			}
		}
	}
	t.Logf("Wycheproof JWS: %d valid accepted, %d invalid refused, %d JSON-serialized and %d stricter-by-design refused",
		valid, invalid, jsonSerialized, refusedOnPurpose)
	if n := valid + invalid + jsonSerialized + refusedOnPurpose; n != 401 {
		t.Fatalf("ran %d vectors, want all 401", n)
	}
}
