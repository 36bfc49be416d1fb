package jwtrevoke_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// The known JWT attacks, one named case each. Every token is crafted with
// real signing (crypto/hmac, rsa, ecdsa, ed25519 through golang-jwt's
// methods), usually with the server's own key, so that the attack is the
// only reason for the refusal; the accepted controls at the end show that
// the same crafting, without the attack, gives tokens the server takes.
//
// Each case is checked through the Service (Verify, Authenticate, Refresh:
// those the attack concerns, each with the error it must give) and over
// real HTTP through httpapi (GET /api/me/ with the token as Bearer,
// POST /api/token/verify/ and /api/token/refresh/: 401 each).

// atkNow is the time every attack service runs at.
var atkNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// atkSecret is the servers' HMAC key.
const atkSecret = "attack-suite-hmac-signing-key-0123456789abcdef-0123456789abcdef-0123456789"

// atkKeys caches one private key per algorithm and owner ("server" or
// "attacker"), so that the suite generates each RSA key once.
var atkKeys sync.Map

func atkKey(t *testing.T, alg, owner string) crypto.Signer {
	t.Helper()
	family := alg
	if strings.HasPrefix(alg, "PS") {
		family = "RS256" // one RSA key pair serves RS* and PS*
	}
	id := family + "/" + owner
	if k, ok := atkKeys.Load(id); ok {
		return k.(crypto.Signer)
	}
	var (
		k   crypto.Signer
		err error
	)
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case alg == "ES256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == "ES384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == "ES512":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case alg == "EdDSA":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("no key pair for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	got, _ := atkKeys.LoadOrStore(id, k)
	return got.(crypto.Signer)
}

func atkPEM(t *testing.T, typ string, der []byte, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// atkEnv is one server under attack: a Service on a memory store with a
// fixed clock, its HTTP API, and a server that counts every request made
// to it (the URL the jku and x5u attacks point at).
type atkEnv struct {
	t        *testing.T
	alg      string
	key      any    // the server's signing key: []byte or the private key
	kid      string // the kid of the server's tokens ("" for a lone HMAC key)
	svc      *jwtrevoke.Service
	mem      *memory.Store
	user     *jwtrevoke.User // active
	inactive *jwtrevoke.User
	api      *httptest.Server
	fetch    *httptest.Server // must never be asked anything
	hits     *atomic.Int64
	attacker crypto.Signer // another key pair of the server's algorithm (nil for HMAC)
}

func newAtkEnv(t *testing.T, alg string, mod func(*jwtrevoke.Settings)) *atkEnv {
	t.Helper()
	if alg == "" {
		alg = "HS256"
	}
	e := &atkEnv{t: t, alg: alg, mem: memory.New(), hits: new(atomic.Int64)}
	s := jwtrevoke.DefaultSettings()
	s.Algorithm = alg
	if strings.HasPrefix(alg, "HS") {
		e.key = []byte(atkSecret)
		s.SigningKey = atkSecret
	} else {
		priv := atkKey(t, alg, "server")
		e.key = priv
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		s.SigningKey = atkPEM(t, "PRIVATE KEY", der, err)
		e.attacker = atkKey(t, alg, "attacker")
	}
	if mod != nil {
		mod(&s)
	}
	svc, err := jwtrevoke.New(t.Context(), e.mem, s, jwtrevoke.Options{
		Hasher: cheap,
		Now:    func() time.Time { return atkNow },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	if !strings.HasPrefix(alg, "HS") || len(s.PreviousKeys) > 0 {
		e.kid = svc.Keys()[0].ID
	}
	e.user = mustUser(t, svc, "a@x.io")
	e.inactive = mustUser(t, svc, "inactive@x.io")
	e.inactive.IsActive = false
	if err := e.mem.UpdateUser(t.Context(), e.inactive); err != nil {
		t.Fatal(err)
	}
	e.api = httptest.NewServer(httpapi.New(svc, httpapi.Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}))
	t.Cleanup(e.api.Close)
	e.fetch = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		// Serve what an attacker would: its own key set.
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(e.attackerJWKS())
	}))
	t.Cleanup(e.fetch.Close)
	return e
}

func atkB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func atkJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func atkJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// claims are SimpleJWT's claims for a token of type typ of the active user,
// issued now and valid for five minutes.
func (e *atkEnv) claims(typ jwtrevoke.TokenType) map[string]any {
	return map[string]any{
		"token_type": string(typ),
		"exp":        atkNow.Add(5 * time.Minute).Unix(),
		"iat":        atkNow.Unix(),
		"jti":        atkJTI(),
		"user_id":    e.user.ID,
	}
}

// header is the header of the server's own tokens.
func (e *atkEnv) header() map[string]any {
	h := map[string]any{"alg": e.alg, "typ": "JWT"}
	if e.kid != "" {
		h["kid"] = e.kid
	}
	return h
}

// atkSignWith signs the exact strings header and payload (raw JSON, encoded
// here) with alg's golang-jwt method and key; "none" gives no signature.
func atkSignWith(t *testing.T, alg string, key any, header, payload string) string {
	t.Helper()
	input := atkB64([]byte(header)) + "." + atkB64([]byte(payload))
	return input + "." + atkB64(atkSigOver(t, alg, key, input))
}

// atkSigOver signs an arbitrary signing input.
func atkSigOver(t *testing.T, alg string, key any, input string) []byte {
	t.Helper()
	if strings.EqualFold(alg, "none") {
		return nil
	}
	m := jwt.GetSigningMethod(alg)
	if m == nil {
		t.Fatalf("no signing method %s", alg)
	}
	sig, err := m.Sign(input, key)
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return sig
}

// sign signs raw header and payload JSON with the server's key: a token
// only the server (or someone holding its key) could make.
func (e *atkEnv) sign(header, payload string) string {
	return atkSignWith(e.t, e.alg, e.key, header, payload)
}

// signed signs header and claims (marshalled) with the server's key.
func (e *atkEnv) signed(header, claims map[string]any) string {
	return e.sign(atkJSON(e.t, header), atkJSON(e.t, claims))
}

// valid is a well-formed token of type typ signed with the server's key.
func (e *atkEnv) valid(typ jwtrevoke.TokenType) string {
	return e.signed(e.header(), e.claims(typ))
}

// withClaims is a token of type typ, signed with the server's key, whose
// claims were changed by mod.
func (e *atkEnv) withClaims(typ jwtrevoke.TokenType, mod func(map[string]any)) string {
	c := e.claims(typ)
	mod(c)
	return e.signed(e.header(), c)
}

// withHeader is a token of type typ, signed with the server's key, whose
// header was changed by mod.
func (e *atkEnv) withHeader(typ jwtrevoke.TokenType, mod func(map[string]any)) string {
	h := e.header()
	mod(h)
	return e.signed(h, e.claims(typ))
}

func (e *atkEnv) attackerJWK() map[string]any {
	e.t.Helper()
	if e.attacker == nil {
		return map[string]any{"kty": "oct", "k": atkB64([]byte("attacker-secret-attacker-secret!"))}
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: e.attacker.Public(), KeyID: "attacker", Algorithm: e.alg, Use: "sig"})
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *atkEnv) attackerJWKS() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []any{e.attackerJWK()}})
	return b
}

