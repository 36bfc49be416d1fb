package jwtrevoke

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/denylist"
)

// Staff sign-ins: the admin pages (package admin) let staff users in with
// their email and password, and keep each sign-in as a Session of the
// staff user in the store, so that it is revoked, listed and synchronised
// between instances like any login.

// StaffSessionToken is the Token of the outstanding row that records a
// staff sign-in (TokenStore.IssueSession needs one): not a JWT, it
// authenticates nothing and cannot be refreshed or blacklisted through the
// API. Its JTI is the session's id.
const StaffSessionToken = "jwtrevoke:staff-session"

// ErrStaffSession means a staff session credential is malformed, unknown,
// expired or revoked, or its user is no longer an active staff user. The
// cause is deliberately not told.
var ErrStaffSession = errors.New("staff session is not valid")

// staffSecretBytes is the length of the secret half of a credential.
const staffSecretBytes = 32

// IsStaffUser reports whether u may use the admin pages: an active staff
// user or superuser.
func IsStaffUser(u *User) bool {
	return u != nil && u.IsActive && (u.IsStaff || u.IsSuperuser)
}

// CheckStaff checks the credentials of a staff sign-in exactly as a login
// (Obtain) checks them: the same per-IP and per-account rate limits
// (*ThrottledError), the same password check and the same work for an
// unknown email. A wrong email or password, an inactive user and a user
// who is neither staff nor superuser all give ErrNoActiveAccount (and a
// refused user's last login is not updated).
func (s *Service) CheckStaff(ctx context.Context, email, password string, info ClientInfo) (*User, error) {
	u, _, err := s.login(ctx, email, password, info, IsStaffUser)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Now returns the service's current time (Options.Now).
func (s *Service) Now() time.Time { return s.now() }

// StartStaffSession records a sign-in of staff user u lasting lifetime
// (its absolute limit): a Session of u in the store, with info's address
// and user agent, and returns it with the credential that proves it, for
// the admin pages' cookie. The credential is "<user id>.<session id>.<secret>";
// the session id is time-ordered like a login's (so a later logout-all
// revokes it) and its random half is a hash of the secret, so the store
// never holds what the credential needs.
func (s *Service) StartStaffSession(ctx context.Context, u *User, lifetime time.Duration, info ClientInfo) (string, Session, error) {
	if !IsStaffUser(u) {
		return "", Session{}, ErrNoActiveAccount
	}
	if lifetime <= 0 {
		return "", Session{}, errors.New("staff session: the lifetime must be positive")
	}
	var secret [staffSecretBytes]byte
	_, _ = rand.Read(secret[:])
	now := s.now()
	created := time.UnixMilli(now.UnixMilli()).UTC()
	sid := staffSessionID(created.UnixMilli(), secret[:])
	sess := Session{
		ID: sid, UserID: u.ID, CreatedAt: created, ExpiresAt: created.Add(lifetime),
		IP: info.IP, UserAgent: info.UserAgent,
	}
	uid := u.ID
	row := OutstandingToken{UserID: &uid, JTI: sid, Token: StaffSessionToken, CreatedAt: &created, ExpiresAt: sess.ExpiresAt}
	if err := s.store.IssueSession(ctx, row, sess); err != nil {
		return "", Session{}, fmt.Errorf("staff session: %w", err)
	}
	cred := strconv.FormatInt(u.ID, 10) + "." + sid + "." + base64.RawURLEncoding.EncodeToString(secret[:])
	return cred, sess, nil
}

// StaffSession checks a credential from StartStaffSession and returns its
// user and session. It asks the store each time, so that a session ended,
// revoked (logout-all, deactivation, a session ended through the API, its
// row blacklisted by SimpleJWT's admin) or expired on any instance stops
// working at once; the revocations held in memory are checked too. Every
// refusal is ErrStaffSession; other errors mean the store did not answer.
func (s *Service) StaffSession(ctx context.Context, credential string) (*User, Session, error) {
	uid, sid, ok := parseStaffCredential(credential)
	if !ok {
		return nil, Session{}, ErrStaffSession
	}
	ms, _ := denylist.SessionTime(sid)
	if s.deny.Revoked(sid, sid, uid, ms/1000) {
		return nil, Session{}, ErrStaffSession
	}
	u, err := s.store.UserByID(ctx, uid)
	if errors.Is(err, ErrNotFound) {
		return nil, Session{}, ErrStaffSession
	}
	if err != nil {
		return nil, Session{}, fmt.Errorf("staff session: %w", err)
	}
	if !IsStaffUser(u) {
		return nil, Session{}, ErrStaffSession
	}
	sess, found, err := s.liveSession(ctx, uid, sid)
	if err != nil {
		return nil, Session{}, err
	}
	if !found {
		return nil, Session{}, ErrStaffSession
	}
	black, err := s.store.IsBlacklisted(ctx, sid)
	if err != nil {
		return nil, Session{}, fmt.Errorf("staff session: %w", err)
	}
	if black {
		return nil, Session{}, ErrStaffSession
	}
	return u, sess, nil
}

// EndStaffSession ends a staff session: the session is revoked on every
// instance, for reason (such as "admin_signout"), recorded in the audit
// trail. A credential whose session is already over gives nil; a
// malformed one ErrStaffSession.
func (s *Service) EndStaffSession(ctx context.Context, credential, reason string) error {
	uid, sid, ok := parseStaffCredential(credential)
	if !ok {
		return ErrStaffSession
	}
	sess, found, err := s.liveSession(ctx, uid, sid)
	if err != nil || !found {
		return err
	}
	now := s.now()
	got, err := s.store.RevokeSession(ctx, s.audited(ctx, Revocation{
		SessionID: sid, UserID: uid, ExpiresAt: sess.ExpiresAt, Reason: reason, CreatedAt: now.UTC(),
	}))
	if err != nil {
		return fmt.Errorf("end staff session: %w", err)
	}
	s.applyRecorded(got)
	return nil
}

// liveSession finds session sid of user uid, unexpired and not revoked.
func (s *Service) liveSession(ctx context.Context, uid int64, sid string) (Session, bool, error) {
	all, err := s.store.Sessions(ctx, uid, s.now())
	if err != nil {
		return Session{}, false, fmt.Errorf("staff session: %w", err)
	}
	for _, ss := range all {
		if ss.ID == sid && ss.UserID == uid && ss.RevokedAt == nil {
			return ss, true, nil
		}
	}
	return Session{}, false, nil
}

// staffSessionID lays a session id out as newSessionID does (48 bits of
// milliseconds, version 7, variant), with a hash of secret for its random
// bits.
func staffSessionID(ms int64, secret []byte) string {
	h := sha256.Sum256(append([]byte("jwtrevoke staff session\x00"), secret...))
	var b [16]byte
	for i := range 6 {
		b[i] = byte(uint64(ms) >> (40 - 8*i))
	}
	copy(b[6:], h[:10])
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// parseStaffCredential splits a credential and checks that its session id
// is the one its secret and time give, in constant time.
func parseStaffCredential(cred string) (uid int64, sid string, ok bool) {
	idPart, rest, ok1 := strings.Cut(cred, ".")
	sid, secretPart, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return 0, "", false
	}
	uid, err := strconv.ParseInt(idPart, 10, 64)
	if err != nil || uid <= 0 {
		return 0, "", false
	}
	secret, err := base64.RawURLEncoding.DecodeString(secretPart)
	if err != nil || len(secret) != staffSecretBytes {
		return 0, "", false
	}
	ms, isTimed := denylist.SessionTime(sid)
	if !isTimed {
		return 0, "", false
	}
	if subtle.ConstantTimeCompare([]byte(staffSessionID(ms, secret)), []byte(sid)) != 1 {
		return 0, "", false
	}
	return uid, sid, true
}
