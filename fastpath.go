package jwtrevoke

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// The fast path of codec.decode, for the tokens jwtrevoke (and SimpleJWT)
// issues with an HMAC key: their header is one of a few strings known in
// advance, so the header needs no decoding, and the one key to check the
// signature with (or the few, for a header without kid) is known from it.
// The fast path checks the signature with one HMAC, pooled per key, reads
// the claims with a walk over the payload, decoded into a pooled buffer,
// and validates them as golang-jwt's parser and decodeSlow do: same
// acceptances, same claims, same error classes (FuzzFastPathDifferential
// checks it). Whatever it does not fully understand (another header,
// escaped claim names, an aud array, an oversized token...) it leaves to
// decodeSlow: it never accepts on doubt.

// errSlowPath is fastPath.decode's answer for a token it leaves to
// decodeSlow.
var errSlowPath = errors.New("jwtrevoke: token left to the slow path")

// fastPath holds what the fast path needs of a codec.
type fastPath struct {
	headers []fastHeader
	leeway  time.Duration
	// The iss and aud to require ("" when not configured), and the same
	// boxed once, so that Extra gets them without allocating.
	issuer, audience           string
	issuerAny, audienceAny     any
	jtiName, typeName, uidName string
	verified                   *verifiedCache
	// signer is the current key's, when it is an HMAC key: encode signs
	// with its pooled hash.
	signer *fastKey
}

// fastHeader is one header segment jwtrevoke issues, with the keys keyFor
// would pick for it, in keyFor's order.
type fastHeader struct {
	seg  string
	keys []*fastKey
}

// fastKey is an HMAC key with a pool of its hash.Hash.
type fastKey struct {
	size int
	pool sync.Pool // of hash.Hash: HMAC keyed with the secret
}

// mac returns the key's MAC of in, appended to dst.
func (f *fastKey) mac(dst, in []byte) []byte {
	h := f.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(in)
	dst = h.Sum(dst)
	f.pool.Put(h)
	return dst
}