// attackerSigned is a token of type typ signed with the attacker's own key
// (of the server's algorithm), with the header changed by mod.
func (e *atkEnv) attackerSigned(typ jwtrevoke.TokenType, mod func(map[string]any)) string {
	h := map[string]any{"alg": e.alg, "typ": "JWT", "kid": "attacker"}
	mod(h)
	var key any = []byte("attacker-secret-attacker-secret!")
	if e.attacker != nil {
		key = e.attacker
	}
	return atkSignWith(e.t, e.alg, key, atkJSON(e.t, h), atkJSON(e.t, e.claims(typ)))
}

// attackerCert is a self-signed certificate of the attacker's key.
func (e *atkEnv) attackerCert() []byte {
	e.t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "attacker"},
		NotBefore:    atkNow.Add(-time.Hour),
		NotAfter:     atkNow.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, e.attacker.Public(), e.attacker)
	if err != nil {
		e.t.Fatal(err)
	}
	return der
}

// serverPublic is the server's public key in the forms key-confusion
// attacks use as an HMAC secret.
func (e *atkEnv) serverPublic(form string) []byte {
	e.t.Helper()
	pub := e.key.(crypto.Signer).Public()
	switch form {
	case "PEM", "PEMNoNewline":
		der, err := x509.MarshalPKIXPublicKey(pub)
		p := atkPEM(e.t, "PUBLIC KEY", der, err)
		if form == "PEMNoNewline" {
			p = strings.TrimRight(p, "\n")
		}
		return []byte(p)
	case "DER":
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			e.t.Fatal(err)
		}
		return der
	case "PKCS1PEM":
		return []byte(atkPEM(e.t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(pub.(*rsa.PublicKey)), nil))
	case "Raw":
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			ek, err := k.ECDH()
			if err != nil {
				e.t.Fatal(err)
			}
			return ek.Bytes() // the uncompressed point
		case ed25519.PublicKey:
			return k
		case *rsa.PublicKey:
			return k.N.Bytes()
		}
	case "JWKS":
		b, err := e.svc.JWKS()
		if err != nil {
			e.t.Fatal(err)
		}
		return b
	}
	e.t.Fatalf("no public key form %s", form)
	return nil
}

func atkParts(t *testing.T, tok string) [3]string {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(p))
	}
	return [3]string{p[0], p[1], p[2]}
}

// atkFlipSig flips one bit of the decoded signature at byte i (negative: from
// the end).
func atkFlipSig(t *testing.T, tok string, i int, bit byte) string {
	t.Helper()
	p := atkParts(t, tok)
	sig, err := base64.RawURLEncoding.DecodeString(p[2])
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 {
		i += len(sig)
	}
	sig[i] ^= bit
	return p[0] + "." + p[1] + "." + atkB64(sig)
}

// atkTamper changes the claims of tok and keeps its signature.
func atkTamper(t *testing.T, tok string, mod func(map[string]any)) string {
	t.Helper()
	p := atkParts(t, tok)
	raw, err := base64.RawURLEncoding.DecodeString(p[1])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var c map[string]any
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	mod(c)
	return p[0] + "." + atkB64([]byte(atkJSON(t, c))) + "." + p[2]
}

// atkNonCanonical re-encodes the last character of a base64url part so that
// its unused low bits are set: a lenient decoder reads the same bytes.
func atkNonCanonical(part string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, part[len(part)-1])
	var unused int
	switch len(part) % 4 {
	case 2:
		unused = 4
	case 3:
		unused = 2
	default:
		return part + "!" // no unused bits: make it invalid another way
	}
	return part[:len(part)-1] + string(alphabet[last|(1<<unused-1)])
}

// atkRefusal lists the error each operation must refuse the attack with; nil
// means the operation is not concerned (e.g. verify does not check the
// token type, as with SimpleJWT).
type atkRefusal struct{ verify, auth, refresh error }

func atkEverywhere(err error) atkRefusal { return atkRefusal{err, err, err} }

// atkUserRefusal is for attacks on the user: verify does not load users.
func atkUserRefusal(err error) atkRefusal { return atkRefusal{auth: err, refresh: err} }

type atkCase struct {
	name     string
	alg      string // the server's algorithm; "" is HS256
	settings func(*jwtrevoke.Settings)
	// token makes the attack token for an operation that takes tokens of
	// type typ: access for Verify and Authenticate, refresh for Refresh.
	token func(e *atkEnv, typ jwtrevoke.TokenType) string
	want  atkRefusal
	// why, when set, is a part of the text the refusals must give: the
	// check that caught the attack, not some other.
	why string
	// accept marks a control: the token must be accepted everywhere.
	accept bool
}

// run checks one case through the Service and over HTTP.
func (c atkCase) run(t *testing.T) {
	e := newAtkEnv(t, c.alg, c.settings)
	defer func() {
		if n := e.hits.Load(); n != 0 {
			t.Errorf("the server fetched a URL from a token: %d requests", n)
		}
	}()
	ctx := t.Context()
	access, refresh := c.token(e, jwtrevoke.AccessToken), c.token(e, jwtrevoke.RefreshToken)
	check := func(op string, err, want error) {
		t.Helper()
		switch {
		case c.accept && err != nil:
			t.Errorf("%s refused a control token: %v", op, err)
		case !c.accept && want != nil && !errors.Is(err, want):
			t.Errorf("%s: err=%v, want %v", op, err, want)
		case !c.accept && want != nil && !strings.Contains(err.Error(), c.why):
			t.Errorf("%s: err=%v, want it to say %q", op, err, c.why)
		}
	}
	if !c.accept && c.want == (atkRefusal{}) {
		t.Fatal("the case checks nothing")
	}
	if c.accept || c.want.verify != nil {
		check("Verify", e.svc.Verify(ctx, access), c.want.verify)
	}
	if c.accept || c.want.auth != nil {
		_, _, err := e.svc.Authenticate(ctx, access)
		check("Authenticate", err, c.want.auth)
	}
	if c.accept || c.want.refresh != nil {
		_, err := e.svc.Refresh(ctx, refresh)
		check("Refresh", err, c.want.refresh)
	}

	// Over HTTP. Every refusal here is a 401 whose body names the error,
	// but for tokens the transport changes or refuses by itself: a header
	// and DRF's CharField both trim the value, and a token larger than
	// HTTP's limits gets 413 or 431.
	if access == "" || access != strings.TrimSpace(access) || refresh != strings.TrimSpace(refresh) {
		t.Logf("HTTP skipped: the token has surrounding spaces the transport trims, or is empty")
		return
	}
	wantHTTP := func(what string, status int, body []byte, want error) {
		t.Helper()
		switch {
		case !c.accept && len(access) > httpapi.MaxBodyBytes/2 && (status == http.StatusRequestEntityTooLarge || status == http.StatusRequestHeaderFieldsTooLarge):
		case c.accept && status != http.StatusOK:
			t.Errorf("%s refused a control token: %d %s", what, status, body)
		case !c.accept && status != http.StatusUnauthorized:
			t.Errorf("%s: %d %s, want 401", what, status, body)
		case !c.accept && !strings.Contains(string(body), `"`+want.Error()+`"`):
			t.Errorf("%s: body %s does not name %q", what, body, want)
		}
	}
	if c.accept || c.want.auth != nil {
		// A header cannot carry control characters: Go's client refuses
		// to send them (and Go's server would refuse to read them).
		if strings.ContainsFunc(access, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			t.Logf("GET /api/me/ skipped: the token cannot be sent in a header")
		} else {
			status, body := e.httpDo(http.MethodGet, "/api/me/", "Bearer "+access, "")
			if !c.accept && strings.ContainsFunc(access, unicode.IsSpace) {
				// Split by the header parser: a malformed header.
				if status != http.StatusUnauthorized {
					t.Errorf("GET /api/me/: %d %s, want 401", status, body)
				}
			} else {
				wantHTTP("GET /api/me/", status, body, c.want.auth)
			}
		}
	}
	if c.accept || c.want.verify != nil {
		status, body := e.httpDo(http.MethodPost, "/api/token/verify/", "", atkJSON(t, map[string]string{"token": access}))
		wantHTTP("POST /api/token/verify/", status, body, c.want.verify)
	}
	if c.accept || c.want.refresh != nil {
		status, body := e.httpDo(http.MethodPost, "/api/token/refresh/", "", atkJSON(t, map[string]string{"refresh": refresh}))
		wantHTTP("POST /api/token/refresh/", status, body, c.want.refresh)
	}
}

