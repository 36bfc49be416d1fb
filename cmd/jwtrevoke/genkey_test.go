package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// TestGenkeyServeAndJWKS: genkey writes a key pair; serve signs with it;
// the JWKS it publishes verifies its tokens (checked with go-jose); after
// a rotation the old tokens still work and both keys are published.
func TestGenkeyServeAndJWKS(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, env(), "", "genkey", "--alg", "ES256", "--out", filepath.Join(dir, "k1"))
	if code != 0 || !strings.Contains(out, "kid ") {
		t.Fatalf("genkey: %d %q %q", code, out, errs)
	}
	if fi, err := os.Stat(filepath.Join(dir, "k1", "private.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private.pem: %v, mode %v; want 0600", err, fi.Mode())
	}
	if code, _, errs := run(t, env(), "", "genkey", "--alg", "ES256", "--out", filepath.Join(dir, "k1")); code == 0 {
		t.Fatalf("genkey overwrote existing keys: %q", errs)
	}
	if code, _, errs := run(t, env(), "", "genkey", "--alg", "HS256", "--out", filepath.Join(dir, "hs")); code != 2 || !strings.Contains(errs, "secret") {
		t.Fatalf("genkey HS256: %d %q, want a usage error", code, errs)
	}
	db := dbURL(t)
	k1 := filepath.Join(dir, "k1", "private.pem")
	getenv := env("JWTREVOKE_DATABASE", db, "JWTREVOKE_ALGORITHM", "ES256", "JWTREVOKE_SIGNING_KEY_FILE", k1,
		"JWTREVOKE_VERIFYING_KEY_FILE", filepath.Join(dir, "k1", "public.pem"))
	base := server(t, getenv, "--demo")
	_, access := login(t, base, "test@email.com", "test123456")
	set := fetchJWKS(t, base)
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
	}
	verifyWith(t, access, set)

	// Rotate: new key signs, the old one still verifies.
	if code, _, errs := run(t, env(), "", "genkey", "--alg", "ES256", "--out", filepath.Join(dir, "k2")); code != 0 {
		t.Fatal(errs)
	}
	rotated := server(t, env("JWTREVOKE_DATABASE", db, "JWTREVOKE_ALGORITHM", "ES256",
		"JWTREVOKE_SIGNING_KEY_FILE", filepath.Join(dir, "k2", "private.pem"),
		"JWTREVOKE_PREVIOUS_KEY_FILES", "ES256:"+filepath.Join(dir, "k1", "public.pem")))
	if st, body := call(t, "GET", rotated+"/api/me/", access, nil); st != 200 {
		t.Fatalf("token of the previous key after rotation: %d %v", st, body)
	}
	_, access2 := login(t, rotated, "test@email.com", "test123456")
	set = fetchJWKS(t, rotated)
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS after rotation has %d keys, want 2", len(set.Keys))
	}
	verifyWith(t, access2, set)
	verifyWith(t, access, set)
}

func TestKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, env(), "", "genkey", "--alg", "EdDSA", "--out", filepath.Join(dir, "a")); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := run(t, env(), "", "genkey", "--alg", "EdDSA", "--out", filepath.Join(dir, "b")); code != 0 {
		t.Fatal(errs)
	}
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"Mismatch", []string{"JWTREVOKE_SIGNING_KEY_FILE", filepath.Join(dir, "a", "private.pem"), "JWTREVOKE_VERIFYING_KEY_FILE", filepath.Join(dir, "b", "public.pem")}, "not the public key"},
		{"WrongAlgorithm", []string{"JWTREVOKE_ALGORITHM", "ES256", "JWTREVOKE_SIGNING_KEY_FILE", filepath.Join(dir, "a", "private.pem")}, "ECDSA"},
		{"PublicKeyToSign", []string{"JWTREVOKE_SIGNING_KEY_FILE", filepath.Join(dir, "a", "public.pem")}, "private key"},
		{"Missing", []string{"JWTREVOKE_SIGNING_KEY_FILE", filepath.Join(dir, "nope.pem")}, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := append([]string{"JWTREVOKE_DATABASE", "memory://", "JWTREVOKE_ALGORITHM", "EdDSA"}, c.env...)
			code, _, errs := run(t, env(e...), "", "serve", "--addr", "127.0.0.1:0")
			if code == 0 || !strings.Contains(errs, c.want) {
				t.Fatalf("code %d stderr %q, want failure mentioning %q", code, errs, c.want)
			}
		})
	}
}

func fetchJWKS(t *testing.T, base string) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	return set
}

func verifyWith(t *testing.T, token string, set jose.JSONWebKeySet) {
	t.Helper()
	sig, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(sig.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not in the JWKS", sig.Signatures[0].Header.KeyID)
	}
	if _, err := sig.Verify(keys[0].Key); err != nil {
		t.Fatalf("JWKS key does not verify the token: %v", err)
	}
}
