package jwtrevoke

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenType is the value of the token_type claim.
type TokenType string

// The token types SimpleJWT knows.
const (
	AccessToken  TokenType = "access"
	RefreshToken TokenType = "refresh"
	SlidingToken TokenType = "sliding"
)

// SessionClaim is the claim that ties every token of a login together: the
// refresh tokens of one rotation family and every access token minted from
// them carry the same value. SimpleJWT ignores it and copies it along.
const SessionClaim = "sid"

// MaxTokenLength caps the size of an encoded token; longer ones are refused
// before any decoding.
const MaxTokenLength = 8 << 10

// Claims is a decoded token payload.
type Claims struct {
	Type      TokenType
	ExpiresAt int64 // exp, Unix seconds
	IssuedAt  int64 // iat, Unix seconds; 0 when absent
	JTI       string
	UserID    int64 // 0 with HasUser false when the claim is absent or unusable
	HasUser   bool
	SessionID string // sid; empty for tokens issued elsewhere
	// Extra holds every other claim (iss and aud included), so that an
	// access token minted from a refresh token copies them as SimpleJWT does.
	Extra map[string]any
}

// Expires returns exp as a time.
func (c *Claims) Expires() time.Time { return time.Unix(c.ExpiresAt, 0).UTC() }

// newJTI returns a uuid4().hex-style id: 32 lower-case hex digits.
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// newSessionID returns a session id laid out like a UUIDv7 (32 hex
// digits): the creation time in milliseconds, then random bits. The time
// lets a logout-all tell sessions begun before it from those begun after,
// even within one second (iat has whole seconds only).
func newSessionID(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// codec signs tokens with the current key and checks them with any of the
// configured keys, each under its own algorithm only.
type codec struct {
	s       Settings
	current *Key
	keys    []*Key // current first
	byID    map[string]*Key
	header  string // base64url of the current key's header
	parser  *jwt.Parser
}

func newCodec(s Settings, current *Key, previous []*Key, now func() time.Time) (*codec, error) {
	if current.signer == nil {
		return nil, fmt.Errorf("the %s signing key is a public key: a private key is needed to sign", current.Algorithm)
	}
	k := &codec{s: s, current: current, keys: append([]*Key{current}, previous...), byID: map[string]*Key{}}
	algs := []string{}
	for _, key := range k.keys {
		if jwt.GetSigningMethod(key.Algorithm) == nil {
			return nil, fmt.Errorf("unknown algorithm %q", key.Algorithm)
		}
		k.byID[key.ID] = key
		if !slices.Contains(algs, key.Algorithm) {
			algs = append(algs, key.Algorithm)
		}
	}
	// PyJWT writes the header with sorted keys, compact. An HMAC key alone
	// gets SimpleJWT's exact header, without kid.
	if isHMAC(current.Algorithm) && len(previous) == 0 {
		k.header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + current.Algorithm + `","typ":"JWT"}`))
	} else {
		k.header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + current.Algorithm + `","kid":"` + current.ID + `","typ":"JWT"}`))
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithJSONNumber(),
		jwt.WithStrictDecoding(),
		jwt.WithLeeway(s.Leeway),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(now),
	}
	if s.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(s.Issuer))
	}
	if s.Audience != "" {
		opts = append(opts, jwt.WithAudience(s.Audience))
	}
	k.parser = jwt.NewParser(opts...)
	return k, nil
}

var errNoKey = errors.New("no key for this token")

// hasAlg reports whether some key uses alg.
func (k *codec) hasAlg(alg string) bool {
	for _, key := range k.keys {
		if key.Algorithm == alg {
			return true
		}
	}
	return false
}

// keyFor picks the verification key for a token: by kid when it has one,
// otherwise every key of the token's algorithm. A key is only ever used
// with its own algorithm, so no header can make an RSA public key an HMAC
// secret.
func (k *codec) keyFor(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if raw, has := t.Header["kid"]; has {
		kid, ok := raw.(string)
		key := k.byID[kid]
		if !ok || key == nil || key.Algorithm != alg {
			return nil, errNoKey
		}
		return key.verifier, nil
	}
	var set jwt.VerificationKeySet
	for _, key := range k.keys {
		if key.Algorithm == alg {
			set.Keys = append(set.Keys, key.verifier)
		}
	}
	switch len(set.Keys) {
	case 0:
		return nil, errNoKey
	case 1:
		return set.Keys[0], nil
	}
	return set, nil
}