func (e *atkEnv) httpDo(method, path, auth, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.api.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.api.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, b
}

func runAtkCases(t *testing.T, cases []atkCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, c.run)
	}
}

var atkInvalid = atkEverywhere(jwtrevoke.ErrTokenInvalid)

// TestAttackAlgNone: "alg": "none" in any case, with and without a
// signature (even the server's own signature of the same input).
func TestAttackAlgNone(t *testing.T) {
	var cases []atkCase
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		for _, server := range []string{"HS256", "ES256"} {
			none := func(e *atkEnv, typ jwtrevoke.TokenType) (string, string) {
				h := atkJSON(e.t, map[string]any{"alg": alg, "typ": "JWT"})
				return atkB64([]byte(h)) + "." + atkB64([]byte(atkJSON(e.t, e.claims(typ)))), h
			}
			cases = append(cases,
				atkCase{name: alg + "/" + server + "/NoSignature", alg: server, want: atkInvalid,
					token: func(e *atkEnv, typ jwtrevoke.TokenType) string { in, _ := none(e, typ); return in + "." }},
				atkCase{name: alg + "/" + server + "/NoSignatureNoDot", alg: server, want: atkInvalid,
					token: func(e *atkEnv, typ jwtrevoke.TokenType) string { in, _ := none(e, typ); return in }},
				atkCase{name: alg + "/" + server + "/ServerSignature", alg: server, want: atkInvalid,
					token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
						in, _ := none(e, typ)
						return in + "." + atkB64(atkSigOver(e.t, e.alg, e.key, in))
					}},
				atkCase{name: alg + "/" + server + "/GarbageSignature", alg: server, want: atkInvalid,
					token: func(e *atkEnv, typ jwtrevoke.TokenType) string { in, _ := none(e, typ); return in + ".c2lnbmF0dXJl" }},
			)
		}
	}
	// Other ways to say "no algorithm" or an unknown one, signed with the
	// server's key.
	for name, alg := range map[string]any{"Missing": nil, "Empty": "", "Null": "null", "LowerCase": "hs256",
		"List": []string{"HS256"}, "Number": 256, "Unknown": "HS1"} {
		cases = append(cases, atkCase{name: "Alg" + name, want: atkInvalid,
			token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
				return e.withHeader(typ, func(h map[string]any) {
					if name == "Missing" {
						delete(h, "alg")
					} else if name == "Null" {
						h["alg"] = nil
					} else {
						h["alg"] = alg
					}
				})
			}})
	}
	runAtkCases(t, cases)
}

// TestAttackKeyConfusion: HS256/384/512 tokens whose secret is the
// server's public key (PEM, DER, the raw point or modulus, its JWKS), with
// and without the server's kid.
func TestAttackKeyConfusion(t *testing.T) {
	var cases []atkCase
	forms := map[string][]string{
		"RS256": {"PEM", "PEMNoNewline", "DER", "PKCS1PEM", "Raw", "JWKS"},
		"PS256": {"PEM", "DER"},
		"ES256": {"PEM", "PEMNoNewline", "DER", "Raw", "JWKS"},
		"ES512": {"PEM", "Raw"},
		"EdDSA": {"PEM", "DER", "Raw", "JWKS"},
	}
	for server, fs := range forms {
		for _, form := range fs {
			for _, hs := range []string{"HS256", "HS384", "HS512"} {
				for _, withKid := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/%s", server, form, hs)
					if withKid {
						name += "/ServerKid"
					}
					cases = append(cases, atkCase{name: name, alg: server, want: atkInvalid,
						token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
							h := map[string]any{"alg": hs, "typ": "JWT"}
							if withKid {
								h["kid"] = e.kid
							}
							return atkSignWith(e.t, hs, e.serverPublic(form), atkJSON(e.t, h), atkJSON(e.t, e.claims(typ)))
						}})
				}
			}
		}
	}
	// A server that rotated from HMAC to ES256 accepts HS256, but only with
	// the old HMAC secret: not with the ES256 public key.
	rotated := func(s *jwtrevoke.Settings) {
		s.PreviousKeys = []jwtrevoke.KeySpec{{Algorithm: "HS256", Material: strings.Repeat("h", 32)}}
	}
	for _, withKid := range []bool{false, true} {
		cases = append(cases, atkCase{name: fmt.Sprintf("RotatedFromHMAC/ES256/PEM/HS256/kid=%v", withKid),
			alg: "ES256", settings: rotated, want: atkInvalid,
			token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
				h := map[string]any{"alg": "HS256", "typ": "JWT"}
				if withKid {
					h["kid"] = e.kid
				}
				return atkSignWith(e.t, "HS256", e.serverPublic("PEM"), atkJSON(e.t, h), atkJSON(e.t, e.claims(typ)))
			}})
	}
	// An asymmetric algorithm other than the server's, with a key of the
	// attacker's.
	cases = append(cases, atkCase{name: "RS256TokenToES256Server", alg: "ES256", want: atkInvalid,
		token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h := map[string]any{"alg": "RS256", "typ": "JWT", "kid": e.kid}
			return atkSignWith(e.t, "RS256", atkKey(e.t, "RS256", "attacker"), atkJSON(e.t, h), atkJSON(e.t, e.claims(typ)))
		}})
	runAtkCases(t, cases)
}

