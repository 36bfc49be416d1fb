package redis

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/jwtrevoke/jwtrevoke"
)

// revJSON is a revocation as stored and published: times as Unix
// milliseconds in decimal strings ("" for none), so Lua keeps them exact.
type revJSON struct {
	Seq       string `json:"seq,omitempty"`
	SessionID string `json:"session_id"`
	JTI       string `json:"jti"`
	UserID    string `json:"user_id"`
	NotBefore string `json:"not_before"`
	ExpiresAt string `json:"expires_at"`
	Reason    string `json:"reason"`
	CreatedAt string `json:"created_at"`
	// Audit asks the script to add the revocation to the user's audit
	// trail (AuditUntil set); the script strips it before storing and
	// publishing the revocation.
	Audit *auditJSON `json:"audit,omitempty"`
}

// auditJSON is what an audit entry adds to its revocation.
type auditJSON struct {
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	KeepUntil string `json:"keep_until"`
}

// auditEntryJSON is an audit entry as stored in audit:<user> (after the
// zero-padded seq and "|"), times as in revJSON.
type auditEntryJSON struct {
	revJSON
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	KeepUntil string `json:"keep_until"`
}

func decodeAuditEntry(member string) (jwtrevoke.Revocation, error) {
	_, js, ok := strings.Cut(member, "|")
	if !ok {
		return jwtrevoke.Revocation{}, fmt.Errorf("decode audit entry %q", member)
	}
	var j auditEntryJSON
	if err := json.Unmarshal([]byte(js), &j); err != nil {
		return jwtrevoke.Revocation{}, fmt.Errorf("decode audit entry: %w", err)
	}
	r, err := j.rev()
	if err != nil {
		return r, fmt.Errorf("decode audit entry: %w", err)
	}
	r.IP, r.UserAgent = j.IP, j.UserAgent
	if r.AuditUntil, err = fromMS(j.KeepUntil); err != nil {
		return r, fmt.Errorf("decode audit entry: %w", err)
	}
	return r, nil
}

func encodeRev(r jwtrevoke.Revocation, now time.Time) revJSON {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	j := revJSON{SessionID: r.SessionID, JTI: r.JTI, UserID: strconv.FormatInt(r.UserID, 10),
		ExpiresAt: ms(r.ExpiresAt), Reason: r.Reason, CreatedAt: ms(r.CreatedAt)}
	if !r.NotBefore.IsZero() {
		j.NotBefore = ms(r.NotBefore)
	}
	if !r.AuditUntil.IsZero() {
		j.Audit = &auditJSON{IP: r.IP, UserAgent: r.UserAgent, KeepUntil: ms(r.AuditUntil)}
	}
	return j
}

// DecodeRevocation reads a revocation as published on Channel.
func DecodeRevocation(b []byte) (jwtrevoke.Revocation, error) {
	return decodeRevocation(string(b))
}

// decodeRevocation is DecodeRevocation of a reply's string, not copied.
func decodeRevocation(b string) (jwtrevoke.Revocation, error) {
	j, err := parseRev(b)
	if err != nil {
		return jwtrevoke.Revocation{}, fmt.Errorf("decode revocation: %w", err)
	}
	return j.rev()
}

// revParsers are fastjson's parsers, reused, for the objects scanRev
// leaves to it: fastjson reads one of these flat objects several times
// faster than encoding/json's reflection.
var revParsers fastjson.ParserPool

// parseRev reads a stored revocation's JSON object into a revJSON as
// json.Unmarshal would: unknown members and nulls are ignored, a later
// duplicate wins, and a member of another type than string is an error.
func parseRev(b string) (revJSON, error) {
	var j revJSON
	if strings.IndexByte(b, '\\') >= 0 {
		// escapes (not in what the stores write: ids are hex) are left to
		// encoding/json, which refuses bad ones and decodes lone
		// surrogates as U+FFFD
		err := json.Unmarshal([]byte(b), &j)
		return j, err
	}
	if j, ok := scanRev(b); ok {
		return j, nil
	}
	if err := fastjson.Validate(b); err != nil {
		return j, err // the parser below reads numbers lazily
	}
	p := revParsers.Get()
	defer revParsers.Put(p)
	v, err := p.Parse(b)
	if err != nil {
		return j, err
	}
	if v.Type() == fastjson.TypeNull {
		return j, nil
	}
	o, err := v.Object()
	if err != nil {
		return j, err
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		dst := j.member(string(k))
		if dst == nil {
			return
		}
		if err != nil || v.Type() == fastjson.TypeNull {
			return
		}
		s, e := v.StringBytes()
		if e != nil {
			err = fmt.Errorf("member %q: %w", k, e)
			return
		}
		*dst = string(s)
	})
	return j, err
}

// scanRev is parseRev's fast path for what the stores write: one flat
// object whose members are strings or null, without escapes (parseRev
// has checked that b holds no backslash). It reports false for anything
// else, which parseRev leaves to fastjson. The strings are b's own, not
// copied: a load of 1e6 revocations made 8e6 copies through fastjson
// (1.6 µs a revocation in BenchmarkDecodeRevocation).
func scanRev(b string) (j revJSON, ok bool) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return j, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return j, skipSpace(b, i+1) == len(b)
	}
	for {
		k, next, ok := scanString(b, i)
		if !ok {
			return j, false
		}
		i = skipSpace(b, next)
		if i == len(b) || b[i] != ':' {
			return j, false
		}
		i = skipSpace(b, i+1)
		if strings.HasPrefix(b[i:], "null") {
			i += len("null") // a null leaves the member as it is, as json.Unmarshal does
		} else {
			v, next, ok := scanString(b, i)
			if !ok {
				return j, false
			}
			if dst := j.member(k); dst != nil {
				*dst = v
			}
			i = next
		}
		i = skipSpace(b, i)
		if i == len(b) {
			return j, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return j, skipSpace(b, i+1) == len(b)
		default:
			return j, false
		}
	}
}

