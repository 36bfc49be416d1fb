package jwtrevoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

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

	// IPLimiter and AccountLimiter count login attempts per client address
	// (Settings.LoginRatePerIP) and per account (LoginRatePerAccount). Nil
	// gives a MemoryLimiter of this instance at the setting's rate; give a
	// store-backed Limiter, built with that rate, to share the counts
	// between instances. A limit whose setting is off is not asked.
	IPLimiter      Limiter
	AccountLimiter Limiter

	// Observer, when set, is told about every revocation recorded or
	// loaded (for metrics: revocations by reason, propagation lag).
	Observer Observer
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
	settings   Settings
	store      Store
	hasher     PasswordHasher
	now        func() time.Time
	log        *slog.Logger
	codec      atomic.Pointer[codec] // swapped whole by SetKeys (verify-only services)
	verifyOnly bool
	deny       *denylist.Set
	users      *userCache
	obs        Observer // nil: none

	sync syncState
	kick chan struct{} // asks Maintain for a Sync now

	dummyHash string // checked against when the email is unknown, to even out timing

	ipLimit, accountLimit Limiter // nil when off
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
		hasher:   boundHasher(opts.Hasher),
		now:      opts.Now,
		log:      opts.Logger,
		deny:     denylist.New(),
		users:    newUserCache(settings.UserCacheTTL),
		obs:      opts.Observer,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	limiter := func(r Rate, given Limiter, name string) Limiter {
		switch {
		case !r.Enabled():
			return nil
		case given != nil:
			return given
		case settings.LoginRateScope == ScopeInstance:
			return NewMemoryLimiter(r, 0)
		}
		return NewStoreLimiter(store, r, name)
	}
	s.ipLimit = limiter(settings.LoginRatePerIP, opts.IPLimiter, "login-ip")
	s.accountLimit = limiter(settings.LoginRatePerAccount, opts.AccountLimiter, "login-account")
	current, err := s.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	var previous []*Key
	for _, p := range settings.PreviousKeys {
		k, err := ParseKey(p.Algorithm, p.Material)
		if err != nil {
			return nil, fmt.Errorf("previous key: %w", err)
		}
		previous = append(previous, k)
	}
	c, err := newCodec(settings, current, previous, s.now)
	if err != nil {
		return nil, err
	}
	s.codec.Store(c)
	if s.dummyHash, err = s.hasher.Hash(newJTI()); err != nil {
		return nil, fmt.Errorf("hash: %w", err)
	}
	s.kick = make(chan struct{}, 1)
	if _, err := s.Sync(ctx); err != nil {
		return nil, fmt.Errorf("load revocations: %w", err)
	}
	// Sync counts its view fresh as of its start: after a long first
	// load, load what came meanwhile, so that the view is current when
	// serving begins.
	if _, err := s.Sync(ctx); err != nil {
		return nil, fmt.Errorf("load revocations: %w", err)
	}
	// Give back now, rather than over the scavenger's minutes, the memory
	// that starting left as garbage: the dummy hash's argon2id buffer
	// (ARGON2_MEMORY_KIB, 19 MiB by default) and, after a large first
	// load, the revocation tables it outgrew (one of five idle servers of
	// a bench run still held the buffer 2 s after start: 47 MB of RSS
	// instead of 26-29).
	debug.FreeOSMemory()
	return s, nil
}

