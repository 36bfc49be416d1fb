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
	"unicode/utf8"

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

// MaxHeaderLength caps the size of a token's encoded header (its first
// part); a longer one is refused before it is decoded. jwtrevoke's and
// PyJWT's headers are well under 100 bytes.
const MaxHeaderLength = 1 << 10

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
	now     func() time.Time
	// fast verifies the tokens whose header is one that jwtrevoke issues
	// for an HMAC key without golang-jwt's parser (fastpath.go); nil when
	// no key or setting allows it. decodeSlow never uses it.
	fast *fastPath
}

func newCodec(s Settings, current *Key, previous []*Key, now func() time.Time) (*codec, error) {
	if current.signer == nil {
		return nil, fmt.Errorf("the %s signing key is a public key: a private key is needed to sign", current.Algorithm)
	}
	return buildCodec(s, current, append([]*Key{current}, previous...), now)
}

// newVerifyCodec returns a codec that checks tokens with keys and signs
// nothing (encode fails).
func newVerifyCodec(s Settings, keys []*Key, now func() time.Time) (*codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("no verification key")
	}
	return buildCodec(s, nil, slices.Clone(keys), now)
}

// buildCodec builds a codec over keys; current, the signing key, is
// keys[0], or nil for a verify-only codec.
func buildCodec(s Settings, current *Key, keys []*Key, now func() time.Time) (*codec, error) {
	k := &codec{s: s, current: current, keys: keys, byID: map[string]*Key{}}
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
	switch {
	case current == nil: // verify-only: no header to write
	case isHMAC(current.Algorithm) && len(keys) == 1:
		k.header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + current.Algorithm + `","typ":"JWT"}`))
	default:
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
	k.now = now
	k.fast = newFastPath(k)
	return k, nil
}

var errNoKey = errors.New("no key for this token")

// errVerifyOnly is encode's error in a verify-only codec.
var errVerifyOnly = errors.New("jwtrevoke: a verify-only service signs no token")

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
// appendJSONValue appends v as json.Marshal encodes it: by hand for the
// strings of printable ASCII that json.Marshal leaves as they are and for
// int64, through json.Marshal for anything else.
func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		if plainJSONString(v) {
			b = append(b, '"')
			b = append(b, v...)
			return append(b, '"'), nil
		}
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	}
	vb, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, vb...), nil
}

// plainJSONString reports whether json.Marshal writes s between quotes
// as it is: printable ASCII without quote, backslash or the HTML
// characters it escapes.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

