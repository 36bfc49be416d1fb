package jwtrevoke

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Settings configure tokens and authentication. Field names map to
// SimpleJWT's setting names (in the comments), and DefaultSettings returns
// the seed's values.
type Settings struct {
	AccessTokenLifetime  time.Duration // ACCESS_TOKEN_LIFETIME, default 5m
	RefreshTokenLifetime time.Duration // REFRESH_TOKEN_LIFETIME, default 24h
	// SlidingTokenLifetime is a sliding token's exp (SLIDING_TOKEN_LIFETIME,
	// default 5m); SlidingTokenRefreshLifetime its refresh_exp, until which
	// it can be refreshed (SLIDING_TOKEN_REFRESH_LIFETIME, default 24h).
	SlidingTokenLifetime        time.Duration
	SlidingTokenRefreshLifetime time.Duration
	// AuthTokenClasses are the token types that authenticate a request
	// (AUTH_TOKEN_CLASSES: access, sliding; default access only).
	AuthTokenClasses       []TokenType
	RotateRefreshTokens    bool // ROTATE_REFRESH_TOKENS, default false
	BlacklistAfterRotation bool // BLACKLIST_AFTER_ROTATION, default true
	// RefreshReuseGrace is how long after a rotation the rotated refresh
	// token may be presented again and get the same answer (a client's
	// retry after a lost response); later, its use is a reuse that revokes
	// the session. REFRESH_REUSE_GRACE, default 0.
	RefreshReuseGrace time.Duration
	AuthHeaderTypes   []string // AUTH_HEADER_TYPES, default ["Bearer"]
	AuthHeaderName    string   // AUTH_HEADER_NAME, default "Authorization"
	Algorithm         string   // ALGORITHM: HS256 (default), HS384/512, RS*, PS*, ES*, EdDSA
	SigningKey        string   // SIGNING_KEY: HMAC secret or PEM private key; empty: generated once and kept in the store
	// PreviousKeys are retired keys (SIGNING_KEY_FILE of earlier
	// deployments, or their public keys): tokens they signed are still
	// accepted until they expire; nothing new is signed with them.
	PreviousKeys      []KeySpec
	Leeway            time.Duration // LEEWAY, default 0
	Issuer            string        // ISSUER: set as iss and required when not empty
	Audience          string        // AUDIENCE: set as aud and required when not empty
	UserIDClaim       string        // USER_ID_CLAIM, default "user_id"
	TokenTypeClaim    string        // TOKEN_TYPE_CLAIM, default "token_type"
	JTIClaim          string        // JTI_CLAIM, default "jti"
	UpdateLastLogin   bool          // UPDATE_LAST_LOGIN, default false
	CheckUserIsActive bool          // CHECK_USER_IS_ACTIVE, default true
	// UserCacheTTL is how long an instance reuses a user it loaded to
	// authenticate a request, so that requests ask the store nothing:
	// USER_CACHE_TTL, default 5s; 0 loads the user on every request. A
	// deactivation, password change or logout-all through jwtrevoke drops
	// the user from every instance's cache at once; a change made in the
	// database directly is seen within this time.
	UserCacheTTL time.Duration

	// RevocationFailMode says what an instance does when it cannot load
	// revocations from the store for longer than RevocationMaxStaleness:
	// "closed" (default) refuses authenticated requests, "open" logs and
	// goes on (REVOCATION_FAIL_MODE).
	RevocationFailMode string
	// RevocationMaxStaleness is how old this instance's view of the
	// revocations may get, default 1s (REVOCATION_MAX_STALENESS).
	RevocationMaxStaleness time.Duration
	// RevocationPollInterval is how often revocations are loaded from the
	// store besides the store's push channel, if any; default 100ms
	// (REVOCATION_POLL_INTERVAL).
	RevocationPollInterval time.Duration

	// LoginRatePerIP limits login attempts per client address (IPv6: per
	// /64 network), successful or not: LOGIN_RATE_PER_IP, default
	// 20/minute (bursts of 20, then one every 3 s). The zero Rate is off.
	LoginRatePerIP Rate
	// LoginRatePerAccount limits failed login attempts per email
	// (lower-cased, known or not): LOGIN_RATE_PER_ACCOUNT, default
	// 5/minute (bursts of 5, then one every 12 s). A successful login
	// does not count. The zero Rate is off.
	LoginRatePerAccount Rate
	// TrustedProxies are the peers (reverse proxies, load balancers)
	// whose X-Forwarded-For is believed: the client is the rightmost
	// address in it that is not a trusted proxy (TRUSTED_PROXIES, default
	// none: the client is the connection's peer).
	TrustedProxies []netip.Prefix
	// LoginRateScope says where the login attempts are counted:
	// "cluster" (default) in the store, shared by every instance on it, in
	// fixed windows; "instance" in this process's memory, as a token
	// bucket (LOGIN_RATE_SCOPE).
	LoginRateScope string
	// AuditRetention is how long the audit trail keeps a revocation (who,
	// when, why, from where) after it was made: AUDIT_RETENTION, default
	// 90 days; 0 keeps no audit trail.
	AuditRetention time.Duration
}

// Login rate limit scopes.
const (
	ScopeCluster  = "cluster"
	ScopeInstance = "instance"
)

// Revocation fail modes.
const (
	FailClosed = "closed"
	FailOpen   = "open"
)