// boundHasher bounds how many password hashes run at once to the
// processors there are: a hash is CPU-bound, so more at once would not
// finish sooner, but each holds ARGON2_MEMORY_KIB (19 MiB by default).
func boundHasher(h PasswordHasher) PasswordHasher {
	if h == nil {
		return nil
	}
	return &boundedHasher{h: h, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

type boundedHasher struct {
	h     PasswordHasher
	slots chan struct{}
}

func (b *boundedHasher) Hash(password string) (string, error) {
	b.slots <- struct{}{}
	defer func() { <-b.slots }()
	return b.h.Hash(password)
}

func (b *boundedHasher) Check(password, encoded string) (bool, bool, error) {
	b.slots <- struct{}{}
	defer func() { <-b.slots }()
	return b.h.Check(password, encoded)
}

// signingKey parses SIGNING_KEY, or, when it is not set, loads the key
// generated by the first instance on this store (generating it if this is
// the first): a random HMAC secret, or a private key for the algorithm.
func (s *Service) signingKey(ctx context.Context) (*Key, error) {
	alg := s.settings.Algorithm
	if s.settings.SigningKey != "" {
		return ParseKey(alg, s.settings.SigningKey)
	}
	name, material := SigningKeySetting, ""
	if isHMAC(alg) {
		var b [64]byte
		_, _ = rand.Read(b[:])
		material = hex.EncodeToString(b[:])
	} else {
		name += ":" + alg
		var err error
		if material, _, err = GenerateKey(alg); err != nil {
			return nil, fmt.Errorf("generate signing key: %w", err)
		}
	}
	stored, err := s.store.Setting(ctx, name, material)
	if err != nil {
		return nil, fmt.Errorf("load generated signing key: %w", err)
	}
	s.log.Warn("SIGNING_KEY is not set: using a key generated once and kept in the store; set SIGNING_KEY to share tokens with other services")
	k, err := ParseKey(alg, stored)
	if err != nil {
		return nil, fmt.Errorf("stored signing key: %w", err)
	}
	return k, nil
}

// Keys returns the keys tokens are checked with: the current signing key
// first, then the previous ones.
func (s *Service) Keys() []*Key { return s.codec.Load().keys }

// JWKS returns the JSON Web Key Set of the public keys (empty for HMAC).
func (s *Service) JWKS() ([]byte, error) { return JWKS(s.codec.Load().keys) }

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
			s.users.drop(r.UserID) // deactivated, new password, ...: load it again
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
	return s.codec.Load().encode(&a)
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

// login checks the credentials of a login (after the rate limits) and
// returns the user and the time of the login.
// login checks a login's credentials (see Obtain) and records it (last
// login, a re-hash). A user that allowed (nil: any) refuses is refused as
// a wrong password is, after the same work, and nothing is recorded.
func (s *Service) login(ctx context.Context, email, password string, info ClientInfo, allowed func(*User) bool) (*User, time.Time, error) {
	accountKey := LoginAccountKey(email)
	if err := s.throttleLogin(ctx, info.IP, accountKey); err != nil {
		return nil, time.Time{}, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		_, _, _ = s.hasher.Check(password, s.dummyHash)
		return nil, time.Time{}, ErrNoActiveAccount
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("obtain: %w", err)
	}
	var ok, rehash bool
	if unusablePassword(u.PasswordHash) {
		// Django's unusable password ("!..."): nothing to compute, so
		// check the dummy hash to spend the same time as for a real one.
		_, _, _ = s.hasher.Check(password, s.dummyHash)
	} else if ok, rehash, err = s.hasher.Check(password, u.PasswordHash); err != nil {
		s.log.WarnContext(ctx, "unusable password hash", "user_id", u.ID, "err", err)
		_, _, _ = s.hasher.Check(password, s.dummyHash)
	}
	if !ok || !u.IsActive || allowed != nil && !allowed(u) {
		return nil, time.Time{}, ErrNoActiveAccount
	}
	if s.accountLimit != nil {
		if err := s.accountLimit.Refund(ctx, accountKey, s.now()); err != nil {
			s.log.WarnContext(ctx, "login rate limit: refund", "err", err)
		}
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
			return nil, time.Time{}, fmt.Errorf("obtain: update user: %w", err)
		}
	}
	return u, now, nil
}

// Obtain logs a user in and returns a new session's token pair. A wrong
// email or password, or an inactive user, gives ErrNoActiveAccount, after
// the same work (a password hash check) in each case, so that neither the
// answer nor its timing tells whether the email is known.
//
// Before anything else, Obtain takes one attempt from the per-IP limit
// (info.IP; every attempt counts) and one from the per-account limit
// (the email, lower-cased; given back when the login succeeds, so only
// failures count). When either is used up it returns a *ThrottledError
// (errors.Is ErrThrottled) without looking the user up or hashing. A
// limiter that cannot answer gives an error, and no login.
func (s *Service) Obtain(ctx context.Context, email, password string, info ClientInfo) (TokenPair, error) {
	u, now, err := s.login(ctx, email, password, info, nil)
	if err != nil {
		return TokenPair{}, err
	}
	return s.issue(ctx, u, now, info)
}

// Issue logs u in without a password: a refresh and an access token of a
// new session, recorded as Obtain records them, for a user whose identity
// was established some other way (a single sign-on, a link sent by mail,
// an operator's command). It checks neither a password nor the login rate
// limits, and does not update last_login; a user who is not active gets
// ErrNoActiveAccount, as from Obtain.
func (s *Service) Issue(ctx context.Context, u *User, info ClientInfo) (TokenPair, error) {
	if u == nil || !u.IsActive {
		return TokenPair{}, ErrNoActiveAccount
	}
	return s.issue(ctx, u, s.now(), info)
}

// issue makes and records the token pair of a new session of u.
func (s *Service) issue(ctx context.Context, u *User, now time.Time, info ClientInfo) (TokenPair, error) {
	rc := &Claims{
		Type:      RefreshToken,
		ExpiresAt: now.Add(s.settings.RefreshTokenLifetime).Unix(),
		IssuedAt:  now.Unix(),
		JTI:       newJTI(),
		UserID:    u.ID,
		HasUser:   true,
		SessionID: newSessionID(now),
	}
	refresh, err := s.codec.Load().encode(rc)
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

// unusablePassword reports whether encoded is Django's unusable password
// (set_unusable_password writes "!" and random characters) or empty.
func unusablePassword(encoded string) bool {
	return encoded == "" || strings.HasPrefix(encoded, "!")
}

// throttleLogin takes one login attempt from the per-IP and then the
// per-account limit, and returns a *ThrottledError when one is used up.
func (s *Service) throttleLogin(ctx context.Context, ip, accountKey string) error {
	now := s.now()
	if key := LoginIPKey(ip); s.ipLimit != nil && key != "" {
		ok, wait, err := s.ipLimit.Allow(ctx, key, now)
		if err != nil {
			return fmt.Errorf("obtain: login rate limit: %w", err)
		}
		if !ok {
			return &ThrottledError{Limit: "LOGIN_RATE_PER_IP", RetryAfter: wait}
		}
	}
	if s.accountLimit != nil {
		ok, wait, err := s.accountLimit.Allow(ctx, accountKey, now)
		if err != nil {
			return fmt.Errorf("obtain: login rate limit: %w", err)
		}
		if !ok {
			return &ThrottledError{Limit: "LOGIN_RATE_PER_ACCOUNT", RetryAfter: wait}
		}
	}
	return nil
}

// checkUser loads the user a token names and refuses missing or inactive ones.
func (s *Service) checkUser(ctx context.Context, c *Claims) (*User, error) {
	return s.loadUser(ctx, c, false)
}

// loadUser is checkUser, from the user cache (USER_CACHE_TTL) when cached
// is set: the request path of Authenticate asks the store nothing for a
// user it saw recently.
func (s *Service) loadUser(ctx context.Context, c *Claims, cached bool) (*User, error) {
	if !c.HasUser {
		return nil, ErrTokenNoUser
	}
	var u *User
	if cached {
		u, cached = s.users.get(c.UserID, s.now())
	}
	if !cached {
		var err error
		u, err = s.store.UserByID(ctx, c.UserID)
		if errors.Is(err, ErrNotFound) {
			return nil, ErrUserNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("load user: %w", err)
		}
		s.users.put(u, s.now())
	}
	if s.settings.CheckUserIsActive && !u.IsActive {
		return nil, ErrUserInactive
	}
	return u, nil
}

// parseRefresh decodes a refresh token and refuses it if it is blacklisted
// or its session or user was revoked.
func (s *Service) parseRefresh(ctx context.Context, raw string) (*Claims, error) {
	c, err := s.codec.Load().decode(raw, RefreshToken)
	if err != nil {
		return nil, err
	}
	if s.revoked(c) {
		return nil, ErrTokenBlacklisted
	}
	black, err := s.storeBlacklisted(ctx, c.JTI)
	if err != nil {
		return nil, err
	}
	if black {
		return nil, ErrTokenBlacklisted
	}
	return c, nil
}

// Refresh mints a new access token from a refresh token. Refresh tokens
// of missing or inactive users are refused.
//
// With ROTATE_REFRESH_TOKENS it also returns a new refresh token in the
// same session, and the presented one is used up: the store records the
// rotation atomically, so of concurrent refreshes of one token exactly one
// rotates it. Presenting a rotated token again within REFRESH_REUSE_GRACE
// of its rotation returns the same pair again (a client's retry); any
// later use is a reuse: the whole session (every refresh and access token
// of that login) is revoked and the answer is ErrTokenBlacklisted.
func (s *Service) Refresh(ctx context.Context, raw string) (TokenPair, error) {
	if !s.settings.RotateRefreshTokens {
		c, err := s.parseRefresh(ctx, raw)
		if err != nil {
			return TokenPair{}, err
		}
		if _, err := s.loadUser(ctx, c, true); err != nil {
			return TokenPair{}, err
		}
		access, err := s.mintAccess(c, s.now())
		if err != nil {
			return TokenPair{}, err
		}
		return TokenPair{Access: access}, nil
	}
	// The store, not IsBlacklisted, says whether the token is used up: a
	// rotated token is blacklisted, yet a retry within the grace window
	// still gets its answer.
	c, err := s.codec.Load().decode(raw, RefreshToken)
	if err != nil {
		return TokenPair{}, err
	}
	if s.revoked(c) {
		return TokenPair{}, ErrTokenBlacklisted
	}
	if _, err := s.loadUser(ctx, c, true); err != nil {
		return TokenPair{}, err
	}
	now := s.now()
	access, err := s.mintAccess(c, now)
	if err != nil {
		return TokenPair{}, err
	}
	next := *c
	next.JTI = newJTI()
	next.IssuedAt = now.Unix()
	next.ExpiresAt = now.Add(s.settings.RefreshTokenLifetime).Unix()
	next.SessionID = sessionOf(c)
	refresh, err := s.codec.Load().encode(&next)
	if err != nil {
		return TokenPair{}, err
	}
	created := now.UTC()
	rec, err := s.store.Rotate(ctx, Rotation{
		Old:            s.outstanding(c, raw, nil),
		BlacklistOld:   s.settings.BlacklistAfterRotation,
		Next:           s.outstanding(&next, refresh, &created),
		Access:         access,
		SessionID:      next.SessionID,
		SessionExpires: next.Expires().Add(s.settings.AccessTokenLifetime),
		RotatedAt:      created,
	})
	switch {
	case err == nil:
		if s.settings.BlacklistAfterRotation {
			s.noteRotated(c)
		}
		return TokenPair{Access: access, Refresh: refresh}, nil
	case errors.Is(err, ErrRotated):
		if age := now.Sub(rec.RotatedAt); age >= 0 && age <= s.settings.RefreshReuseGrace {
			return TokenPair{Access: rec.Access, Refresh: rec.Next.Token}, nil
		}
		if err := s.revokeSession(ctx, c, "rotation_reuse", now); err != nil {
			return TokenPair{}, err
		}
		s.log.WarnContext(ctx, "refresh token reuse: session revoked", "user_id", c.UserID, "session", sessionOf(c),
			"rotated_at", rec.RotatedAt)
		return TokenPair{}, ErrTokenBlacklisted
	case errors.Is(err, ErrBlacklisted):
		return TokenPair{}, ErrTokenBlacklisted
	}
	return TokenPair{}, fmt.Errorf("rotate: %w", err)
}

// revokeSession revokes the session of token c (every token of that
// login) without blacklisting c itself.
func (s *Service) revokeSession(ctx context.Context, c *Claims, reason string, now time.Time) error {
	got, err := s.store.RevokeSession(ctx, s.audited(ctx, s.sessionRevocation(c, reason, now)))
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	s.applyRecorded(got)
	return nil
}

// Verify checks any token: signature, expiry, jti, and that neither the
// token nor its session nor its user was revoked. The type is not checked,
// as SimpleJWT's verify endpoint does not check it.
func (s *Service) Verify(ctx context.Context, raw string) error {
	c, err := s.codec.Load().decode(raw, "")
	if err != nil {
		return err
	}
	if s.sync.stale.Load() {
		return ErrRevocationsStale
	}
	if s.revoked(c) {
		return ErrTokenBlacklisted
	}
	black, err := s.storeBlacklisted(ctx, c.JTI)
	if err != nil {
		return err
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
	c, err := s.CheckAccess(raw)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.loadUser(ctx, c, true)
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
	s.applyRecorded(got)
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
	return s.blacklist(ctx, c, raw, s.audited(ctx, s.sessionRevocation(c, "blacklist", now)))
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
	revs := []Revocation{s.audited(ctx, s.sessionRevocation(c, "logout", now))}
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
		ExpiresAt: now.Add(max(s.settings.RefreshTokenLifetime+s.settings.AccessTokenLifetime,
			s.settings.SlidingTokenRefreshLifetime+s.settings.SlidingTokenLifetime)).UTC(),
		Reason:    reason,
		CreatedAt: now.UTC(),
	}
	got, err := s.store.RevokeUser(ctx, s.audited(ctx, rev))
	if err != nil {
		return fmt.Errorf("revoke user: %w", err)
	}
	s.applyRecorded(got)
	return nil
}

// FlushExpired deletes expired tokens, sessions and revocations from the
// store in batches of opts.Batch rows (reporting each to opts.Progress),
// and forgets expired revocations in memory.
func (s *Service) FlushExpired(ctx context.Context, opts FlushOptions) (FlushResult, error) {
	now := s.now()
	res, err := s.store.FlushExpired(ctx, now, opts)
	s.deny.GC(now.Unix())
	return res, err
}

// ParseRefresh decodes a refresh token, checking its signature and claims
// as any refresh token, without asking the store about it.
func (s *Service) ParseRefresh(raw string) (*Claims, error) {
	return s.codec.Load().decode(raw, RefreshToken)
}

// FieldError is a request field that cannot be accepted, with Django's
// messages for it; the HTTP layer answers 400 {Field: Messages}.
type FieldError struct {
	Field    string
	Messages []string
}

func (e *FieldError) Error() string {
	return e.Field + ": " + strings.Join(e.Messages, " ")
}

// Django's messages for a wrong old password and for its default password
// validators that need no word list.
const (
	msgWrongOldPassword = "Your old password was entered incorrectly. Please enter it again."
	msgPasswordTooShort = "This password is too short. It must contain at least 8 characters."
	msgPasswordNumeric  = "This password is entirely numeric."
	msgPasswordSame     = "The new password must differ from the old one."
)

// validatePassword applies Django's MinimumLengthValidator (8) and
// NumericPasswordValidator.
func validatePassword(pw string) []string {
	var msgs []string
	if utf8.RuneCountInString(pw) < 8 {
		msgs = append(msgs, msgPasswordTooShort)
	}
	if pw != "" && strings.Trim(pw, "0123456789") == "" {
		msgs = append(msgs, msgPasswordNumeric)
	}
	return msgs
}

// ChangePassword sets a new password for user after checking the old one,
// then revokes every token issued to the user so far (every session, on
// every instance): whoever knew the old password is logged out. Errors: a
// *FieldError for a wrong old password or an unacceptable new one,
// ErrUserNotFound, or a store error.
func (s *Service) ChangePassword(ctx context.Context, userID int64, oldPassword, newPassword string) error {
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ok, _, err := s.hasher.Check(oldPassword, u.PasswordHash)
	if err != nil || !ok {
		return &FieldError{Field: "old_password", Messages: []string{msgWrongOldPassword}}
	}
	msgs := validatePassword(newPassword)
	if newPassword == oldPassword {
		msgs = append(msgs, msgPasswordSame)
	}
	if len(msgs) > 0 {
		return &FieldError{Field: "new_password", Messages: msgs}
	}
	h, err := s.hasher.Hash(newPassword)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	u.PasswordHash = h
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return s.RevokeUser(ctx, userID, "password_change")
}

// SetActive activates or deactivates a user. Deactivating also revokes
// every token issued to the user so far, so that reactivating the account
// later does not bring old tokens back to life.
func (s *Service) SetActive(ctx context.Context, userID int64, active bool) error {
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("set active: %w", err)
	}
	if u.IsActive != active {
		u.IsActive = active
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return fmt.Errorf("set active: %w", err)
		}
		s.users.drop(userID)
	}
	if active {
		return nil
	}
	return s.RevokeUser(ctx, userID, "deactivated")
}