// TestAttackEmbeddedKeys: jwk, jku, x5u, x5c (and crit) headers are
// refused outright, whoever signed the token; the URLs in them are never
// fetched (the counting server gets no request).
func TestAttackEmbeddedKeys(t *testing.T) {
	var cases []atkCase
	for _, server := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		headers := map[string]func(e *atkEnv) any{
			"jwk": func(e *atkEnv) any { return e.attackerJWK() },
			"jku": func(e *atkEnv) any { return e.fetch.URL + "/jwks.json" },
			"x5u": func(e *atkEnv) any { return e.fetch.URL + "/cert.pem" },
		}
		if server != "HS256" {
			headers["x5c"] = func(e *atkEnv) any {
				return []string{base64.StdEncoding.EncodeToString(e.attackerCert())}
			}
		}
		for param, value := range headers {
			// Signed with the attacker's key, which the header offers.
			cases = append(cases, atkCase{name: server + "/" + param + "/AttackerKey", alg: server, want: atkInvalid,
				token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
					return e.attackerSigned(typ, func(h map[string]any) { h[param] = value(e) })
				}})
			// The same with the server's kid, hoping the kid picks the
			// server's key while the signature is checked with the offered one.
			if server != "HS256" {
				cases = append(cases, atkCase{name: server + "/" + param + "/AttackerKeyServerKid", alg: server, want: atkInvalid,
					token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
						return e.attackerSigned(typ, func(h map[string]any) { h[param] = value(e); h["kid"] = e.kid })
					}})
			}
			// Signed with the server's key: still refused, never fetched.
			cases = append(cases, atkCase{name: server + "/" + param + "/ServerKey", alg: server, want: atkInvalid,
				token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
					return e.withHeader(typ, func(h map[string]any) { h[param] = value(e) })
				}})
		}
	}
	// crit names extensions that must be understood (RFC 7515 4.1.11):
	// jwtrevoke understands none.
	cases = append(cases,
		atkCase{name: "HS256/crit/ServerKey", want: atkInvalid,
			token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
				return e.withHeader(typ, func(h map[string]any) {
					h["crit"] = []string{"http://example.com/ext"}
					h["http://example.com/ext"] = true
				})
			}},
		atkCase{name: "HS256/crit-b64/ServerKey", want: atkInvalid,
			token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
				return e.withHeader(typ, func(h map[string]any) { h["crit"] = []string{"b64"}; h["b64"] = false })
			}},
	)
	for i, c := range cases {
		cases[i].why = "header is refused"
		if strings.HasPrefix(c.name, "RS256/x5c/") { // an RSA certificate is too long already
			cases[i].why = "header longer than"
		}
	}
	runAtkCases(t, cases)
}

// TestAttackKid: kid values that would mean something to a server that
// used the kid as a path or in SQL are unknown kids here: refused, whatever
// signed them (the server's key, the empty key /dev/null would give, the
// contents of /etc/passwd).
func TestAttackKid(t *testing.T) {
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		passwd = []byte("root:x:0:0:root:/root:/bin/sh\n")
	}
	kids := map[string]any{
		"PathTraversal":     "../../etc/passwd",
		"DeepTraversal":     "../../../../../../../../../../dev/null",
		"DevNull":           "/dev/null",
		"FileURL":           "file:///dev/null",
		"SQLInjection":      "' OR 1=1 --",
		"SQLUnion":          "x' UNION SELECT 'attack-secret' --",
		"NUL":               "\x00",
		"Empty":             "",
		"ServerKidTraverse": nil, // the server's kid + "/../../dev/null"
		"Number":            1,
		"Object":            map[string]any{"kid": "x"},
		"List":              []string{"x"},
	}
	var cases []atkCase
	for _, server := range []string{"HS256", "ES256"} {
		for name, kid := range kids {
			kidOf := func(e *atkEnv) any {
				if kid == nil {
					return e.svc.Keys()[0].ID + "/../../dev/null"
				}
				return kid
			}
			signers := map[string]func(e *atkEnv) (string, any){
				"ServerKey": func(e *atkEnv) (string, any) { return e.alg, e.key },
				"EmptyKey":  func(e *atkEnv) (string, any) { return "HS256", []byte{} },
				"Passwd":    func(e *atkEnv) (string, any) { return "HS256", passwd },
			}
			for sname, signer := range signers {
				cases = append(cases, atkCase{name: server + "/" + name + "/" + sname, alg: server, want: atkInvalid,
					token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
						alg, key := signer(e)
						h := map[string]any{"alg": alg, "typ": "JWT", "kid": kidOf(e)}
						return atkSignWith(e.t, alg, key, atkJSON(e.t, h), atkJSON(e.t, e.claims(typ)))
					}})
			}
		}
	}
	runAtkCases(t, cases)
}

// TestAttackPsychicSignatures: ECDSA signatures with r = s = 0 (CVE-2022-
// 21449) and other out-of-range values, for each curve.
func TestAttackPsychicSignatures(t *testing.T) {
	sizes := map[string]int{"ES256": 32, "ES384": 48, "ES512": 66}
	orders := map[string]*big.Int{"ES256": elliptic.P256().Params().N, "ES384": elliptic.P384().Params().N, "ES512": elliptic.P521().Params().N}
	var cases []atkCase
	for alg, size := range sizes {
		n := orders[alg]
		sigs := map[string]func() []byte{
			"ZeroZero": func() []byte { return make([]byte, 2*size) },
			"OrderOrder": func() []byte {
				b := make([]byte, 2*size)
				n.FillBytes(b[:size])
				n.FillBytes(b[size:])
				return b
			},
			"ZeroOne":     func() []byte { b := make([]byte, 2*size); b[2*size-1] = 1; return b },
			"OneZero":     func() []byte { b := make([]byte, 2*size); b[size-1] = 1; return b },
			"DERZeroZero": func() []byte { return []byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00} },
			"Empty":       func() []byte { return nil },
		}
		for name, sig := range sigs {
			cases = append(cases, atkCase{name: alg + "/" + name, alg: alg, want: atkInvalid,
				token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
					in := atkB64([]byte(atkJSON(e.t, e.header()))) + "." + atkB64([]byte(atkJSON(e.t, e.claims(typ))))
					return in + "." + atkB64(sig())
				}})
		}
	}
	runAtkCases(t, cases)
}