// scanString reads the JSON string without escapes that starts at b[i]:
// its contents and the index after it; false if there is none (JSON
// allows no control character in a string).
func scanString(b string, i int) (string, int, bool) {
	if i == len(b) || b[i] != '"' {
		return "", i, false
	}
	for k := i + 1; k < len(b); k++ {
		switch c := b[k]; {
		case c == '"':
			return b[i+1 : k], k + 1, true
		case c < 0x20:
			return "", i, false
		}
	}
	return "", i, false
}

// skipSpace returns the index of the first byte at or after i that is
// not JSON whitespace.
func skipSpace(b string, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// member is the field of j that the member named k decodes into, or nil.
func (j *revJSON) member(k string) *string {
	switch k {
	case "seq":
		return &j.Seq
	case "session_id":
		return &j.SessionID
	case "jti":
		return &j.JTI
	case "user_id":
		return &j.UserID
	case "not_before":
		return &j.NotBefore
	case "expires_at":
		return &j.ExpiresAt
	case "reason":
		return &j.Reason
	case "created_at":
		return &j.CreatedAt
	}
	return nil
}

func (j revJSON) rev() (jwtrevoke.Revocation, error) {
	r := jwtrevoke.Revocation{SessionID: j.SessionID, JTI: j.JTI, Reason: j.Reason}
	var err error
	if r.Seq, err = strconv.ParseInt(j.Seq, 10, 64); err != nil {
		return r, fmt.Errorf("decode revocation: seq %q", j.Seq)
	}
	if r.UserID, err = strconv.ParseInt(j.UserID, 10, 64); err != nil {
		return r, fmt.Errorf("decode revocation: user %q", j.UserID)
	}
	if r.ExpiresAt, err = fromMS(j.ExpiresAt); err != nil {
		return r, err
	}
	if r.CreatedAt, err = fromMS(j.CreatedAt); err != nil {
		return r, err
	}
	if j.NotBefore != "" {
		if r.NotBefore, err = fromMS(j.NotBefore); err != nil {
			return r, err
		}
	}
	return r, nil
}

func decodeAll(items []string) ([]jwtrevoke.Revocation, error) {
	out := make([]jwtrevoke.Revocation, 0, len(items))
	for _, it := range items {
		r, err := DecodeRevocation([]byte(it))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// rotJSON is a rotation as stored under rot:<old jti>, times as in revJSON.
type rotJSON struct {
	OldJTI         string `json:"old_jti"`
	BlacklistOld   bool   `json:"blacklist_old"`
	NextJTI        string `json:"next_jti"`
	NextToken      string `json:"next_token"`
	NextUserID     string `json:"next_user_id"`
	NextCreatedAt  string `json:"next_created_at"`
	NextExpiresAt  string `json:"next_expires_at"`
	Access         string `json:"access_token"`
	SessionID      string `json:"session_id"`
	SessionExpires string `json:"session_expires"`
	RotatedAt      string `json:"rotated_at"`
	ExpiresAt      string `json:"expires_at"` // the old token's expiry
}

func encodeRotation(r jwtrevoke.Rotation) rotJSON {
	return rotJSON{OldJTI: r.Old.JTI, BlacklistOld: r.BlacklistOld, NextJTI: r.Next.JTI, NextToken: r.Next.Token,
		NextUserID: optID(r.Next.UserID), NextCreatedAt: optMS(r.Next.CreatedAt), NextExpiresAt: ms(r.Next.ExpiresAt),
		Access: r.Access, SessionID: r.SessionID, SessionExpires: ms(r.SessionExpires), RotatedAt: ms(r.RotatedAt),
		ExpiresAt: ms(r.Old.ExpiresAt)}
}

// decodeRotation reads a stored rotation of old (the token presented: same
// jti).
func decodeRotation(b []byte, old jwtrevoke.OutstandingToken) (jwtrevoke.Rotation, error) {
	var j rotJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return jwtrevoke.Rotation{}, fmt.Errorf("decode rotation: %w", err)
	}
	r := jwtrevoke.Rotation{Old: old, BlacklistOld: j.BlacklistOld, Access: j.Access, SessionID: j.SessionID,
		Next: jwtrevoke.OutstandingToken{JTI: j.NextJTI, Token: j.NextToken}}
	var err error
	if j.NextUserID != "" {
		v, err := strconv.ParseInt(j.NextUserID, 10, 64)
		if err != nil {
			return r, fmt.Errorf("decode rotation: user %q", j.NextUserID)
		}
		r.Next.UserID = &v
	}
	if j.NextCreatedAt != "" {
		t, err := fromMS(j.NextCreatedAt)
		if err != nil {
			return r, fmt.Errorf("decode rotation: %w", err)
		}
		r.Next.CreatedAt = &t
	}
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&r.Next.ExpiresAt, j.NextExpiresAt}, {&r.SessionExpires, j.SessionExpires}, {&r.RotatedAt, j.RotatedAt}} {
		if *f.dst, err = fromMS(f.src); err != nil {
			return r, fmt.Errorf("decode rotation: %w", err)
		}
	}
	return r, nil
}