// Sessions returns the live sessions of user (neither expired nor
// revoked), newest first: one per login, with the device it came from.
func (s *Service) Sessions(ctx context.Context, userID int64) ([]Session, error) {
	all, err := s.store.Sessions(ctx, userID, s.now())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	live := all[:0]
	for _, ss := range all {
		if ss.RevokedAt == nil {
			live = append(live, ss)
		}
	}
	return live, nil
}

// EndSession revokes one live session of user: every refresh and access
// token of that login stops working. A session that is not the user's, or
// not live, gives ErrNotFound.
func (s *Service) EndSession(ctx context.Context, userID int64, sessionID string) error {
	live, err := s.Sessions(ctx, userID)
	if err != nil {
		return err
	}
	for _, ss := range live {
		if ss.ID != sessionID {
			continue
		}
		now := s.now()
		got, err := s.store.RevokeSession(ctx, s.audited(ctx, Revocation{SessionID: ss.ID, UserID: userID, ExpiresAt: ss.ExpiresAt,
			Reason: "session_ended", CreatedAt: now.UTC()}))
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		s.applyRecorded(got)
		return nil
	}
	return ErrNotFound
}

// decodeAuth decodes a token that authenticates requests: one of
// AUTH_TOKEN_CLASSES (access tokens by default; sliding tokens too when
// configured).
func (s *Service) decodeAuth(raw string) (*Claims, error) {
	classes := s.settings.AuthTokenClasses
	if len(classes) == 1 {
		return s.codec.Load().decode(raw, classes[0])
	}
	c, err := s.codec.Load().decode(raw, "")
	if err != nil {
		return nil, err
	}
	if c.Type == "" {
		return nil, ErrTokenNoType
	}
	if !slices.Contains(classes, c.Type) {
		return nil, ErrTokenWrongType
	}
	return c, nil
}

