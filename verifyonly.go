package jwtrevoke

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/denylist"
)

// PublicKey returns a verify-only Key for alg over pub, with its kid set to
// the RFC 7638 thumbprint exactly as the server computes it. The key type
// must fit alg as in ParseKey; HMAC algorithms are refused, since their key
// is a secret that is never published.
func PublicKey(alg string, pub crypto.PublicKey) (*Key, error) {
	if isHMAC(alg) {
		return nil, fmt.Errorf("%s is an HMAC algorithm: its secret is not a public key", alg)
	}
	if s, ok := pub.(crypto.Signer); ok { // a private key: keep its public half only
		pub = s.Public()
	}
	if err := checkKeyType(alg, pub); err != nil {
		return nil, err
	}
	k := &Key{Algorithm: alg, verifier: pub}
	return k, k.setID()
}

// errNoUsers is what a verify-only service's user store answers.
var errNoUsers = errors.New("jwtrevoke: a verify-only service has no user store")

// noUsers is the UserStore of a verify-only service.
type noUsers struct{}

func (noUsers) CreateUser(context.Context, *User) error            { return errNoUsers }
func (noUsers) UserByID(context.Context, int64) (*User, error)     { return nil, errNoUsers }
func (noUsers) UserByEmail(context.Context, string) (*User, error) { return nil, errNoUsers }
func (noUsers) UpdateUser(context.Context, *User) error            { return errNoUsers }

// NewVerifier returns a verify-only Service for a resource server: it
// checks tokens with keys (public keys, or any Key; it signs nothing) and
// mirrors the revocations recorded in store, as the auth server does, so
// that CheckAccess honours logout. Call Maintain to keep the revocations
// current, and SetKeys when the issuer's key set changes. It has no users:
// only CheckAccess, Verify-style checks, Sync, Maintain, Keys, JWKS and
// SetKeys are meant for it; the token flow methods fail. Settings.Algorithm,
// SigningKey and PreviousKeys are ignored; opts.Hasher is not needed.
func NewVerifier(ctx context.Context, store TokenStore, settings Settings, keys []*Key, opts Options) (*Service, error) {
	// Not used to sign or check anything; set so that Validate passes.
	settings.Algorithm, settings.SigningKey, settings.PreviousKeys = "ES256", "", nil
	if len(keys) > 0 {
		settings.Algorithm = keys[0].Algorithm
	}
	if err := settings.Validate(); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	if store == nil {
		return nil, errors.New("jwtrevoke: NewVerifier needs a token store")
	}
	s := &Service{
		settings:   settings,
		store:      &SplitStore{UserStore: noUsers{}, TokenStore: store}, // Close closes nothing
		now:        opts.Now,
		log:        opts.Logger,
		deny:       denylist.New(),
		users:      newUserCache(0),
		verifyOnly: true,
		kick:       make(chan struct{}, 1),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.SetKeys(keys); err != nil {
		return nil, err
	}
	if _, err := s.Sync(ctx); err != nil {
		return nil, fmt.Errorf("load revocations: %w", err)
	}
	return s, nil
}

// SetKeys replaces, atomically, the keys a verify-only Service (NewVerifier)
// checks tokens with. keys must not be empty.
func (s *Service) SetKeys(keys []*Key) error {
	if !s.verifyOnly {
		return errors.New("jwtrevoke: SetKeys is for verify-only services")
	}
	c, err := newVerifyCodec(s.settings, keys, s.now)
	if err != nil {
		return err
	}
	s.codec.Store(c)
	return nil
}

// CheckAccess checks a token that authenticates requests, without loading
// its user: signature, expiry, type (AUTH_TOKEN_CLASSES), and revocation
// (in memory only). It returns token errors (ErrToken...) or
// ErrRevocationsStale.
func (s *Service) CheckAccess(raw string) (*Claims, error) {
	c, err := s.decodeAuth(raw)
	if err != nil {
		return nil, err
	}
	if s.sync.stale.Load() {
		return nil, ErrRevocationsStale
	}
	if s.revoked(c) {
		return nil, ErrTokenBlacklisted
	}
	return c, nil
}

// LastSync returns when revocations were last loaded from the store.
func (s *Service) LastSync() time.Time { return time.Unix(0, s.sync.fresh.Load()) }
