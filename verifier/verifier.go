// Package verifier checks jwtrevoke access tokens in other services
// (resource servers) without asking the auth server per request.
//
// A Verifier fetches the issuer's public keys from its JSON Web Key Set
// (JWK_URL, e.g. http://auth:8000/.well-known/jwks.json) and refreshes
// them every RefreshInterval, and on a token with an unknown kid (at most
// once per UnknownKeyRefetch). It mirrors the revocations recorded in the
// shared token store (the auth server's Store: PostgreSQL, Redis, ...)
// exactly as the auth server does, through a verify-only
// jwtrevoke.Service: by the store's push channel if it has one, by polling
// otherwise, refusing tokens (ErrRevocationsStale) when the store stops
// answering in fail-closed mode. So a logout is honoured at once.
//
//	v, err := verifier.New(ctx, verifier.Options{
//		JWKURL: "http://auth:8000/.well-known/jwks.json",
//		Store:  tokenStore, // the auth server's store
//	})
//	go v.Run(ctx)
//	defer v.Close()
//	claims, err := v.Verify(ctx, bearerToken)
//
// HMAC algorithms cannot be used: their key is a secret that no JWKS
// carries.
package verifier

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/jwtrevoke/jwtrevoke"
)

// Defaults of Options.
const (
	DefaultRefreshInterval   = 5 * time.Minute
	DefaultUnknownKeyRefetch = 30 * time.Second
	// MaxJWKSSize caps the size of a fetched JWKS.
	MaxJWKSSize = 1 << 20
)