// refreshExpClaim is SimpleJWT's SLIDING_TOKEN_REFRESH_EXP_CLAIM.
const refreshExpClaim = "refresh_exp"

// ObtainSliding logs a user in as Obtain does and returns one sliding
// token (SimpleJWT's TokenObtainSlidingView): it authenticates requests
// when AUTH_TOKEN_CLASSES includes sliding, and can be refreshed until its
// refresh_exp. It is registered as outstanding and starts a session, so
// logout, logout-all and blacklisting revoke it like the other tokens.
func (s *Service) ObtainSliding(ctx context.Context, email, password string, info ClientInfo) (string, error) {
	u, now, err := s.login(ctx, email, password, info, nil)
	if err != nil {
		return "", err
	}
	refreshExp := now.Add(s.settings.SlidingTokenRefreshLifetime)
	c := &Claims{
		Type:      SlidingToken,
		ExpiresAt: now.Add(s.settings.SlidingTokenLifetime).Unix(),
		IssuedAt:  now.Unix(),
		JTI:       newJTI(),
		UserID:    u.ID,
		HasUser:   true,
		SessionID: newSessionID(now),
		Extra:     map[string]any{refreshExpClaim: refreshExp.Unix()},
	}
	tok, err := s.codec.Load().encode(c)
	if err != nil {
		return "", err
	}
	created := now.UTC()
	// Every refreshed copy keeps the jti and may live until refresh_exp
	// plus one lifetime: so do the outstanding row and the session.
	last := time.Unix(refreshExp.Unix(), 0).Add(s.settings.SlidingTokenLifetime).UTC()
	out := s.outstanding(c, tok, &created)
	out.ExpiresAt = last
	sess := Session{ID: c.SessionID, UserID: u.ID, CreatedAt: created, ExpiresAt: last, IP: info.IP, UserAgent: info.UserAgent}
	if err := s.store.IssueSession(ctx, out, sess); err != nil {
		return "", fmt.Errorf("obtain sliding: %w", err)
	}
	return tok, nil
}