// TestAttackSignatureTampering: signatures stripped, truncated, extended,
// bit-flipped, borrowed from another token or non-canonically encoded.
func TestAttackSignatureTampering(t *testing.T) {
	var cases []atkCase
	for _, server := range []string{"HS256", "HS512", "RS256", "PS256", "ES256", "EdDSA"} {
		mut := map[string]func(e *atkEnv, tok string) string{
			"Stripped":      func(e *atkEnv, tok string) string { p := atkParts(e.t, tok); return p[0] + "." + p[1] + "." },
			"StrippedNoDot": func(e *atkEnv, tok string) string { p := atkParts(e.t, tok); return p[0] + "." + p[1] },
			"Truncated1":    func(e *atkEnv, tok string) string { return tok[:len(tok)-1] },
			"Truncated4":    func(e *atkEnv, tok string) string { return tok[:len(tok)-4] },
			"TruncatedHalf": func(e *atkEnv, tok string) string {
				p := atkParts(e.t, tok)
				return p[0] + "." + p[1] + "." + p[2][:len(p[2])/2]
			},
			"Extended":     func(e *atkEnv, tok string) string { return tok + "AAAA" },
			"FlipFirstBit": func(e *atkEnv, tok string) string { return atkFlipSig(e.t, tok, 0, 0x80) },
			"FlipLastBit":  func(e *atkEnv, tok string) string { return atkFlipSig(e.t, tok, -1, 0x01) },
			"FlipMiddle":   func(e *atkEnv, tok string) string { return atkFlipSig(e.t, tok, 16, 0x10) },
			"OtherTokensSignature": func(e *atkEnv, tok string) string {
				p, q := atkParts(e.t, tok), atkParts(e.t, e.valid(jwtrevoke.AccessToken))
				return p[0] + "." + p[1] + "." + q[2]
			},
			"NonCanonicalSignature": func(e *atkEnv, tok string) string {
				p := atkParts(e.t, tok)
				return p[0] + "." + p[1] + "." + atkNonCanonical(p[2])
			},
			"NonCanonicalPayload": func(e *atkEnv, tok string) string {
				p := atkParts(e.t, tok)
				return p[0] + "." + atkNonCanonical(p[1]) + "." + p[2]
			},
			"HeaderChanged": func(e *atkEnv, tok string) string {
				p := atkParts(e.t, tok)
				h := e.header()
				h["typ"] = "at+jwt"
				return atkB64([]byte(atkJSON(e.t, h))) + "." + p[1] + "." + p[2]
			},
		}
		for name, m := range mut {
			cases = append(cases, atkCase{name: server + "/" + name, alg: server, want: atkInvalid,
				token: func(e *atkEnv, typ jwtrevoke.TokenType) string { return m(e, e.valid(typ)) }})
		}
	}
	runAtkCases(t, cases)
}

// TestAttackPayloadTampering: claims changed after signing, the original
// signature kept.
func TestAttackPayloadTampering(t *testing.T) {
	var cases []atkCase
	for _, server := range []string{"HS256", "ES256"} {
		mods := map[string]func(e *atkEnv, c map[string]any){
			"OtherUser":       func(e *atkEnv, c map[string]any) { c["user_id"] = e.inactive.ID + 1 },
			"OtherUserString": func(e *atkEnv, c map[string]any) { c["user_id"] = "2" },
			"LongerLife":      func(e *atkEnv, c map[string]any) { c["exp"] = atkNow.Add(365 * 24 * time.Hour).Unix() },
			"OtherJTI":        func(e *atkEnv, c map[string]any) { c["jti"] = atkJTI() },
			"Staff":           func(e *atkEnv, c map[string]any) { c["is_staff"] = true },
			"OtherSession":    func(e *atkEnv, c map[string]any) { c["sid"] = atkJTI() },
		}
		for name, mod := range mods {
			cases = append(cases, atkCase{name: server + "/" + name, alg: server, want: atkInvalid,
				token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
					return atkTamper(e.t, e.valid(typ), func(c map[string]any) { mod(e, c) })
				}})
		}
	}
	runAtkCases(t, cases)
}

// TestAttackTokenType: a token of one type used as another. Verify takes
// any type, as SimpleJWT's verify view does.
func TestAttackTokenType(t *testing.T) {
	ofType := func(v any) func(e *atkEnv, _ jwtrevoke.TokenType) string {
		return func(e *atkEnv, _ jwtrevoke.TokenType) string {
			return e.withClaims(jwtrevoke.AccessToken, func(c map[string]any) {
				if v == nil {
					delete(c, "token_type")
				} else {
					c["token_type"] = v
				}
			})
		}
	}
	wrong := jwtrevoke.ErrTokenWrongType
	runAtkCases(t, []atkCase{
		{name: "RefreshAsAccess", token: ofType("refresh"), want: atkRefusal{auth: wrong}},
		{name: "AccessAsRefresh", token: ofType("access"), want: atkRefusal{refresh: wrong}},
		{name: "SlidingAsEither", token: ofType("sliding"), want: atkRefusal{auth: wrong, refresh: wrong}},
		{name: "Missing", token: ofType(nil), want: atkRefusal{auth: jwtrevoke.ErrTokenNoType, refresh: jwtrevoke.ErrTokenNoType}},
		{name: "UpperCase", token: ofType("ACCESS"), want: atkRefusal{auth: wrong, refresh: wrong}},
		{name: "Padded", token: ofType("access "), want: atkRefusal{auth: wrong, refresh: wrong}},
		{name: "Number", token: ofType(1), want: atkRefusal{auth: wrong, refresh: wrong}},
		{name: "List", token: ofType([]string{"access", "refresh"}), want: atkRefusal{auth: wrong, refresh: wrong}},
		{name: "Null", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			return e.withClaims(typ, func(c map[string]any) { c["token_type"] = nil })
		}, want: atkRefusal{auth: wrong, refresh: wrong}},
	})
}

// TestAttackTimeClaims: exp passed or missing, nbf and iat in the future,
// each side of LEEWAY. golang-jwt's WithIssuedAt refuses an iat later than
// now + leeway (ErrTokenUsedBeforeIssued), as PyJWT does; nbf likewise;
// exp must be later than now - leeway.
func TestAttackTimeClaims(t *testing.T) {
	const leeway = 30 * time.Second
	withLeeway := func(s *jwtrevoke.Settings) { s.Leeway = leeway }
	at := func(name string, d time.Duration) func(e *atkEnv, typ jwtrevoke.TokenType) string {
		return func(e *atkEnv, typ jwtrevoke.TokenType) string {
			return e.withClaims(typ, func(c map[string]any) { c[name] = atkNow.Add(d).Unix() })
		}
	}
	set := func(name string, v any) func(e *atkEnv, typ jwtrevoke.TokenType) string {
		return func(e *atkEnv, typ jwtrevoke.TokenType) string {
			return e.withClaims(typ, func(c map[string]any) {
				if v == nil {
					delete(c, name)
				} else {
					c[name] = v
				}
			})
		}
	}
	runAtkCases(t, []atkCase{
		{name: "Expired", token: at("exp", -time.Second), want: atkInvalid},
		{name: "ExpiresNow", token: at("exp", 0), want: atkInvalid},
		{name: "ExpiredLongAgo", token: at("exp", -24*time.Hour), want: atkInvalid},
		{name: "ExpMissing", token: set("exp", nil), want: atkEverywhere(jwtrevoke.ErrTokenNoExp)},
		{name: "ExpString", token: set("exp", "4102444800"), want: atkInvalid},
		{name: "ExpNull", token: set("exp", json.RawMessage("null")), want: atkInvalid},
		{name: "ExpHuge", token: set("exp", json.RawMessage("1e400")), want: atkInvalid},
		{name: "ExpNaNLike", token: set("exp", json.RawMessage("-1e400")), want: atkInvalid},
		{name: "NbfFuture", token: at("nbf", time.Second), want: atkInvalid},
		{name: "NbfString", token: set("nbf", "0"), want: atkInvalid},
		{name: "IatFuture", token: at("iat", time.Second), want: atkInvalid},
		{name: "IatString", token: set("iat", "0"), want: atkInvalid},
		{name: "NbfNow", token: at("nbf", 0), accept: true},
		{name: "IatNow", token: at("iat", 0), accept: true},
		{name: "ExpOneSecondLeft", token: at("exp", time.Second), accept: true},

		// LEEWAY: tolerated skew, both sides.
		{name: "Leeway/ExpiredBeyond", settings: withLeeway, token: at("exp", -leeway), want: atkInvalid},
		{name: "Leeway/ExpiredWithin", settings: withLeeway, token: at("exp", -leeway+time.Second), accept: true},
		{name: "Leeway/NbfBeyond", settings: withLeeway, token: at("nbf", leeway+time.Second), want: atkInvalid},
		{name: "Leeway/NbfWithin", settings: withLeeway, token: at("nbf", leeway), accept: true},
		{name: "Leeway/IatBeyond", settings: withLeeway, token: at("iat", leeway+time.Second), want: atkInvalid},
		{name: "Leeway/IatWithin", settings: withLeeway, token: at("iat", leeway), accept: true},
	})
}