// DefaultSettings returns the seed tutorial's settings.
func DefaultSettings() Settings {
	return Settings{
		AccessTokenLifetime:         5 * time.Minute,
		RefreshTokenLifetime:        24 * time.Hour,
		SlidingTokenLifetime:        5 * time.Minute,
		SlidingTokenRefreshLifetime: 24 * time.Hour,
		AuthTokenClasses:            []TokenType{AccessToken},
		RotateRefreshTokens:         false,
		BlacklistAfterRotation:      true,
		AuthHeaderTypes:             []string{"Bearer"},
		AuthHeaderName:              "Authorization",
		Algorithm:                   "HS256",
		UserIDClaim:                 "user_id",
		TokenTypeClaim:              "token_type",
		JTIClaim:                    "jti",
		CheckUserIsActive:           true,
		UserCacheTTL:                5 * time.Second,
		RevocationFailMode:          FailClosed,
		RevocationMaxStaleness:      time.Second,
		RevocationPollInterval:      100 * time.Millisecond,
		LoginRatePerIP:              Rate{N: 20, Per: time.Minute},
		LoginRatePerAccount:         Rate{N: 5, Per: time.Minute},
		LoginRateScope:              ScopeCluster,
		AuditRetention:              90 * 24 * time.Hour,
	}
}

// minKeyBytes is the shortest HMAC key accepted per algorithm: the hash
// output size (RFC 7518 section 3.2).
var minKeyBytes = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// Validate reports the first setting that cannot work.
func (s Settings) Validate() error {
	var errs []error
	if s.AccessTokenLifetime <= 0 {
		errs = append(errs, errors.New("ACCESS_TOKEN_LIFETIME must be positive"))
	}
	if s.RefreshTokenLifetime <= 0 {
		errs = append(errs, errors.New("REFRESH_TOKEN_LIFETIME must be positive"))
	}
	if s.SlidingTokenLifetime <= 0 || s.SlidingTokenRefreshLifetime <= 0 {
		errs = append(errs, errors.New("SLIDING_TOKEN_LIFETIME and SLIDING_TOKEN_REFRESH_LIFETIME must be positive"))
	}
	if len(s.AuthTokenClasses) == 0 {
		errs = append(errs, errors.New("AUTH_TOKEN_CLASSES must name at least one of access, sliding"))
	}
	for _, c := range s.AuthTokenClasses {
		if c != AccessToken && c != SlidingToken {
			errs = append(errs, fmt.Errorf("AUTH_TOKEN_CLASSES: %q is not access or sliding", c))
		}
	}
	if s.RefreshReuseGrace < 0 {
		errs = append(errs, errors.New("REFRESH_REUSE_GRACE must not be negative"))
	}
	if s.Leeway < 0 {
		errs = append(errs, errors.New("LEEWAY must not be negative"))
	}
	if len(s.AuthHeaderTypes) == 0 {
		errs = append(errs, errors.New("AUTH_HEADER_TYPES must name at least one type"))
	}
	if s.AuthHeaderName == "" {
		errs = append(errs, errors.New("AUTH_HEADER_NAME must not be empty"))
	}
	if s.UserIDClaim == "" || s.TokenTypeClaim == "" || s.JTIClaim == "" {
		errs = append(errs, errors.New("USER_ID_CLAIM, TOKEN_TYPE_CLAIM and JTI_CLAIM must not be empty"))
	}
	if s.RevocationFailMode != FailClosed && s.RevocationFailMode != FailOpen {
		errs = append(errs, fmt.Errorf("REVOCATION_FAIL_MODE %q must be closed or open", s.RevocationFailMode))
	}
	if s.RevocationPollInterval <= 0 || s.RevocationMaxStaleness <= 0 {
		errs = append(errs, errors.New("REVOCATION_POLL_INTERVAL and REVOCATION_MAX_STALENESS must be positive"))
	} else if s.RevocationPollInterval >= s.RevocationMaxStaleness {
		errs = append(errs, errors.New("REVOCATION_POLL_INTERVAL must be shorter than REVOCATION_MAX_STALENESS"))
	}
	for _, l := range []struct {
		name string
		r    Rate
	}{{"LOGIN_RATE_PER_IP", s.LoginRatePerIP}, {"LOGIN_RATE_PER_ACCOUNT", s.LoginRatePerAccount}} {
		if l.r.N < 0 || l.r.Per < 0 || (l.r.N > 0 && l.r.Per == 0) {
			errs = append(errs, fmt.Errorf("%s %d/%s must be a positive number per a positive period, or off", l.name, l.r.N, l.r.Per))
		}
	}
	if s.LoginRateScope != ScopeCluster && s.LoginRateScope != ScopeInstance {
		errs = append(errs, fmt.Errorf("LOGIN_RATE_SCOPE %q must be cluster or instance", s.LoginRateScope))
	}
	if s.UserCacheTTL < 0 {
		errs = append(errs, errors.New("USER_CACHE_TTL must not be negative"))
	}
	if s.AuditRetention < 0 {
		errs = append(errs, errors.New("AUDIT_RETENTION must not be negative"))
	}
	for _, p := range s.TrustedProxies {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is not a network such as 10.0.0.0/8", p))
		}
	}
	switch {
	case !slices.Contains(Algorithms, s.Algorithm):
		errs = append(errs, fmt.Errorf("ALGORITHM %q is not supported (%s)", s.Algorithm, strings.Join(Algorithms, ", ")))
	case s.SigningKey != "":
		if _, err := ParseKey(s.Algorithm, s.SigningKey); err != nil {
			errs = append(errs, fmt.Errorf("SIGNING_KEY: %w", err))
		}
	}
	for i, p := range s.PreviousKeys {
		if _, err := ParseKey(p.Algorithm, p.Material); err != nil {
			errs = append(errs, fmt.Errorf("previous key %d: %w", i+1, err))
		}
	}
	return errors.Join(errs...)
}