// RefreshSliding returns a copy of a sliding token with a renewed exp and
// iat (same jti, session and refresh_exp), as SimpleJWT's
// TokenRefreshSlidingView: the token must still be valid (exp included,
// as SimpleJWT checks it), not revoked, its user active, and its
// refresh_exp not passed (ErrTokenRefreshExpired).
func (s *Service) RefreshSliding(ctx context.Context, raw string) (string, error) {
	c, err := s.codec.Load().decode(raw, SlidingToken)
	if err != nil {
		return "", err
	}
	if s.revoked(c) {
		return "", ErrTokenBlacklisted
	}
	black, err := s.storeBlacklisted(ctx, c.JTI)
	if err != nil {
		return "", err
	}
	if black {
		return "", ErrTokenBlacklisted
	}
	now := s.now()
	v, ok := c.Extra[refreshExpClaim]
	if !ok {
		return "", fmt.Errorf("%w: no %s claim", ErrTokenInvalid, refreshExpClaim)
	}
	refreshExp, err := intClaim(v)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrTokenInvalid, refreshExpClaim, err)
	}
	if !now.Before(time.Unix(refreshExp, 0).Add(s.settings.Leeway)) {
		return "", ErrTokenRefreshExpired
	}
	if _, err := s.loadUser(ctx, c, true); err != nil {
		return "", err
	}
	next := *c
	next.ExpiresAt = now.Add(s.settings.SlidingTokenLifetime).Unix()
	next.IssuedAt = now.Unix()
	return s.codec.Load().encode(&next)
}