// TestAttackIssuerAudience: with ISSUER and AUDIENCE set, both claims are
// required and must match.
func TestAttackIssuerAudience(t *testing.T) {
	const iss, aud = "https://auth.example", "orders"
	both := func(s *jwtrevoke.Settings) { s.Issuer, s.Audience = iss, aud }
	claims := func(mod func(c map[string]any)) func(e *atkEnv, typ jwtrevoke.TokenType) string {
		return func(e *atkEnv, typ jwtrevoke.TokenType) string {
			return e.withClaims(typ, func(c map[string]any) {
				c["iss"], c["aud"] = iss, aud
				mod(c)
			})
		}
	}
	cases := []atkCase{
		{name: "WrongIssuer", token: claims(func(c map[string]any) { c["iss"] = "https://evil.example" })},
		{name: "IssuerPrefix", token: claims(func(c map[string]any) { c["iss"] = iss + ".evil" })},
		{name: "IssuerCase", token: claims(func(c map[string]any) { c["iss"] = strings.ToUpper(iss) })},
		{name: "MissingIssuer", token: claims(func(c map[string]any) { delete(c, "iss") })},
		{name: "EmptyIssuer", token: claims(func(c map[string]any) { c["iss"] = "" })},
		{name: "IssuerList", token: claims(func(c map[string]any) { c["iss"] = []string{iss} })},
		{name: "WrongAudience", token: claims(func(c map[string]any) { c["aud"] = "billing" })},
		{name: "MissingAudience", token: claims(func(c map[string]any) { delete(c, "aud") })},
		{name: "EmptyAudience", token: claims(func(c map[string]any) { c["aud"] = "" })},
		{name: "AudienceListWithoutOurs", token: claims(func(c map[string]any) { c["aud"] = []string{"billing", "orders2"} })},
		{name: "AudienceEmptyList", token: claims(func(c map[string]any) { c["aud"] = []string{} })},
		{name: "AudienceNumber", token: claims(func(c map[string]any) { c["aud"] = 1 })},
		{name: "BothMissing", token: claims(func(c map[string]any) { delete(c, "iss"); delete(c, "aud") })},
	}
	for i := range cases {
		cases[i].settings, cases[i].want = both, atkInvalid
	}
	cases = append(cases,
		atkCase{name: "Control", settings: both, token: claims(func(map[string]any) {}), accept: true},
		atkCase{name: "ControlAudienceList", settings: both, accept: true,
			token: claims(func(c map[string]any) { c["aud"] = []string{"billing", aud} })},
	)
	runAtkCases(t, cases)
}

