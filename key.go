package jwtrevoke

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Algorithms lists every signing algorithm jwtrevoke supports.
var Algorithms = []string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// curves binds each ECDSA algorithm to its one curve (RFC 7518 3.4).
var curves = map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}

// minRSABits is the smallest RSA modulus accepted (RFC 7518 3.3, NIST).
const minRSABits = 2048

// isHMAC reports whether alg is an HMAC algorithm.
func isHMAC(alg string) bool { return strings.HasPrefix(alg, "HS") }

// KeySpec names a key: its algorithm and its material (the HMAC secret, or
// a PEM private key, public key or certificate).
type KeySpec struct {
	Algorithm string
	Material  string
}

// Key is one key bound to exactly one algorithm: a token is checked with a
// key only under the key's own algorithm, whatever its header says.
type Key struct {
	ID        string // kid: the RFC 7638 thumbprint
	Algorithm string
	signer    any // []byte (HMAC) or the private key; nil for verify-only keys
	verifier  any // []byte (HMAC) or the public key
}

// Public returns the public key, or nil for an HMAC key.
func (k *Key) Public() crypto.PublicKey {
	if isHMAC(k.Algorithm) {
		return nil
	}
	return k.verifier
}

// ParseKey reads a key for alg. For HMAC algorithms material is the secret,
// at least as long as the hash output. Otherwise it is PEM: a private key
// (PKCS#8, PKCS#1 or SEC 1; the key can then sign), a public key (PKIX) or
// a certificate. The key type must fit alg: RSA of at least 2048 bits for
// RS*/PS*, the algorithm's own curve for ES*, Ed25519 for EdDSA.
func ParseKey(alg, material string) (*Key, error) {
	if !slices.Contains(Algorithms, alg) {
		return nil, fmt.Errorf("unknown algorithm %q", alg)
	}
	k := &Key{Algorithm: alg}
	if isHMAC(alg) {
		min, ok := minKeyBytes[alg]
		if !ok {
			return nil, fmt.Errorf("unknown algorithm %q", alg)
		}
		if len(material) < min {
			return nil, fmt.Errorf("%s key is %d bytes; it needs at least %d", alg, len(material), min)
		}
		k.signer, k.verifier = []byte(material), []byte(material)
		return k, k.setID()
	}
	block, _ := pem.Decode([]byte(strings.TrimSpace(material)))
	if block == nil {
		return nil, fmt.Errorf("%s key: no PEM block found", alg)
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("%s key: unsupported PEM block %q", alg, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s key: %w", alg, err)
	}
	if s, ok := key.(crypto.Signer); ok {
		k.signer, key = s, s.Public()
	}
	if err := checkKeyType(alg, key); err != nil {
		return nil, err
	}
	k.verifier = key
	return k, k.setID()
}

func checkKeyType(alg string, pub any) error {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an RSA key, not %T", alg, pub)
		}
		if rk.N.BitLen() < minRSABits {
			return fmt.Errorf("%s key has %d bits; at least %d are needed", alg, rk.N.BitLen(), minRSABits)
		}
	case strings.HasPrefix(alg, "ES"):
		ek, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an ECDSA key, not %T", alg, pub)
		}
		if want := curves[alg]; want == nil || ek.Curve != want {
			return fmt.Errorf("%s needs a key on curve %s", alg, curveName(curves[alg]))
		}
	case alg == "EdDSA":
		if _, ok := pub.(ed25519.PublicKey); !ok {
			return fmt.Errorf("EdDSA needs an Ed25519 key, not %T", pub)
		}
	default:
		return fmt.Errorf("unknown algorithm %q", alg)
	}
	return nil
}

func curveName(c elliptic.Curve) string {
	if c == nil {
		return "?"
	}
	return c.Params().Name
}

// setID sets the kid to the key's RFC 7638 thumbprint.
func (k *Key) setID() error {
	if secret, ok := k.verifier.([]byte); ok {
		// RFC 7638 for a symmetric key: {"k":...,"kty":"oct"}.
		sum := sha256.Sum256([]byte(`{"k":"` + base64.RawURLEncoding.EncodeToString(secret) + `","kty":"oct"}`))
		k.ID = base64.RawURLEncoding.EncodeToString(sum[:])
		return nil
	}
	jwk := jose.JSONWebKey{Key: k.verifier}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("key thumbprint: %w", err)
	}
	k.ID = base64.RawURLEncoding.EncodeToString(tp)
	return nil
}

// GenerateKey makes a new private key for an asymmetric algorithm and
// returns it, and its public key, as PEM (PKCS#8 and PKIX).
func GenerateKey(alg string) (private, public string, err error) {
	var key crypto.Signer
	switch {
	case isHMAC(alg):
		return "", "", errors.New("HMAC algorithms use a shared secret (SIGNING_KEY), not a key pair")
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	case strings.HasPrefix(alg, "ES"):
		c := curves[alg]
		if c == nil {
			return "", "", fmt.Errorf("unknown algorithm %q", alg)
		}
		key, err = ecdsa.GenerateKey(c, rand.Reader)
	case alg == "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return "", "", fmt.Errorf("unknown algorithm %q", alg)
	}
	if err != nil {
		return "", "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})), nil
}

// JWKS returns the JSON Web Key Set of the public keys in keys (HMAC keys
// are never published), for /.well-known/jwks.json.
func JWKS(keys []*Key) ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range keys {
		if pub := k.Public(); pub != nil {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"})
		}
	}
	return json.Marshal(set)
}