// LogoutSliding blacklists the caller's own sliding token and revokes its
// session: every copy of it stops working at once.
func (s *Service) LogoutSliding(ctx context.Context, caller *Claims, raw string) error {
	if caller.Type != SlidingToken {
		return ErrTokenWrongType
	}
	now := s.now()
	return s.blacklist(ctx, caller, raw, s.audited(ctx, s.sessionRevocation(caller, "logout", now)))
}

type clientInfoKey struct{}

// WithClientInfo returns ctx carrying where the request came from, which
// the revocations made for it record in the audit trail (the HTTP handler
// sets it for every request).
func WithClientInfo(ctx context.Context, info ClientInfo) context.Context {
	return context.WithValue(ctx, clientInfoKey{}, info)
}

// ClientInfoFrom returns what WithClientInfo put in ctx (zero if nothing).
func ClientInfoFrom(ctx context.Context) ClientInfo {
	info, _ := ctx.Value(clientInfoKey{}).(ClientInfo)
	return info
}

// audited marks r for the audit trail (AUDIT_RETENTION) with the client
// of ctx.
func (s *Service) audited(ctx context.Context, r Revocation) Revocation {
	if s.settings.AuditRetention <= 0 {
		return r
	}
	info := ClientInfoFrom(ctx)
	r.IP, r.UserAgent = info.IP, info.UserAgent
	r.AuditUntil = r.CreatedAt.Add(s.settings.AuditRetention).UTC()
	return r
}

// Audit returns the audit trail of user: the revocations of the last
// AUDIT_RETENTION (why, when, from which address and user agent), newest
// first, at most limit (0: all).
func (s *Service) Audit(ctx context.Context, userID int64, limit int) ([]Revocation, error) {
	got, err := s.store.Audit(ctx, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return got, nil
}