// TestAttackSerialization: only the compact serialization of RFC 7515 7.1
// is read: three non-empty parts of unpadded base64url characters. Each
// token is signed over its exact signing input with the server's key, so
// only the form is wrong.
func TestAttackSerialization(t *testing.T) {
	parts := func(e *atkEnv, typ jwtrevoke.TokenType) (h, p, s string) {
		q := atkParts(e.t, e.valid(typ))
		return q[0], q[1], q[2]
	}
	// signedInput makes a token from an arbitrary signing input, signed
	// over exactly those bytes.
	signedInput := func(e *atkEnv, in string) string { return in + "." + atkB64(atkSigOver(e.t, e.alg, e.key, in)) }
	// stdPayload is a payload whose base64url has '-' or '_', re-encoded
	// with the standard alphabet's '+' and '/'.
	stdPayload := func(e *atkEnv, typ jwtrevoke.TokenType) string {
		c := e.claims(typ)
		for pad := ""; ; pad += ">?" {
			c["pad"] = pad
			enc := atkB64([]byte(atkJSON(e.t, c)))
			if strings.ContainsAny(enc, "-_") {
				return strings.NewReplacer("-", "+", "_", "/").Replace(enc)
			}
		}
	}
	tok := func(f func(h, p, s string) string) func(e *atkEnv, typ jwtrevoke.TokenType) string {
		return func(e *atkEnv, typ jwtrevoke.TokenType) string { return f(parts(e, typ)) }
	}
	insert := func(s string, i int, x string) string { return s[:i] + x + s[i:] }
	cases := []atkCase{
		{name: "JSONGeneral", token: tok(func(h, p, s string) string {
			return fmt.Sprintf(`{"payload":%q,"signatures":[{"protected":%q,"signature":%q}]}`, p, h, s)
		})},
		{name: "JSONFlattened", token: tok(func(h, p, s string) string {
			return fmt.Sprintf(`{"payload":%q,"protected":%q,"signature":%q}`, p, h, s)
		})},
		{name: "TwoParts", token: tok(func(h, p, s string) string { return h + "." + p })},
		{name: "FourParts", token: tok(func(h, p, s string) string { return h + "." + p + "." + s + "." + s })},
		{name: "TrailingDot", token: tok(func(h, p, s string) string { return h + "." + p + "." + s + "." })},
		{name: "FiveParts", token: tok(func(h, p, s string) string { return h + ".." + p + "." + s + "." + s })},
		{name: "LeadingDot", token: tok(func(h, p, s string) string { return "." + h + "." + p + "." + s })},
		{name: "EmptyHeader", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			_, p, _ := parts(e, typ)
			return signedInput(e, "."+p)
		}},
		{name: "EmptyPayload", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h, _, _ := parts(e, typ)
			return signedInput(e, h+".")
		}},
		{name: "EscapedDots", token: tok(func(h, p, s string) string { return h + "%2E" + p + "%2E" + s })},
		{name: "PaddedHeader", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			_, p, _ := parts(e, typ)
			h := e.header()
			for pad := ""; ; pad += "x" {
				h["x-pad"] = pad
				if enc := base64.URLEncoding.EncodeToString([]byte(atkJSON(e.t, h))); strings.HasSuffix(enc, "=") {
					return signedInput(e, enc+"."+p)
				}
			}
		}},
		{name: "PaddedPayload", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h, _, _ := parts(e, typ)
			c := e.claims(typ)
			for pad := ""; ; pad += "x" {
				c["pad"] = pad
				if enc := base64.URLEncoding.EncodeToString([]byte(atkJSON(e.t, c))); strings.HasSuffix(enc, "=") {
					return signedInput(e, h+"."+enc)
				}
			}
		}},
		{name: "PaddedSignature", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h, p, _ := parts(e, typ)
			return h + "." + p + "." + base64.URLEncoding.EncodeToString(atkSigOver(e.t, e.alg, e.key, h+"."+p)) + "="
		}},
		{name: "StdAlphabetPayload", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h, _, _ := parts(e, typ)
			return signedInput(e, h+"."+stdPayload(e, typ))
		}},
		{name: "StdAlphabetSignature", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			// Sign payloads until the signature has '-' or '_'.
			for {
				h, p, s := parts(e, typ)
				if strings.ContainsAny(s, "-_") {
					return h + "." + p + "." + strings.NewReplacer("-", "+", "_", "/").Replace(s)
				}
			}
		}},
		// Characters base64 decoders skip or choke on. Newlines are the
		// sharp ones: Go's base64 decoder ignores \r and \n, even in strict
		// mode, so a token with one signed over the exact input decodes to
		// the same claims.
		{name: "NewlineInPayload", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h, p, _ := parts(e, typ)
			return signedInput(e, h+"."+insert(p, 8, "\n"))
		}},
		{name: "CRLFInHeader", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h, p, _ := parts(e, typ)
			return signedInput(e, insert(h, 4, "\r\n")+"."+p)
		}},
		{name: "NewlineInSignature", token: tok(func(h, p, s string) string { return h + "." + p + "." + insert(s, 10, "\n") })},
		{name: "TrailingNewline", token: tok(func(h, p, s string) string { return h + "." + p + "." + s + "\n" })},
		{name: "TrailingCRLF", token: tok(func(h, p, s string) string { return h + "." + p + "." + s + "\r\n" })},
		{name: "SpaceInSignature", token: tok(func(h, p, s string) string { return h + "." + p + "." + insert(s, 10, " ") })},
		{name: "SpaceInPayload", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h, p, _ := parts(e, typ)
			return signedInput(e, h+"."+insert(p, 8, " "))
		}},
		{name: "LeadingSpace", token: tok(func(h, p, s string) string { return " " + h + "." + p + "." + s })},
		{name: "TrailingSpace", token: tok(func(h, p, s string) string { return h + "." + p + "." + s + " " })},
		{name: "Tab", token: tok(func(h, p, s string) string { return h + "." + p + "\t." + s })},
		{name: "TrailingNUL", token: tok(func(h, p, s string) string { return h + "." + p + "." + s + "\x00" })},
		{name: "NULInPayload", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h, p, _ := parts(e, typ)
			return signedInput(e, h+"."+insert(p, 8, "\x00"))
		}},
		{name: "Plus", token: tok(func(h, p, s string) string { return h + "." + p + "." + insert(s, 3, "+") })},
		{name: "Slash", token: tok(func(h, p, s string) string { return h + "." + p + "." + insert(s, 3, "/") })},
		{name: "Unicode", token: tok(func(h, p, s string) string { return h + "." + p + "." + s + "é" })},
		{name: "FullwidthLetter", token: tok(func(h, p, s string) string { return h + "." + p + "." + insert(s, 3, "Ａ") })},
		{name: "ZeroWidthSpace", token: tok(func(h, p, s string) string { return h + "." + insert(p, 8, "\u200b") + "." + s })},
		{name: "FullwidthDot", token: tok(func(h, p, s string) string { return h + "．" + p + "．" + s })},
		{name: "InvalidUTF8", token: tok(func(h, p, s string) string { return h + "." + p + "." + s + "\xff" })},
		{name: "Quote", token: tok(func(h, p, s string) string { return `"` + h + "." + p + "." + s + `"` })},
		{name: "Bearer", token: tok(func(h, p, s string) string { return "Bearer " + h + "." + p + "." + s })},
		{name: "Empty", token: func(*atkEnv, jwtrevoke.TokenType) string { return "" }},
		{name: "Dots", token: func(*atkEnv, jwtrevoke.TokenType) string { return ".." }},
	}
	for i, c := range cases {
		cases[i].want = atkInvalid
		if c.name != "Empty" { // refused before the check, with no reason given
			cases[i].why = "not a compact JWS"
		}
	}
	runAtkCases(t, cases)
}

// TestAttackOversized: tokens longer than MaxTokenLength, and headers
// longer than MaxHeaderLength, are refused before anything is decoded;
// tokens and headers at the limits are read.
func TestAttackOversized(t *testing.T) {
	// padded is the longest token of type typ, padded with a claim, that
	// is at most n characters long; more is the shortest longer one.
	padded := func(e *atkEnv, typ jwtrevoke.TokenType, n int) (fits, more string) {
		c := e.claims(typ)
		for pad := max(0, n*3/4-400); ; pad++ {
			c["pad"] = strings.Repeat("a", pad)
			tok := e.signed(e.header(), c)
			if len(tok) > n {
				return fits, tok
			}
			fits = tok
		}
	}
	hdr := func(e *atkEnv, n int) (fits, more map[string]any) {
		for pad := 0; ; pad++ {
			h := e.header()
			h["x-pad"] = strings.Repeat("a", pad)
			if len(atkB64([]byte(atkJSON(e.t, h)))) > n {
				return fits, h
			}
			fits = h
		}
	}
	atLimit := func(e *atkEnv, typ jwtrevoke.TokenType) string {
		fits, _ := padded(e, typ, jwtrevoke.MaxTokenLength)
		if len(fits) < jwtrevoke.MaxTokenLength-3 {
			e.t.Fatalf("control token is %d long, want about %d", len(fits), jwtrevoke.MaxTokenLength)
		}
		return fits
	}
	runAtkCases(t, []atkCase{
		{name: "TokenJustTooLong", want: atkInvalid, token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			_, more := padded(e, typ, jwtrevoke.MaxTokenLength)
			return more
		}},
		{name: "TokenAtLimit", accept: true, token: atLimit},
		{name: "TokenOneMiB", want: atkInvalid, token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			return e.withClaims(typ, func(c map[string]any) { c["pad"] = strings.Repeat("a", 1<<20) })
		}},
		{name: "HeaderJustTooLong", want: atkInvalid, why: "header longer than", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			_, more := hdr(e, jwtrevoke.MaxHeaderLength)
			return e.signed(more, e.claims(typ))
		}},
		{name: "HeaderAtLimit", accept: true, token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			fits, _ := hdr(e, jwtrevoke.MaxHeaderLength)
			return e.signed(fits, e.claims(typ))
		}},
		{name: "HeaderHuge", want: atkInvalid, why: "header longer than", token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			return e.withHeader(typ, func(h map[string]any) { h["x-pad"] = strings.Repeat("a", jwtrevoke.MaxTokenLength/2) })
		}},
	})
}