// encode signs c, writing the claims in SimpleJWT's order: token_type, exp,
// iat, jti, user_id, sid, then the extra claims sorted by name, with iss and
// aud set from the settings when configured.
func (k *codec) encode(c *Claims) (string, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(name string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		nb, _ := json.Marshal(name)
		vb, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode claim %s: %w", name, err)
		}
		b.Write(nb)
		b.WriteByte(':')
		b.Write(vb)
		return nil
	}
	_ = field(k.s.TokenTypeClaim, string(c.Type))
	_ = field("exp", c.ExpiresAt)
	if c.IssuedAt != 0 {
		_ = field("iat", c.IssuedAt)
	}
	_ = field(k.s.JTIClaim, c.JTI)
	if c.HasUser {
		_ = field(k.s.UserIDClaim, c.UserID)
	}
	if c.SessionID != "" {
		_ = field(SessionClaim, c.SessionID)
	}
	extra := make(map[string]any, len(c.Extra)+2)
	for n, v := range c.Extra {
		extra[n] = v
	}
	if k.s.Audience != "" {
		extra["aud"] = k.s.Audience
	}
	if k.s.Issuer != "" {
		extra["iss"] = k.s.Issuer
	}
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := field(n, extra[n]); err != nil {
			return "", err
		}
	}
	b.WriteByte('}')
	signing := k.header + "." + base64.RawURLEncoding.EncodeToString(b.Bytes())
	sig, err := jwt.GetSigningMethod(k.current.Algorithm).Sign(signing, k.current.signer)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// decode checks the signature and the registered time claims, then the
// claims SimpleJWT requires, in SimpleJWT's order: exp present, jti present,
// then the type when want is not empty.
func (k *codec) decode(raw string, want TokenType) (*Claims, error) {
	if raw == "" || len(raw) > MaxTokenLength {
		return nil, ErrTokenInvalid
	}
	mc := jwt.MapClaims{}
	if _, err := k.parser.ParseWithClaims(raw, mc, k.keyFor); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	c := &Claims{Extra: map[string]any{}}
	exp, ok := mc["exp"]
	if !ok {
		return nil, ErrTokenNoExp
	}
	var err error
	if c.ExpiresAt, err = intClaim(exp); err != nil {
		return nil, fmt.Errorf("%w: exp: %w", ErrTokenInvalid, err)
	}
	jti, ok := mc[k.s.JTIClaim]
	if !ok {
		return nil, ErrTokenNoID
	}
	if c.JTI, ok = jti.(string); !ok || c.JTI == "" {
		return nil, fmt.Errorf("%w: jti is not a string", ErrTokenInvalid)
	}
	typ, ok := mc[k.s.TokenTypeClaim]
	if want != "" {
		if !ok {
			return nil, ErrTokenNoType
		}
		if s, _ := typ.(string); TokenType(s) != want {
			return nil, ErrTokenWrongType
		}
	}
	if s, isStr := typ.(string); isStr {
		c.Type = TokenType(s)
	}
	if iat, ok := mc["iat"]; ok {
		if c.IssuedAt, err = intClaim(iat); err != nil {
			return nil, fmt.Errorf("%w: iat: %w", ErrTokenInvalid, err)
		}
	}
	if uid, ok := mc[k.s.UserIDClaim]; ok {
		c.UserID, c.HasUser = userID(uid)
	}
	if sid, ok := mc[SessionClaim]; ok {
		if c.SessionID, ok = sid.(string); !ok {
			return nil, fmt.Errorf("%w: sid is not a string", ErrTokenInvalid)
		}
	}
	for n, v := range mc {
		switch n {
		case "exp", "iat", k.s.JTIClaim, k.s.TokenTypeClaim, k.s.UserIDClaim, SessionClaim:
		default:
			c.Extra[n] = v
		}
	}
	return c, nil
}

// intClaim reads a NumericDate: a JSON number, truncated to whole seconds.
func intClaim(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, errors.New("not a number")
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return 0, errors.New("not a usable number")
	}
	return int64(f), nil
}

// userID reads a user id claim: an integer, or a string of one (SimpleJWT
// accepts both since the ORM coerces).
func userID(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
	case string:
		if i, err := strconv.ParseInt(x, 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}
