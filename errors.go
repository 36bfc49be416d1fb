package jwtrevoke

import "errors"

// Token errors. Their texts are SimpleJWT's messages, so the HTTP layer can
// show them unchanged.
var (
	// ErrTokenInvalid covers every failure of the signature and of the
	// registered time claims (exp, nbf, iat), malformed tokens and tokens
	// signed with another algorithm or key.
	ErrTokenInvalid = errors.New("Token is invalid or expired")
	// ErrTokenNoID means the token has no jti claim.
	ErrTokenNoID = errors.New("Token has no id")
	// ErrTokenNoType means the token has no token_type claim.
	ErrTokenNoType = errors.New("Token has no type")
	// ErrTokenWrongType means the token's type is not the one the operation needs.
	ErrTokenWrongType = errors.New("Token has wrong type")
	// ErrTokenNoExp means the token has no exp claim.
	ErrTokenNoExp = errors.New("Token has no 'exp' claim")
	// ErrTokenBlacklisted means the token, its session or its user was revoked.
	ErrTokenBlacklisted = errors.New("Token is blacklisted")
	// ErrTokenRefreshExpired means a sliding token's refresh_exp has passed.
	ErrTokenRefreshExpired = errors.New("Token 'refresh_exp' claim has expired")
	// ErrTokenNoUser means the token has no usable user id claim.
	ErrTokenNoUser = errors.New("Token contained no recognizable user identification")
)

// User and credential errors.
var (
	// ErrUserNotFound means the user a token names does not exist.
	ErrUserNotFound = errors.New("User not found")
	// ErrUserInactive means the user a token names is not active.
	ErrUserInactive = errors.New("User is inactive")
	// ErrNoActiveAccount means a login failed: unknown email, wrong password
	// or inactive user (deliberately indistinguishable).
	ErrNoActiveAccount = errors.New("No active account found with the given credentials")
	// ErrForeignToken means a refresh token presented at logout belongs to
	// another user than the authenticated caller.
	ErrForeignToken = errors.New("Token does not belong to the authenticated user")
)

// Store errors. Stores translate their driver's errors into these.
var (
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a record with the same unique key already exists.
	ErrExists = errors.New("already exists")
	// ErrBlacklisted is returned by Store.Blacklist and Store.Rotate when the
	// token was already blacklisted; nothing was written.
	ErrBlacklisted = errors.New("token already blacklisted")
	// ErrRotated is returned by Store.Rotate when the old token was already
	// rotated; nothing was written.
	ErrRotated = errors.New("refresh token already rotated")
	// ErrUnavailable wraps every error that means the store could not answer
	// (connection refused, timeout, I/O error). Security checks that meet it
	// refuse: a store error never authenticates anyone.
	ErrUnavailable = errors.New("store unavailable")
	// ErrRevocationsStale means this instance could not load revocations
	// from the store for longer than REVOCATION_MAX_STALENESS, and
	// REVOCATION_FAIL_MODE is closed: it refuses rather than risk accepting
	// a token revoked elsewhere.
	ErrRevocationsStale = errors.New("revocation list is out of date")
)
