package redis

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

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
	return j
}

// DecodeRevocation reads a revocation as published on Channel.
func DecodeRevocation(b []byte) (jwtrevoke.Revocation, error) {
	var j revJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return jwtrevoke.Revocation{}, fmt.Errorf("decode revocation: %w", err)
	}
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
