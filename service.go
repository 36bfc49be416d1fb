package jwtrevoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/denylist"
)

// PasswordHasher hashes new passwords and checks stored hashes. The
// password package's Hasher implements it.
type PasswordHasher interface {
	Hash(password string) (string, error)
	// Check reports whether password matches encoded, and whether the hash
	// should be replaced by a fresh one (older algorithm or parameters).
	Check(password, encoded string) (ok, needsRehash bool, err error)
}

// Options are the optional parts of a Service.
type Options struct {
	Hasher PasswordHasher   // required
	Now    func() time.Time // defaults to time.Now
	Logger *slog.Logger     // defaults to slog.Default()
}

// ClientInfo describes where a login came from; it is kept with the session.
type ClientInfo struct {
	IP        string
	UserAgent string
}

// TokenPair is what a login returns, and what a refresh returns (Refresh is
// empty unless ROTATE_REFRESH_TOKENS is on).
type TokenPair struct {
	Refresh string
	Access  string
}

// Service runs the token flow over a Store. Revocations are mirrored in
// memory, so Authenticate never asks the store whether a token is revoked.
type Service struct {
	settings Settings
	store    Store
	hasher   PasswordHasher
	now      func() time.Time
	log      *slog.Logger
	codec    *codec
	deny     *denylist.Set

	sync syncState
	kick chan struct{} // asks Maintain for a Sync now

	dummyHash string // checked against when the email is unknown, to even out timing
}

// SigningKeySetting is the store setting that keeps a generated signing key.
const SigningKeySetting = "signing_key"