// TestAttackDuplicateKeys: JSON with a member name twice, in the header or
// the claims, is refused (RFC 7515 4 and RFC 7519 4 allow refusing or
// taking the last; a parser that takes the first would see another token),
// as are claims that are not exactly one JSON object of valid UTF-8.
// Every token is signed with the server's key.
func TestAttackDuplicateKeys(t *testing.T) {
	raw := func(header, payload string) func(e *atkEnv, typ jwtrevoke.TokenType) string {
		return func(e *atkEnv, typ jwtrevoke.TokenType) string {
			h := strings.ReplaceAll(header, "ALG", e.alg)
			p := payload
			if strings.Contains(p, "%") {
				c := e.claims(typ)
				p = fmt.Sprintf(payload, c["token_type"], c["exp"], c["iat"], c["jti"], c["user_id"])
			}
			return e.sign(h, p)
		}
	}
	const (
		hdr  = `{"alg":"ALG","typ":"JWT"}`
		body = `{"token_type":%q,"exp":%d,"iat":%d,"jti":%q,"user_id":%d`
	)
	cases := []atkCase{
		{name: "Header/TwoAlg", token: raw(`{"alg":"none","alg":"ALG","typ":"JWT"}`, body+`}`)},
		{name: "Header/TwoAlgSame", token: raw(`{"alg":"ALG","alg":"ALG","typ":"JWT"}`, body+`}`)},
		{name: "Header/TwoTyp", token: raw(`{"alg":"ALG","typ":"JWT","typ":"JWT"}`, body+`}`)},
		{name: "Header/TwoKid", token: raw(`{"alg":"ALG","kid":"a","kid":"b","typ":"JWT"}`, body+`}`)},
		{name: "Header/EscapedTwin", token: raw(`{"alg":"ALG","\u0061lg":"ALG","typ":"JWT"}`, body+`}`)},
		{name: "Header/TrailingObject", token: raw(hdr+`{}`, body+`}`)},
		{name: "Header/NotAnObject", token: raw(`["ALG"]`, body+`}`)},
		{name: "Claims/TwoUserID", token: raw(hdr, body+`,"user_id":2}`)},
		{name: "Claims/TwoUserIDSame", token: raw(hdr, body+`,"user_id":1}`)},
		{name: "Claims/EscapedTwinUserID", token: raw(hdr, body+`,"user\u005fid":2}`)},
		{name: "Claims/TwoTokenType", token: raw(hdr, `{"token_type":"sliding",`+body[1:]+`}`)},
		{name: "Claims/TwoExp", token: raw(hdr, `{"exp":1,`+body[1:]+`}`)},
		{name: "Claims/TwoJTI", token: raw(hdr, body+`,"jti":"x"}`)},
		{name: "Claims/TwoSid", token: raw(hdr, body+`,"sid":"a","sid":"b"}`)},
		{name: "Claims/TrailingObject", token: raw(hdr, body+`}{"user_id":2}`)},
		{name: "Claims/TrailingGarbage", token: raw(hdr, body+`} x`)},
		{name: "Claims/Null", token: raw(hdr, `null`)},
		{name: "Claims/List", token: raw(hdr, `[`+body+`}]`)},
		{name: "Claims/String", token: raw(hdr, `"claims"`)},
		{name: "Claims/InvalidUTF8", token: raw(hdr, body+",\"name\":\"\xff\"}")},
		{name: "Claims/InvalidUTF8Key", token: raw(hdr, body+",\"\xfe\":1,\"\xff\":2}")},
		{name: "Claims/BOM", token: raw(hdr, "\ufeff"+body+`}`)},
		{name: "Claims/NotJSON", token: raw(hdr, `Example of Ed25519 signing`)},
	}
	for i, c := range cases {
		cases[i].want = atkInvalid
		switch {
		case strings.Contains(c.name, "Two"), strings.Contains(c.name, "Twin"):
			cases[i].why = "a member name appears twice"
		case strings.Contains(c.name, "UTF8"):
			cases[i].why = "not valid UTF-8"
		default:
			cases[i].why = "not exactly one JSON object"
		}
	}
	cases = append(cases,
		atkCase{name: "Control", token: raw(hdr, body+`}`), accept: true},
		// Whitespace, key order and escapes are fine, as with PyJWT.
		atkCase{name: "ControlWhitespaceEscapes", accept: true,
			token: raw("{\r\n \"typ\" : \"JWT\",\r\n \"\\u0061lg\" : \"ALG\"\r\n}\n", " "+body+`,"name":"\u00e9\ud83d\ude00"}`+"\t")},
	)
	runAtkCases(t, cases)
}

// TestAttackUser: tokens (validly signed) of users who do not exist or are
// inactive, or with no usable user id.
func TestAttackUser(t *testing.T) {
	user := func(v any) func(e *atkEnv, typ jwtrevoke.TokenType) string {
		return func(e *atkEnv, typ jwtrevoke.TokenType) string {
			return e.withClaims(typ, func(c map[string]any) {
				switch v {
				case "inactive":
					c["user_id"] = e.inactive.ID
				case nil:
					delete(c, "user_id")
				default:
					c["user_id"] = v
				}
			})
		}
	}
	noUser := atkUserRefusal(jwtrevoke.ErrTokenNoUser)
	notFound := atkUserRefusal(jwtrevoke.ErrUserNotFound)
	runAtkCases(t, []atkCase{
		{name: "Unknown", token: user(999), want: notFound},
		{name: "UnknownString", token: user("999"), want: notFound},
		{name: "Zero", token: user(0), want: notFound},
		{name: "Negative", token: user(-1), want: notFound},
		{name: "Inactive", token: user("inactive"), want: atkUserRefusal(jwtrevoke.ErrUserInactive)},
		{name: "Missing", token: user(nil), want: noUser},
		{name: "Float", token: user(1.5), want: noUser},
		{name: "Bool", token: user(true), want: noUser},
		{name: "SQLString", token: user("1 OR 1=1"), want: noUser},
		{name: "Overflow", token: user(json.RawMessage("9223372036854775808")), want: noUser},
		{name: "List", token: user([]int{1}), want: noUser},
		{name: "Control", token: user(1), accept: true},
	})
}

// TestAttackControls: the crafting helpers, without an attack, make
// tokens every server accepts, and the server's own tokens pass too: the
// refusals above are the attacks' doing.
func TestAttackControls(t *testing.T) {
	var cases []atkCase
	for _, alg := range []string{"HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"} {
		cases = append(cases, atkCase{name: alg + "/Crafted", alg: alg, accept: true,
			token: func(e *atkEnv, typ jwtrevoke.TokenType) string { return e.valid(typ) }})
	}
	cases = append(cases, atkCase{name: "HS256/Issued", accept: true,
		token: func(e *atkEnv, typ jwtrevoke.TokenType) string {
			p := mustLogin(e.t, e.svc, "a@x.io")
			if typ == jwtrevoke.RefreshToken {
				return p.Refresh
			}
			return p.Access
		}})
	runAtkCases(t, cases)

	// The HMAC helper agrees with crypto/hmac directly.
	e := newAtkEnv(t, "HS256", nil)
	tok := atkParts(e.t, e.valid(jwtrevoke.AccessToken))
	mac := hmac.New(sha256.New, []byte(atkSecret))
	mac.Write([]byte(tok[0] + "." + tok[1]))
	if atkB64(mac.Sum(nil)) != tok[2] {
		t.Fatal("the signing helper does not compute HMAC-SHA256")
	}
}