// Options configure a Verifier.
type Options struct {
	// JWKURL is the issuer's JSON Web Key Set (required).
	JWKURL string
	// RefreshInterval is how often the JWKS is fetched again (default 5m).
	RefreshInterval time.Duration
	// UnknownKeyRefetch is the least time between two fetches made because
	// a token named an unknown kid (default 30s).
	UnknownKeyRefetch time.Duration
	// HTTPClient fetches the JWKS (default: a client with a 10s timeout).
	HTTPClient *http.Client
	// Store is the auth server's token store, where revocations are read
	// (required). The verifier only reads it and does not close it.
	Store jwtrevoke.TokenStore
	// Settings are the auth server's (ISSUER, AUDIENCE, LEEWAY, claim
	// names, AUTH_TOKEN_CLASSES, REVOCATION_*); the zero value means
	// jwtrevoke.DefaultSettings(). Algorithm and keys are ignored: each
	// JWK names its algorithm.
	Settings jwtrevoke.Settings
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Verifier checks access tokens with the issuer's published keys and the
// revocations of the shared store. It is safe for concurrent use.
type Verifier struct {
	svc      *jwtrevoke.Service
	settings jwtrevoke.Settings
	url      string
	client   *http.Client
	interval time.Duration
	minKick  time.Duration
	log      *slog.Logger

	fetchMu  sync.Mutex // one fetch at a time
	lastKick time.Time  // last fetch for an unknown kid, under fetchMu

	closed    context.Context // done after Close
	closeFunc context.CancelFunc
	running   sync.WaitGroup
}

// New fetches the JWKS and loads the revocations from the store; either
// failing is an error. Call Run to keep both current.
func New(ctx context.Context, opts Options) (*Verifier, error) {
	if opts.JWKURL == "" {
		return nil, errors.New("verifier: Options.JWKURL is required")
	}
	if opts.Store == nil {
		return nil, errors.New("verifier: Options.Store is required (revocations)")
	}
	v := &Verifier{
		settings: opts.Settings,
		url:      opts.JWKURL,
		client:   opts.HTTPClient,
		interval: opts.RefreshInterval,
		minKick:  opts.UnknownKeyRefetch,
		log:      opts.Logger,
	}
	if reflect.ValueOf(v.settings).IsZero() {
		v.settings = jwtrevoke.DefaultSettings()
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: 10 * time.Second}
	}
	if v.interval <= 0 {
		v.interval = DefaultRefreshInterval
	}
	if v.minKick <= 0 {
		v.minKick = DefaultUnknownKeyRefetch
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	keys, err := v.fetch(ctx)
	if err != nil {
		return nil, err
	}
	v.svc, err = jwtrevoke.NewVerifier(ctx, opts.Store, v.settings, keys, jwtrevoke.Options{Logger: v.log})
	if err != nil {
		return nil, fmt.Errorf("verifier: %w", err)
	}
	v.closed, v.closeFunc = context.WithCancel(context.Background())
	return v, nil
}

// Verify checks an access token (or a sliding token, when
// AUTH_TOKEN_CLASSES says so): signature with the issuer's keys, expiry,
// issuer and audience, type, user id claim, and revocation, from memory.
// Errors are jwtrevoke's: ErrTokenInvalid, ErrTokenWrongType,
// ErrTokenBlacklisted, ErrTokenNoUser, ErrRevocationsStale, ... The user is
// not loaded: a resource server has no user table.
func (v *Verifier) Verify(ctx context.Context, raw string) (*jwtrevoke.Claims, error) {
	c, err := v.svc.CheckAccess(raw)
	if err != nil && errors.Is(err, jwtrevoke.ErrTokenInvalid) {
		// A token signed with a key published since the last fetch?
		if kid := headerKID(raw); kid != "" && !v.hasKey(kid) && v.fetchForUnknown(ctx, kid) {
			c, err = v.svc.CheckAccess(raw)
		}
	}
	if err != nil {
		return nil, err
	}
	if !c.HasUser {
		return nil, jwtrevoke.ErrTokenNoUser
	}
	// Without Run, nothing reloads the revocations: refuse rather than
	// trust an old view (fail-closed mode).
	if v.settings.RevocationFailMode != jwtrevoke.FailOpen &&
		time.Since(v.svc.LastSync()) > v.settings.RevocationMaxStaleness {
		return nil, jwtrevoke.ErrRevocationsStale
	}
	return c, nil
}

// Run keeps the keys and the revocations current until ctx is done or
// Close is called: it fetches the JWKS every RefreshInterval (keeping the
// last good key set when a fetch fails) and runs the revocation sync of
// jwtrevoke.Service.Maintain. Errors are logged.
func (v *Verifier) Run(ctx context.Context) {
	v.running.Add(1)
	defer v.running.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(v.closed, cancel)
	defer stop()
	maintained := make(chan struct{})
	go func() {
		defer close(maintained)
		v.svc.Maintain(ctx)
	}()
	defer func() { <-maintained }()
	t := time.NewTicker(v.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := v.Refresh(ctx); err != nil && ctx.Err() == nil {
			v.log.Warn("JWKS refresh failed; keeping the last good keys", "url", v.url, "err", err)
		}
	}
}

// Close stops Run and waits for it to return. It does not close the store.
func (v *Verifier) Close() error {
	v.closeFunc()
	v.running.Wait()
	return nil
}

// Refresh fetches the JWKS now and, when it is acceptable, uses its keys.
// On error the current keys are kept.
func (v *Verifier) Refresh(ctx context.Context) error {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	return v.refreshLocked(ctx)
}

func (v *Verifier) refreshLocked(ctx context.Context) error {
	keys, err := v.fetch(ctx)
	if err != nil {
		return err
	}
	return v.svc.SetKeys(keys)
}

// Keys returns the keys tokens are currently checked with.
func (v *Verifier) Keys() []*jwtrevoke.Key { return v.svc.Keys() }

// Service returns the verify-only service underneath (for its
// RevocationCount, Sync, ...).
func (v *Verifier) Service() *jwtrevoke.Service { return v.svc }

func (v *Verifier) hasKey(kid string) bool {
	for _, k := range v.svc.Keys() {
		if k.ID == kid {
			return true
		}
	}
	return false
}

// fetchForUnknown fetches the JWKS for a token naming kid, unless another
// such fetch happened less than UnknownKeyRefetch ago, and reports whether
// kid is known now.
func (v *Verifier) fetchForUnknown(ctx context.Context, kid string) bool {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if v.hasKey(kid) { // fetched meanwhile
		return true
	}
	if !v.lastKick.IsZero() && time.Since(v.lastKick) < v.minKick {
		return false
	}
	v.lastKick = time.Now()
	if err := v.refreshLocked(ctx); err != nil {
		v.log.Warn("JWKS fetch for an unknown kid failed", "url", v.url, "err", err)
		return false
	}
	return v.hasKey(kid)
}

// headerKID returns the kid of a compact JWS's header, or "" when there is
// none or the token is malformed (the codec then refuses it anyway).
func headerKID(raw string) string {
	if len(raw) > jwtrevoke.MaxTokenLength {
		return ""
	}
	h, _, ok := strings.Cut(raw, ".")
	if !ok || len(h) > jwtrevoke.MaxHeaderLength {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		KID string `json:"kid"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return ""
	}
	return hdr.KID
}

// fetch gets and parses the JWKS.
func (v *Verifier) fetch(ctx context.Context) ([]*jwtrevoke.Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return nil, fmt.Errorf("verifier: JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("verifier: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("verifier: read JWKS: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("verifier: fetch JWKS: %s", resp.Status)
	}
	if len(body) > MaxJWKSSize {
		return nil, fmt.Errorf("verifier: JWKS is over %d bytes", MaxJWKSSize)
	}
	return ParseJWKS(body)
}

// ParseJWKS reads a JSON Web Key Set into verification keys. The whole set
// is refused when any key is unfit: a symmetric ("oct") or private key, a
// key without alg or kid, an alg jwtrevoke does not support or that does
// not fit the key, a use other than "sig", or a kid that is not the key's
// RFC 7638 thumbprint (what jwtrevoke's server publishes). An empty set is
// refused too.
func ParseJWKS(body []byte) ([]*jwtrevoke.Key, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("verifier: JWKS: %w", err)
	}
	if len(raw.Keys) == 0 {
		return nil, errors.New("verifier: JWKS has no keys")
	}
	keys := make([]*jwtrevoke.Key, 0, len(raw.Keys))
	for i, r := range raw.Keys {
		var kty struct {
			Kty string `json:"kty"`
		}
		if err := json.Unmarshal(r, &kty); err != nil {
			return nil, fmt.Errorf("verifier: JWKS key %d: %w", i, err)
		}
		if kty.Kty == "oct" {
			return nil, fmt.Errorf("verifier: JWKS key %d is a symmetric (oct) key: a JWKS never carries secrets", i)
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(r); err != nil {
			return nil, fmt.Errorf("verifier: JWKS key %d: %w", i, err)
		}
		k, err := keyOf(jwk)
		if err != nil {
			return nil, fmt.Errorf("verifier: JWKS key %d (kid %q): %w", i, jwk.KeyID, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func keyOf(jwk jose.JSONWebKey) (*jwtrevoke.Key, error) {
	switch {
	case !jwk.IsPublic():
		return nil, errors.New("a private or symmetric key: a JWKS carries public keys only")
	case jwk.Algorithm == "":
		return nil, errors.New("no alg")
	case jwk.KeyID == "":
		return nil, errors.New("no kid")
	case jwk.Use != "" && jwk.Use != "sig":
		return nil, fmt.Errorf("use %q is not sig", jwk.Use)
	}
	k, err := jwtrevoke.PublicKey(jwk.Algorithm, jwk.Key)
	if err != nil {
		return nil, err
	}
	if k.ID != jwk.KeyID {
		return nil, fmt.Errorf("kid is not the key's RFC 7638 thumbprint %q", k.ID)
	}
	return k, nil
}