// fastBufs holds the fast path's scratch buffers (*[]byte).
var fastBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// newFastPath returns the fast path of k, or nil when it has no HMAC key
// or its claim names collide (a configuration too odd to be worth it).
func newFastPath(k *codec) *fastPath {
	s := k.s
	names := []string{"exp", "iat", "nbf", "iss", "aud", SessionClaim, s.JTIClaim, s.TokenTypeClaim, s.UserIDClaim}
	for i, n := range names {
		if slices.Contains(names[i+1:], n) {
			return nil
		}
	}
	f := &fastPath{
		verified: newVerifiedCache(),
		leeway:   s.Leeway,
		issuer:   s.Issuer,
		jtiName:  s.JTIClaim, typeName: s.TokenTypeClaim, uidName: s.UserIDClaim,
		audience: s.Audience,
	}
	f.issuerAny, f.audienceAny = f.issuer, f.audience
	fks := map[*Key]*fastKey{}
	fastKeyOf := func(key *Key) *fastKey {
		if fk, ok := fks[key]; ok {
			return fk
		}
		secret, ok := key.verifier.([]byte)
		m, isHMACMethod := jwt.GetSigningMethod(key.Algorithm).(*jwt.SigningMethodHMAC)
		if !ok || len(secret) == 0 || !isHMAC(key.Algorithm) || !isHMACMethod || !m.Hash.Available() {
			fks[key] = nil
			return nil
		}
		secret = slices.Clone(secret)
		newHash := m.Hash.New
		fk := &fastKey{size: m.Hash.Size()}
		fk.pool.New = func() any { return hmac.New(newHash, secret) }
		fks[key] = fk
		return fk
	}
	if k.current != nil {
		f.signer = fastKeyOf(k.current)
	}
	add := func(header string, kid string, keys []*Key) {
		// The header must read as the slow path reads it.
		var h map[string]any
		if err := json.Unmarshal([]byte(header), &h); err != nil || checkObject([]byte(header), true) != nil ||
			h["alg"] != keys[0].Algorithm || h["typ"] != "JWT" || (kid == "") != (h["kid"] == nil) ||
			(kid != "" && h["kid"] != kid) {
			return
		}
		seg := base64.RawURLEncoding.EncodeToString([]byte(header))
		if slices.ContainsFunc(f.headers, func(h fastHeader) bool { return h.seg == seg }) {
			return
		}
		var fk []*fastKey
		for _, key := range keys {
			x := fastKeyOf(key)
			if x == nil {
				return
			}
			fk = append(fk, x)
		}
		f.headers = append(f.headers, fastHeader{seg: seg, keys: fk})
	}
	for _, key := range k.keys {
		if !isHMAC(key.Algorithm) {
			continue
		}
		alg := key.Algorithm
		// No kid: keyFor tries every key of the algorithm.
		var same []*Key
		for _, o := range k.keys {
			if o.Algorithm == alg {
				same = append(same, o)
			}
		}
		add(`{"alg":"`+alg+`","typ":"JWT"}`, "", same)
		// A kid: keyFor takes the key of that id, if of the algorithm.
		if t := k.byID[key.ID]; t != nil && t.Algorithm == alg && key.ID != "" && !strings.ContainsAny(key.ID, `"\`) {
			add(`{"alg":"`+alg+`","kid":"`+key.ID+`","typ":"JWT"}`, key.ID, []*Key{t})
		}
	}
	if len(f.headers) == 0 {
		return nil
	}
	return f
}

// maxFastExtra is how many claims outside those the fast path reads a
// token may have before it is left to the slow path.
const maxFastExtra = 16

// rawClaims are the raw JSON values of the claims the fast path reads
// (nil when absent), and the names and values of the members that go into
// Extra.
type rawClaims struct {
	exp, nbf, iat, iss, aud, jti, typ, uid, sid []byte
	extra                                       [maxFastExtra][2][]byte
	nextra                                      int
}

// decode is codec.decode for a token whose header is one of f.headers; it
// returns errSlowPath for any other token, and for any it does not fully
// understand.
func (f *fastPath) decode(k *codec, raw string, want TokenType) (*Claims, error) {
	if raw == "" || len(raw) > MaxTokenLength {
		return nil, errSlowPath
	}
	now := k.now()
	if c := f.verified.get(raw, want, now, f.leeway); c != nil {
		return c, nil
	}
	// The header is a known one; then come two non-empty parts, which the
	// strict decodings below check are base64url, but for the line breaks
	// they skip. This is splitCompact's check, without a pass over the
	// token; what fails it is left to the slow path and its errors.
	first := strings.IndexByte(raw, '.')
	if first < 1 {
		return nil, errSlowPath
	}
	var keys []*fastKey
	for i := range f.headers {
		if f.headers[i].seg == raw[:first] {
			keys = f.headers[i].keys
			break
		}
	}
	if keys == nil {
		return nil, errSlowPath
	}
	second := strings.IndexByte(raw[first+1:], '.') + first + 1
	if second < first+2 || second == len(raw)-1 || strings.IndexByte(raw[second+1:], '.') >= 0 ||
		strings.IndexByte(raw[first+1:], '\n') >= 0 || strings.IndexByte(raw[first+1:], '\r') >= 0 {
		return nil, errSlowPath
	}

	// The buffer: the token, its decoded payload, its decoded signature,
	// the MAC, and room for the strings of the claims.
	plen := strictB64.DecodedLen(second - first - 1)
	slen := strictB64.DecodedLen(len(raw) - second - 1)
	need := len(raw) + plen + slen + 64 + plen
	bp := fastBufs.Get().(*[]byte)
	defer fastBufs.Put(bp)
	if cap(*bp) < need {
		*bp = make([]byte, 0, need)
	}
	buf := (*bp)[:need]
	tok := buf[:len(raw)]
	copy(tok, raw)
	rest := buf[len(raw):]

	// As checkCompact: the payload is base64url of one JSON object, in
	// UTF-8, with unique names (the header is known good). The parse is
	// strict, and leaves to the slow path what it does not take (and so
	// the refusal of anything malformed, with the slow path's error).
	n, err := strictB64.Decode(rest[:plen], tok[first+1:second])
	if err != nil {
		return nil, errSlowPath
	}
	payload := rest[:n:n]
	rest = rest[plen:]
	var rc rawClaims
	if !utf8.Valid(payload) || !f.parse(payload, &rc) {
		return nil, errSlowPath
	}

	// As golang-jwt: the signature, decoded, is the MAC of one of the keys.
	n, err = strictB64.Decode(rest[:slen], tok[second+1:])
	if err != nil {
		return nil, errSlowPath
	}
	sig := rest[:n:n]
	rest = rest[slen:]
	verified := false
	for _, key := range keys {
		if hmac.Equal(sig, key.mac(rest[:0:64], tok[:second])) {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errFastBadSignature
	}
	rest = rest[64:]

	if err := f.validate(&rc, now); err != nil {
		return nil, err
	}
	c, err := f.claims(&rc, want, rest[:0])
	if err == nil {
		f.verified.put(raw, c, &rc)
	}
	return c, err
}

// parse reads b, which must be exactly one JSON object (RFC 8259, as
// json.Valid reads it) with unique member names, into rc. It reports
// false for any other b, and for what it leaves to the slow path: a name
// with escapes, more than maxFastExtra other claims.
func (f *fastPath) parse(b []byte, rc *rawClaims) bool {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end, escaped := scanString(b, i)
		if end < 0 || escaped {
			return false
		}
		name := b[i+1 : end-1]
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return false
		}
		vs := skipSpace(b, i+1)
		ve := scanValue(b, vs)
		if ve < 0 || !f.member(rc, name, b[vs:ve]) {
			return false
		}
		if i = skipSpace(b, ve); i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// member puts one member into rc; false for a name seen before.
func (f *fastPath) member(rc *rawClaims, name, v []byte) bool {
	var slot *[]byte
	toExtra := false
	switch string(name) {
	case "exp":
		slot = &rc.exp
	case "iat":
		slot = &rc.iat
	case SessionClaim:
		slot = &rc.sid
	case f.jtiName:
		slot = &rc.jti
	case f.typeName:
		slot = &rc.typ
	case f.uidName:
		slot = &rc.uid
	case "nbf":
		slot, toExtra = &rc.nbf, true
	case "iss":
		slot, toExtra = &rc.iss, true
	case "aud":
		slot, toExtra = &rc.aud, true
	default:
		toExtra = true
		for _, e := range rc.extra[:rc.nextra] {
			if bytes.Equal(e[0], name) {
				return false
			}
		}
	}
	if slot != nil {
		if *slot != nil {
			return false
		}
		*slot = v
	}
	if toExtra {
		if rc.nextra == maxFastExtra {
			return false
		}
		rc.extra[rc.nextra] = [2][]byte{name, v}
		rc.nextra++
	}
	return true
}

// scanString returns the index just past the JSON string that starts at
// b[i], and whether it has escapes; -1 if it is not a valid string (an
// unknown escape, a control character, no end). UTF-8 is checked apart.
func scanString(b []byte, i int) (end int, escaped bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped
		case c == '\\':
			escaped = true
			if j++; j >= len(b) {
				return -1, escaped
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return -1, escaped
				}
				for _, h := range b[j+1 : j+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1, escaped
					}
				}
				j += 4
			default:
				return -1, escaped
			}
		case c < 0x20:
			return -1, escaped
		}
	}
	return -1, escaped
}

// scanValue returns the index just past the JSON value that starts at
// b[i], or -1 if there is no valid one. A number or literal must then be
// followed by a delimiter, which the caller checks.
func scanValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		end, _ := scanString(b, i)
		return end
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '{' || c == '[':
		// Nested values: delimited by skipValue, then checked whole by
		// json.Valid (a valid value is valid anywhere; and skipValue
		// delimits valid JSON right).
		end := skipValue(b, i)
		if end < 0 || !json.Valid(b[i:end]) {
			return -1
		}
		return end
	}
	return -1
}

func literal(b []byte, i int, lit string) int {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return -1
	}
	return i + len(lit)
}

// scanNumber returns the index just past the JSON number at b[i], or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) int {
	digits := func(j int) int {
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		return j
	}
	j := i
	if b[j] == '-' {
		j++
	}
	switch {
	case j >= len(b):
		return -1
	case b[j] == '0':
		j++
	case '1' <= b[j] && b[j] <= '9':
		j = digits(j)
	default:
		return -1
	}
	if j < len(b) && b[j] == '.' {
		k := digits(j + 1)
		if k == j+1 {
			return -1
		}
		j = k
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := digits(j)
		if k == j {
			return -1
		}
		j = k
	}
	return j
}

// claimErrors joins validation errors as golang-jwt does.
type claimErrors []error

func (e claimErrors) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, ", ")
}

func (e claimErrors) Unwrap() []error { return e }

// validate checks the registered claims as the slow path's golang-jwt
// Validator does (with MapClaims and JSON numbers): exp, nbf and iat,
// when present, are numbers and now is before exp and not before nbf and
// iat, give or take the leeway; iss and aud, when configured, are present
// and match.
func (f *fastPath) validate(rc *rawClaims, now time.Time) error {
	var errs claimErrors
	if rc.exp != nil {
		if !isNumber(rc.exp) {
			errs = append(errs, invalidType("exp"))
		} else if !now.Before(numericDate(rc.exp).Add(+f.leeway)) {
			errs = append(errs, jwt.ErrTokenExpired)
		}
	}
	if rc.nbf != nil {
		if !isNumber(rc.nbf) {
			errs = append(errs, invalidType("nbf"))
		} else if now.Before(numericDate(rc.nbf).Add(-f.leeway)) {
			errs = append(errs, jwt.ErrTokenNotValidYet)
		}
	}
	if rc.iat != nil {
		if !isNumber(rc.iat) {
			errs = append(errs, invalidType("iat"))
		} else if now.Before(numericDate(rc.iat).Add(-f.leeway)) {
			errs = append(errs, jwt.ErrTokenUsedBeforeIssued)
		}
	}
	if f.audience != "" {
		// MapClaims: a string, or an array of strings (left to the slow
		// path); any other type reads as no audience.
		switch {
		case rc.aud != nil && rc.aud[0] == '[':
			return errSlowPath
		case rc.aud == nil || rc.aud[0] != '"':
			errs = append(errs, required("aud"))
		default:
			if s := jsonString(rc.aud); len(s) == 0 {
				errs = append(errs, required("aud"))
			} else if string(s) != f.audience {
				errs = append(errs, jwt.ErrTokenInvalidAudience)
			}
		}
	}
	if f.issuer != "" {
		switch {
		case rc.iss == nil:
			errs = append(errs, required("iss"))
		case rc.iss[0] != '"':
			errs = append(errs, invalidType("iss"))
		default:
			if s := jsonString(rc.iss); len(s) == 0 {
				errs = append(errs, required("iss"))
			} else if string(s) != f.issuer {
				errs = append(errs, jwt.ErrTokenInvalidIssuer)
			}
		}
	}
	switch {
	case len(errs) == 0:
		return nil
	case len(errs) == 1 && errs[0] == jwt.ErrTokenExpired:
		return errFastExpired
	}
	return fmt.Errorf("%w: %w: %w", ErrTokenInvalid, jwt.ErrTokenInvalidClaims, errs)
}

// The fast path's most common refusals, made once: the slow path's
// errors, in text and in what they wrap.
var (
	errFastBadSignature = fmt.Errorf("%w: %w: %w", ErrTokenInvalid, jwt.ErrTokenSignatureInvalid, jwt.ErrSignatureInvalid)
	errFastExpired      = fmt.Errorf("%w: %w: %w", ErrTokenInvalid, jwt.ErrTokenInvalidClaims, claimErrors{jwt.ErrTokenExpired})
)

func invalidType(claim string) error {
	return fmt.Errorf("%w: %s is invalid", jwt.ErrInvalidType, claim)
}

func required(claim string) error {
	return fmt.Errorf("%w: %s claim is required", jwt.ErrTokenRequiredClaimMissing, claim)
}

// claims makes the Claims of a validated token as decodeSlow does,
// refusing what it refuses in the same order; scratch is room for the
// strings.
func (f *fastPath) claims(rc *rawClaims, want TokenType, scratch []byte) (*Claims, error) {
	if rc.exp == nil {
		return nil, ErrTokenNoExp
	}
	exp, err := intClaimRaw(rc.exp)
	if err != nil {
		return nil, fmt.Errorf("%w: exp: %w", ErrTokenInvalid, err)
	}
	if rc.jti == nil {
		return nil, ErrTokenNoID
	}
	var jti []byte
	if rc.jti[0] == '"' {
		jti = jsonString(rc.jti)
	}
	if len(jti) == 0 {
		return nil, fmt.Errorf("%w: jti is not a string", ErrTokenInvalid)
	}
	var typ []byte
	typIsString := rc.typ != nil && rc.typ[0] == '"'
	if typIsString {
		typ = jsonString(rc.typ)
	}
	if want != "" {
		if rc.typ == nil {
			return nil, ErrTokenNoType
		}
		if !typIsString || string(typ) != string(want) {
			return nil, ErrTokenWrongType
		}
	}
	var iat int64
	if rc.iat != nil {
		if iat, err = intClaimRaw(rc.iat); err != nil {
			return nil, fmt.Errorf("%w: iat: %w", ErrTokenInvalid, err)
		}
	}
	var sid []byte
	if rc.sid != nil {
		if rc.sid[0] != '"' {
			return nil, fmt.Errorf("%w: sid is not a string", ErrTokenInvalid)
		}
		sid = jsonString(rc.sid)
	}
	c := &Claims{ExpiresAt: exp, IssuedAt: iat}
	if rc.uid != nil {
		c.UserID, c.HasUser = userIDRaw(rc.uid)
	}
	switch {
	case !typIsString:
	case string(typ) == string(AccessToken):
		c.Type = AccessToken
	case string(typ) == string(RefreshToken):
		c.Type = RefreshToken
	case string(typ) == string(SlidingToken):
		c.Type = SlidingToken
	default:
		c.Type = TokenType(typ)
	}
	// jti and sid share one allocation.
	s := string(append(append(scratch, jti...), sid...))
	c.JTI, c.SessionID = s[:len(jti)], s[len(jti):]
	if rc.nextra == 0 {
		c.Extra = map[string]any{}
		return c, nil
	}
	c.Extra = make(map[string]any, rc.nextra)
	for _, e := range rc.extra[:rc.nextra] {
		v, ok := f.value(e[1])
		if !ok {
			return nil, errSlowPath
		}
		c.Extra[claimName(e[0])] = v
	}
	return c, nil
}

// claimName returns name as a string, without allocating for the
// registered claims that go into Extra.
func claimName(name []byte) string {
	switch string(name) {
	case "iss":
		return "iss"
	case "aud":
		return "aud"
	case "nbf":
		return "nbf"
	case "sub":
		return "sub"
	case refreshExpClaim:
		return refreshExpClaim
	}
	return string(name)
}

// value decodes a JSON value as encoding/json does into an any, with
// UseNumber.
func (f *fastPath) value(v []byte) (any, bool) {
	switch v[0] {
	case '"':
		s := jsonString(v)
		switch {
		case f.issuer != "" && string(s) == f.issuer:
			return f.issuerAny, true
		case f.audience != "" && string(s) == f.audience:
			return f.audienceAny, true
		}
		return string(s), true
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return nil, true
	case '{', '[':
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			return nil, false
		}
		return x, true
	}
	return json.Number(v), true
}

// jsonString returns the contents of v, a JSON string json.Valid
// accepted, decoded; without escapes, a slice of v.
func jsonString(v []byte) []byte {
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	var d string
	if err := json.Unmarshal(v, &d); err != nil {
		return nil
	}
	return []byte(d)
}

func isNumber(v []byte) bool { return v[0] == '-' || '0' <= v[0] && v[0] <= '9' }

// smallInt parses v when it is an optional minus and 1 to digits decimal
// digits (at most 18, so that it cannot overflow).
func smallInt(v []byte, digits int) (int64, bool) {
	neg := len(v) > 0 && v[0] == '-'
	d := v
	if neg {
		d = v[1:]
	}
	if len(d) == 0 || len(d) > digits {
		return 0, false
	}
	var n int64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// numericDate is golang-jwt's reading of a JSON number as a NumericDate:
// json.Number.Float64, its error ignored, then newNumericDateFromSeconds.
func numericDate(v []byte) time.Time {
	var sec float64
	if n, ok := smallInt(v, 15); ok { // exact in a float64: ParseFloat's value
		sec = float64(n)
	} else {
		sec, _ = strconv.ParseFloat(string(v), 64)
	}
	round, frac := math.Modf(sec)
	return time.Unix(int64(round), int64(frac*1e9)).Truncate(jwt.TimePrecision)
}

// intClaimRaw is intClaim of a raw JSON value.
func intClaimRaw(v []byte) (int64, error) {
	if !isNumber(v) {
		return 0, errors.New("not a number")
	}
	if n, ok := smallInt(v, 18); ok {
		return n, nil
	}
	return intClaim(json.Number(v))
}

// userIDRaw is userID of a raw JSON value.
func userIDRaw(v []byte) (int64, bool) {
	switch {
	case isNumber(v):
		if n, ok := smallInt(v, 18); ok {
			return n, true
		}
		return userID(json.Number(v))
	case v[0] == '"':
		s := jsonString(v)
		if n, ok := smallInt(s, 18); ok {
			return n, true
		}
		return userID(string(s))
	}
	return 0, false
}