func (k *codec) encode(c *Claims) (string, error) {
	if k.current == nil {
		return "", errVerifyOnly
	}
	b := make([]byte, 1, 256)
	b[0] = '{'
	field := func(name string, v any) error {
		if len(b) > 1 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendJSONValue(b, name); err != nil {
			return fmt.Errorf("encode claim name %s: %w", name, err)
		}
		b = append(b, ':')
		if b, err = appendJSONValue(b, v); err != nil {
			return fmt.Errorf("encode claim %s: %w", name, err)
		}
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
	if len(c.Extra) > 0 || k.s.Audience != "" || k.s.Issuer != "" {
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
	}
	b = append(b, '}')
	if k.fast != nil && k.fast.signer != nil {
		// header.payload, its MAC, then .signature, in one buffer.
		enc := base64.RawURLEncoding
		n := len(k.header) + 1 + enc.EncodedLen(len(b))
		out := make([]byte, n, n+1+enc.EncodedLen(k.fast.signer.size)+k.fast.signer.size)
		copy(out, k.header)
		out[len(k.header)] = '.'
		enc.Encode(out[len(k.header)+1:], b)
		mac := k.fast.signer.mac(out[n:n], out)
		sig := make([]byte, enc.EncodedLen(len(mac)))
		enc.Encode(sig, mac)
		out = append(append(out[:n], '.'), sig...)
		return string(out), nil
	}
	signing := k.header + "." + base64.RawURLEncoding.EncodeToString(b)
	sig, err := jwt.GetSigningMethod(k.current.Algorithm).Sign(signing, k.current.signer)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// decode refuses malformed tokens (checkCompact) before anything else,
// checks the signature and the registered time claims, then the claims
// SimpleJWT requires, in SimpleJWT's order: exp present, jti present, then
// the type when want is not empty.
//
// A token whose header is byte for byte one jwtrevoke issues for one of
// its HMAC keys takes the fast path (fastPath.decode), which gives the
// same answer as decodeSlow in a fraction of its time; any token the fast
// path does not fully understand goes the slow way.
func (k *codec) decode(raw string, want TokenType) (*Claims, error) {
	if k.fast != nil {
		if c, err := k.fast.decode(k, raw, want); err != errSlowPath {
			return c, err
		}
	}
	return k.decodeSlow(raw, want)
}

// decodeSlow is decode through golang-jwt's parser, for every token.
func (k *codec) decodeSlow(raw string, want TokenType) (*Claims, error) {
	if raw == "" || len(raw) > MaxTokenLength {
		return nil, ErrTokenInvalid
	}
	if err := checkCompact(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
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

// refusedHeaders are the header parameters that point at a key to fetch
// (jku, x5u), carry one (jwk, x5c) or name extensions the recipient must
// understand (crit). jwtrevoke verifies with its configured keys only and
// implements no extension, so a token with any of them is refused
// outright, whoever signed it (RFC 8725 3.10, RFC 7515 4.1.11): nothing in
// a token is ever fetched or used as a key.
var refusedHeaders = []string{"jku", "jwk", "x5u", "x5c", "crit"}

// Why checkCompact refused a token.
var (
	errNotCompact    = errors.New("not a compact JWS: three non-empty parts of unpadded base64url")
	errHeaderTooLong = fmt.Errorf("header longer than %d bytes", MaxHeaderLength)
	errNotObject     = errors.New("not exactly one JSON object")
	errNotUTF8       = errors.New("not valid UTF-8")
	errDuplicateName = errors.New("a member name appears twice")
)

// strictB64 decodes base64url as the parser does: unpadded, canonical.
var strictB64 = base64.RawURLEncoding.Strict()

// checkCompact refuses, before anything is verified, what golang-jwt's
// parser would let through or read differently from other parsers: any
// form but RFC 7515's compact serialization (JSON serializations, padding,
// '+' and '/', spaces, and the line breaks Go's base64 decoder skips even
// in strict mode), headers over MaxHeaderLength, and a header or claims
// that are not exactly one JSON object of valid UTF-8 with unique member
// names (RFC 7515 4, RFC 7519 4: Go keeps the last of two names, some
// parsers the first, so they would read different tokens). Headers with
// refusedHeaders are refused too. It costs a pass over the token, two
// base64 decodings and two json.Valid, and allocates only the decodings.
func checkCompact(raw string) error {
	first, second, err := splitCompact(raw)
	if err != nil {
		return err
	}
	for i, part := range [2]string{raw[:first], raw[first+1 : second]} {
		b, err := strictB64.DecodeString(part)
		if err != nil {
			return errNotCompact
		}
		if err := checkObject(b, i == 0); err != nil {
			if i == 0 {
				return fmt.Errorf("header: %w", err)
			}
			return fmt.Errorf("claims: %w", err)
		}
	}
	return nil
}

// splitCompact returns the indexes of the two dots of a compact JWS, after
// checking that raw has three non-empty parts of base64url characters only
// and a header of at most MaxHeaderLength bytes.
func splitCompact(raw string) (first, second int, err error) {
	first, second = -1, -1
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case base64url[c]:
		case c == '.' && first < 0:
			first = i
		case c == '.' && second < 0:
			second = i
		default:
			return 0, 0, errNotCompact
		}
	}
	if first < 1 || second < first+2 || second == len(raw)-1 {
		return 0, 0, errNotCompact
	}
	if first > MaxHeaderLength {
		return 0, 0, errHeaderTooLong
	}
	return first, second, nil
}

// base64url is the set of base64url characters (RFC 4648 5).
var base64url = func() (set [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		set[c] = true
	}
	return set
}()

// checkObject checks that b is exactly one JSON object, in valid UTF-8,
// whose member names (compared decoded, as the decoder will see them) are
// unique at its top level, and, for a header, are none of refusedHeaders.
// json.Valid checks the syntax first, so the walk over the names that
// follows only has to find them in valid JSON; it allocates nothing unless
// a name has escapes or the object has many members.
func checkObject(b []byte, header bool) error {
	if !utf8.Valid(b) {
		return errNotUTF8
	}
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' || !json.Valid(b) {
		return errNotObject
	}
	// The names seen so far: a few in an array, a map past that, so that
	// an object of many tiny members costs no quadratic time.
	var (
		few  [16][]byte
		n    int
		many map[string]bool
	)
	for i++; ; { // one member a turn, from just after the brace or its value
		if i = skipSpace(b, i); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		if i >= len(b) || b[i] != '"' {
			return nil // the closing brace: json.Valid vouches for the rest
		}
		end := endOfString(b, i)
		if end < 0 {
			return errNotObject
		}
		name := b[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(b[i:end], &s); err != nil {
				return errNotObject
			}
			name = []byte(s)
		}
		if header {
			for _, r := range refusedHeaders {
				if string(name) == r {
					return fmt.Errorf("the %q header is refused: keys are never taken from a token", r)
				}
			}
		}
		switch {
		case many != nil:
			if many[string(name)] {
				return errDuplicateName
			}
			many[string(name)] = true
		case slices.ContainsFunc(few[:n], func(s []byte) bool { return bytes.Equal(s, name) }):
			return errDuplicateName
		case n < len(few):
			few[n] = name
			n++
		default:
			many = make(map[string]bool, 2*len(few))
			for _, s := range few {
				many[string(s)] = true
			}
			many[string(name)] = true
		}
		// Then the colon and the value.
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return errNotObject
		}
		if i = skipValue(b, skipSpace(b, i+1)); i < 0 {
			return errNotObject
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index just past the string that starts at b[i],
// or -1 if it does not end.
func endOfString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index just past the JSON value that starts at
// b[i], or -1 if it does not end.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = endOfString(b, j); j < 0 {
					return -1
				}
				j-- // the loop steps past the closing quote
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i // a number, true, false or null
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}