// New validates settings, loads (or generates and stores) the signing key,
// and loads every unexpired revocation from the store.
func New(ctx context.Context, store Store, settings Settings, opts Options) (*Service, error) {
	if err := settings.Validate(); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	if opts.Hasher == nil {
		return nil, errors.New("jwtrevoke: Options.Hasher is required")
	}
	s := &Service{
		settings: settings,
		store:    store,
		hasher:   opts.Hasher,
		now:      opts.Now,
		log:      opts.Logger,
		deny:     denylist.New(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	key := settings.SigningKey
	if key == "" {
		var b [64]byte
		_, _ = rand.Read(b[:])
		var err error
		key, err = store.Setting(ctx, SigningKeySetting, hex.EncodeToString(b[:]))
		if err != nil {
			return nil, fmt.Errorf("load generated signing key: %w", err)
		}
		s.log.Warn("SIGNING_KEY is not set: using a key generated once and kept in the store; set SIGNING_KEY to share tokens with other services")
	}
	if len(key) < minKeyBytes[settings.Algorithm] {
		return nil, fmt.Errorf("stored signing key is too short for %s", settings.Algorithm)
	}
	c, err := newCodec(settings, []byte(key), s.now)
	if err != nil {
		return nil, err
	}
	s.codec = c
	if s.dummyHash, err = s.hasher.Hash(newJTI()); err != nil {
		return nil, fmt.Errorf("hash: %w", err)
	}
	s.kick = make(chan struct{}, 1)
	if _, err := s.Sync(ctx); err != nil {
		return nil, fmt.Errorf("load revocations: %w", err)
	}
	return s, nil
}

// Settings returns the service's settings.
func (s *Service) Settings() Settings { return s.settings }

// Store returns the service's store.
func (s *Service) Store() Store { return s.store }

func (s *Service) apply(revs []Revocation) {
	for _, r := range revs {
		exp := r.ExpiresAt.Unix()
		switch {
		case r.SessionID != "":
			s.deny.AddSession(r.SessionID, exp)
		case r.JTI != "":
			s.deny.AddToken(r.JTI, exp)
		case !r.NotBefore.IsZero():
			s.deny.AddUser(r.UserID, r.NotBefore.UnixMilli(), exp)
		}
	}
}

// RevocationCount returns how many revocations are held in memory.
func (s *Service) RevocationCount() int { return s.deny.Len() }

// revoked reports whether c was revoked by logout, blacklist or logout-all.
func (s *Service) revoked(c *Claims) bool {
	return s.deny.Revoked(sessionOf(c), c.JTI, c.UserID, c.IssuedAt)
}

// sessionOf returns the session a token belongs to: its sid claim, or,
// for a token issued elsewhere (SimpleJWT) without one, the pair (user,
// iat) that SimpleJWT's access tokens share with the refresh token they
// come from (it copies iat). Two SimpleJWT logins of one user in the same
// second share that session, so logging out of one also logs out of the
// other: revocation errs on the safe side.
func sessionOf(c *Claims) string {
	if c.SessionID != "" {
		return c.SessionID
	}
	if c.HasUser && c.IssuedAt != 0 {
		return "simplejwt:" + strconv.FormatInt(c.UserID, 10) + ":" + strconv.FormatInt(c.IssuedAt, 10)
	}
	return c.JTI
}

func (s *Service) mintAccess(from *Claims, now time.Time) (string, error) {
	a := *from
	a.Type = AccessToken
	a.JTI = newJTI()
	a.ExpiresAt = now.Add(s.settings.AccessTokenLifetime).Unix()
	a.SessionID = sessionOf(from)
	return s.codec.encode(&a)
}

func (s *Service) outstanding(c *Claims, raw string, created *time.Time) OutstandingToken {
	t := OutstandingToken{JTI: c.JTI, Token: raw, CreatedAt: created, ExpiresAt: c.Expires()}
	if c.HasUser {
		id := c.UserID
		t.UserID = &id
	}
	return t
}

// CreateUser hashes password and stores a new active user. Returns an error
// wrapping ErrExists if the email is taken (in any case).
func (s *Service) CreateUser(ctx context.Context, email, password string, staff bool) (*User, error) {
	email = strings.TrimSpace(email)
	if email == "" || !strings.Contains(email, "@") {
		return nil, fmt.Errorf("create user: %q is not an email address", email)
	}
	if password == "" {
		return nil, errors.New("create user: the password must not be empty")
	}
	h, err := s.hasher.Hash(password)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	u := &User{Email: email, PasswordHash: h, IsActive: true, IsStaff: staff, DateJoined: s.now().UTC()}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// Obtain logs a user in and returns a new session's token pair. A wrong
// email or password, or an inactive user, gives ErrNoActiveAccount.
func (s *Service) Obtain(ctx context.Context, email, password string, info ClientInfo) (TokenPair, error) {
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		_, _, _ = s.hasher.Check(password, s.dummyHash)
		return TokenPair{}, ErrNoActiveAccount
	}
	if err != nil {
		return TokenPair{}, fmt.Errorf("obtain: %w", err)
	}
	ok, rehash, err := s.hasher.Check(password, u.PasswordHash)
	if err != nil {
		s.log.Warn("unusable password hash", "user_id", u.ID, "err", err)
	}
	if !ok || !u.IsActive {
		return TokenPair{}, ErrNoActiveAccount
	}
	now := s.now()
	if rehash || s.settings.UpdateLastLogin {
		if rehash {
			if h, err := s.hasher.Hash(password); err == nil {
				u.PasswordHash = h
			}
		}
		if s.settings.UpdateLastLogin {
			t := now.UTC()
			u.LastLogin = &t
		}
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return TokenPair{}, fmt.Errorf("obtain: update user: %w", err)
		}
	}
	rc := &Claims{
		Type:      RefreshToken,
		ExpiresAt: now.Add(s.settings.RefreshTokenLifetime).Unix(),
		IssuedAt:  now.Unix(),
		JTI:       newJTI(),
		UserID:    u.ID,
		HasUser:   true,
		SessionID: newSessionID(now),
	}
	refresh, err := s.codec.encode(rc)
	if err != nil {
		return TokenPair{}, err
	}
	access, err := s.mintAccess(rc, now)
	if err != nil {
		return TokenPair{}, err
	}
	created := now.UTC()
	sess := Session{
		ID: rc.SessionID, UserID: u.ID, CreatedAt: created,
		ExpiresAt: rc.Expires().Add(s.settings.AccessTokenLifetime),
		IP:        info.IP, UserAgent: info.UserAgent,
	}
	if err := s.store.IssueSession(ctx, s.outstanding(rc, refresh, &created), sess); err != nil {
		return TokenPair{}, fmt.Errorf("obtain: %w", err)
	}
	return TokenPair{Refresh: refresh, Access: access}, nil
}

// checkUser loads the user a token names and refuses missing or inactive ones.
func (s *Service) checkUser(ctx context.Context, c *Claims) (*User, error) {
	if !c.HasUser {
		return nil, ErrTokenNoUser
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	if s.settings.CheckUserIsActive && !u.IsActive {
		return nil, ErrUserInactive
	}
	return u, nil
}

// parseRefresh decodes a refresh token and refuses it if it is blacklisted
// or its session or user was revoked.
func (s *Service) parseRefresh(ctx context.Context, raw string) (*Claims, error) {
	c, err := s.codec.decode(raw, RefreshToken)
	if err != nil {
		return nil, err
	}
	if s.revoked(c) {
		return nil, ErrTokenBlacklisted
	}
	black, err := s.store.IsBlacklisted(ctx, c.JTI)
	if err != nil {
		return nil, fmt.Errorf("check blacklist: %w", err)
	}
	if black {
		return nil, ErrTokenBlacklisted
	}
	return c, nil
}

// Refresh mints a new access token from a refresh token (and, with
// ROTATE_REFRESH_TOKENS, a new refresh token in the same session). Refresh
// tokens of missing or inactive users are refused.
func (s *Service) Refresh(ctx context.Context, raw string) (TokenPair, error) {
	c, err := s.parseRefresh(ctx, raw)
	if err != nil {
		return TokenPair{}, err
	}
	if _, err := s.checkUser(ctx, c); err != nil {
		return TokenPair{}, err
	}
	now := s.now()
	access, err := s.mintAccess(c, now)
	if err != nil {
		return TokenPair{}, err
	}
	if !s.settings.RotateRefreshTokens {
		return TokenPair{Access: access}, nil
	}
	next := *c
	next.JTI = newJTI()
	next.IssuedAt = now.Unix()
	next.ExpiresAt = now.Add(s.settings.RefreshTokenLifetime).Unix()
	next.SessionID = sessionOf(c)
	refresh, err := s.codec.encode(&next)
	if err != nil {
		return TokenPair{}, err
	}
	created := now.UTC()
	err = s.store.Rotate(ctx, s.outstanding(c, raw, nil), s.settings.BlacklistAfterRotation,
		s.outstanding(&next, refresh, &created), next.SessionID,
		next.Expires().Add(s.settings.AccessTokenLifetime))
	if errors.Is(err, ErrBlacklisted) {
		return TokenPair{}, ErrTokenBlacklisted
	}
	if err != nil {
		return TokenPair{}, fmt.Errorf("rotate: %w", err)
	}
	return TokenPair{Access: access, Refresh: refresh}, nil
}

// Verify checks any token: signature, expiry, jti, and that neither the
// token nor its session nor its user was revoked. The type is not checked,
// as SimpleJWT's verify endpoint does not check it.
func (s *Service) Verify(ctx context.Context, raw string) error {
	c, err := s.codec.decode(raw, "")
	if err != nil {
		return err
	}
	if s.sync.stale.Load() {
		return ErrRevocationsStale
	}
	if s.revoked(c) {
		return ErrTokenBlacklisted
	}
	black, err := s.store.IsBlacklisted(ctx, c.JTI)
	if err != nil {
		return fmt.Errorf("check blacklist: %w", err)
	}
	if black {
		return ErrTokenBlacklisted
	}
	return nil
}

// Authenticate checks an access token for a request: signature, expiry,
// type, revocation (in memory only), then loads its user. It returns
// token errors (ErrToken...), ErrUserNotFound, ErrUserInactive, or a store
// error, which the caller must treat as a refusal.
func (s *Service) Authenticate(ctx context.Context, raw string) (*User, *Claims, error) {
	c, err := s.codec.decode(raw, AccessToken)
	if err != nil {
		return nil, nil, err
	}
	if s.sync.stale.Load() {
		return nil, nil, ErrRevocationsStale
	}
	if s.revoked(c) {
		return nil, nil, ErrTokenBlacklisted
	}
	u, err := s.checkUser(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	return u, c, nil
}

// sessionRevocation revokes the session of refresh token c.
func (s *Service) sessionRevocation(c *Claims, reason string, now time.Time) Revocation {
	return Revocation{
		SessionID: sessionOf(c),
		UserID:    c.UserID,
		ExpiresAt: c.Expires().Add(s.settings.AccessTokenLifetime),
		Reason:    reason,
		CreatedAt: now.UTC(),
	}
}

func (s *Service) blacklist(ctx context.Context, c *Claims, raw string, revs ...Revocation) error {
	got, err := s.store.Blacklist(ctx, s.outstanding(c, raw, nil), revs...)
	if errors.Is(err, ErrBlacklisted) {
		return ErrTokenBlacklisted
	}
	if err != nil {
		return fmt.Errorf("blacklist: %w", err)
	}
	s.apply(got)
	return nil
}

// Blacklist blacklists a refresh token and revokes its whole session (the
// access tokens minted from it included). Anyone holding the token may do
// this, as with SimpleJWT's blacklist endpoint. A second call gives
// ErrTokenBlacklisted.
func (s *Service) Blacklist(ctx context.Context, raw string) error {
	c, err := s.parseRefresh(ctx, raw)
	if err != nil {
		return err
	}
	now := s.now()
	return s.blacklist(ctx, c, raw, s.sessionRevocation(c, "blacklist", now))
}

// Logout blacklists the caller's refresh token and revokes its session:
// the refresh token and every access token minted from it stop working at
// once, and so does the access token that made the call. The refresh token
// must belong to the caller (ErrForeignToken otherwise, revoking nothing).
func (s *Service) Logout(ctx context.Context, caller *Claims, raw string) error {
	c, err := s.parseRefresh(ctx, raw)
	if err != nil {
		return err
	}
	if !c.HasUser || c.UserID != caller.UserID {
		return ErrForeignToken
	}
	now := s.now()
	revs := []Revocation{s.sessionRevocation(c, "logout", now)}
	if caller.SessionID != sessionOf(c) {
		revs = append(revs, Revocation{
			JTI: caller.JTI, UserID: caller.UserID, ExpiresAt: caller.Expires(),
			Reason: "logout", CreatedAt: now.UTC(),
		})
	}
	return s.blacklist(ctx, c, raw, revs...)
}

// LogoutAll revokes every session of the caller's user: all refresh tokens
// are blacklisted, and every token issued so far stops working.
func (s *Service) LogoutAll(ctx context.Context, caller *Claims) error {
	return s.RevokeUser(ctx, caller.UserID, "logout_all")
}

// RevokeUser revokes every token issued to user so far, for the reason given.
func (s *Service) RevokeUser(ctx context.Context, user int64, reason string) error {
	now := s.now()
	rev := Revocation{
		UserID:    user,
		NotBefore: now.UTC(),
		ExpiresAt: now.Add(s.settings.RefreshTokenLifetime + s.settings.AccessTokenLifetime).UTC(),
		Reason:    reason,
		CreatedAt: now.UTC(),
	}
	got, err := s.store.RevokeUser(ctx, rev)
	if err != nil {
		return fmt.Errorf("revoke user: %w", err)
	}
	s.apply(got)
	return nil
}

// FlushExpired deletes expired tokens, sessions and revocations from the
// store in batches, and forgets expired revocations in memory.
func (s *Service) FlushExpired(ctx context.Context, batch int) (FlushResult, error) {
	now := s.now()
	res, err := s.store.FlushExpired(ctx, now, batch)
	s.deny.GC(now.Unix())
	return res, err
}

// ParseRefresh decodes a refresh token, checking its signature and claims
// as any refresh token, without asking the store about it.
func (s *Service) ParseRefresh(raw string) (*Claims, error) {
	return s.codec.decode(raw, RefreshToken)
}
