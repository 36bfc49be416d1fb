package jwtrevoke

import (
	"context"
	"time"
)

// User is an account that can log in. Its shape follows Django's user model
// (the seed's users_user table), so a Django user table can be shared.
type User struct {
	ID           int64
	Email        string
	PasswordHash string // Django-format hash: argon2$..., pbkdf2_sha256$..., bcrypt_sha256$...
	IsActive     bool
	IsStaff      bool
	IsSuperuser  bool
	DateJoined   time.Time
	LastLogin    *time.Time // nil until the first login recorded with UPDATE_LAST_LOGIN
}

// OutstandingToken is a row of SimpleJWT's token_blacklist_outstandingtoken
// table: a refresh token that was issued, with its blacklisting if any.
type OutstandingToken struct {
	ID            int64  // assigned by the store
	UserID        *int64 // nil when the user is unknown (e.g. a foreign token)
	JTI           string
	Token         string // the whole encoded refresh token
	CreatedAt     *time.Time
	ExpiresAt     time.Time
	BlacklistedAt *time.Time // set when read back from the store and blacklisted
}

// Session is one login: the family of refresh tokens (by rotation) and the
// access tokens minted from them. Every token of a session carries its ID in
// the "sid" claim, which is what lets logout revoke access tokens too.
type Session struct {
	ID        string
	UserID    int64
	CreatedAt time.Time
	// ExpiresAt is when the last token of the session stops being valid:
	// the newest refresh token's exp plus one access token lifetime.
	ExpiresAt time.Time
	RevokedAt *time.Time
	IP        string
	UserAgent string
}

// Revocation makes tokens stop being accepted before their exp. Exactly one
// of SessionID, JTI or NotBefore (with UserID) says what is revoked:
//   - SessionID: every token carrying that sid claim (logout, blacklist);
//   - JTI: one access token (the one that called logout, when it belongs to
//     another session than the refresh token);
//   - NotBefore: every token of UserID whose iat is before it (logout-all).
type Revocation struct {
	Seq       int64 // assigned by the store, strictly increasing
	SessionID string
	JTI       string
	UserID    int64
	NotBefore time.Time
	// ExpiresAt is when the revocation stops mattering: the last moment a
	// revoked token could still be valid. The store may raise it to the
	// session's own ExpiresAt.
	ExpiresAt time.Time
	Reason    string // logout, logout_all, blacklist, admin, ...
	CreatedAt time.Time
	// IP and UserAgent say where the request that revoked came from
	// (empty for the CLI), for the audit trail.
	IP        string
	UserAgent string
	// AuditUntil, when set, asks the store to keep this revocation in the
	// user's audit trail (Store.Audit) until then, long after the
	// revocation itself has expired. Revocations a store derives by itself
	// (RevokeUser's per-session ones) are not audited separately.
	AuditUntil time.Time
}

// Rotation is one use of a refresh token with ROTATE_REFRESH_TOKENS: Old
// was exchanged for Next and Access, in session SessionID. It is kept until
// Old expires, so that a second use of Old is recognised: a client's retry
// within REFRESH_REUSE_GRACE gets the same answer again, any later use is a
// reuse that revokes the whole session.
type Rotation struct {
	Old          OutstandingToken
	BlacklistOld bool
	Next         OutstandingToken // Next.Token: the refresh token answered
	Access       string           // the access token answered with it
	SessionID    string
	// SessionExpires is the session's new expiry: Next's exp plus one
	// access token lifetime.
	SessionExpires time.Time
	RotatedAt      time.Time
}

// FlushResult counts what FlushExpired deleted.
type FlushResult struct {
	Outstanding int64
	Blacklisted int64
	Sessions    int64
	Revocations int64
	Rotations   int64
	Audit       int64 // audit trail entries past their AuditUntil
	Attempts    int64 // attempt counters of windows that have ended
}

// TokenStatus selects outstanding tokens by their state at TokenQuery.Now.
type TokenStatus string

// The token statuses of TokenQuery.Status.
const (
	// TokenAll (the zero value) selects every token.
	TokenAll TokenStatus = ""
	// TokenLive selects the tokens not expired at Now and not blacklisted.
	TokenLive TokenStatus = "live"
	// TokenExpired selects the tokens whose ExpiresAt is at or before Now,
	// blacklisted or not.
	TokenExpired TokenStatus = "expired"
	// TokenBlacklisted selects the blacklisted tokens, expired or not.
	TokenBlacklisted TokenStatus = "blacklisted"
)

// TokenSort is the order in which outstanding tokens are listed.
type TokenSort string

// The orders of TokenQuery.Sort. Every order breaks ties by ID, in the
// same direction, so that the pages of one query (Limit and Offset) never
// overlap and together make the whole list.
const (
	// SortCreated (also the zero value) orders by CreatedAt. A token
	// without one (a foreign token blacklisted without ever being issued
	// here) counts as created before every other: last newest first, first
	// oldest first.
	SortCreated TokenSort = "created"
	// SortExpires orders by ExpiresAt.
	SortExpires TokenSort = "expires"
	// SortBlacklisted orders by BlacklistedAt; the tokens that are not
	// blacklisted come after all the blacklisted ones in both directions,
	// by ID.
	SortBlacklisted TokenSort = "blacklisted"
)

// TokenQuery selects outstanding tokens for listing. The conditions
// combine: every one that is set must hold.
type TokenQuery struct {
	UserID *int64 // only this user's tokens
	JTI    string // only the token with exactly this jti
	// BlacklistedOnly is the same as Status TokenBlacklisted.
	BlacklistedOnly bool
	Status          TokenStatus
	// Now is the instant TokenLive and TokenExpired are judged at; zero
	// means time.Now().
	Now time.Time
	// Sort is the order (zero: SortCreated), newest or latest first unless
	// Ascending.
	Sort      TokenSort
	Ascending bool
	Limit     int // 0 means no limit
	Offset    int
}

// Stats counts what a store holds at an instant, for a dashboard. Every
// count is exact.
type Stats struct {
	// LiveTokens counts the outstanding tokens neither expired nor
	// blacklisted, ExpiredTokens the expired ones (blacklisted or not),
	// BlacklistedTokens the blacklisted ones (expired or not).
	LiveTokens, ExpiredTokens, BlacklistedTokens int64
	// LiveSessions counts the sessions neither expired nor revoked.
	LiveSessions int64
	// Revocations counts the revocation rows stored: those not expired,
	// and expired ones not flushed yet.
	Revocations int64
	// RevokedLastHour and RevokedLastDay count the stored revocations
	// whose CreatedAt is in (now-1h, now] and (now-24h, now].
	RevokedLastHour, RevokedLastDay int64
	// Expired is what FlushExpired(now) would delete right now (a dry run),
	// counted as FlushExpired counts.
	Expired FlushResult
}

// FlushOptions tune FlushExpired.
type FlushOptions struct {
	// Batch is the most rows deleted per transaction. 0 leaves it to the
	// store: DefaultFlushBatch, except on SQLite, whose transactions are
	// sized by how long they hold its one write lock (about 20 ms, at most
	// 10,000 rows; see store/sqlite).
	Batch int
	// Progress, when set, is called after each committed batch with the
	// running totals, from the goroutine that called FlushExpired.
	Progress func(done FlushResult)
}

// DefaultFlushBatch is the batch of FlushOptions whose Batch is 0 (or
// negative), on the stores that let other writers in beside a flush's
// transaction (all but SQLite).
const DefaultFlushBatch = 1000

// Store is where users, issued tokens, sessions and revocations live durably.
// Every method that returns without error has committed its write. Errors
// other than the documented sentinels mean the store could not answer; the
// caller must then refuse (fail closed).
type Store interface {
	UserStore
	TokenStore
	// Close releases the store's resources.
	Close() error
}

// UserStore keeps users.
type UserStore interface {
	// CreateUser inserts u and sets u.ID. Emails are unique regardless of
	// case. Returns ErrExists if the email is taken.
	CreateUser(ctx context.Context, u *User) error
	// UserByID returns ErrNotFound if there is no such user.
	UserByID(ctx context.Context, id int64) (*User, error)
	// UserByEmail matches the email case-insensitively. Returns ErrNotFound
	// if there is no such user.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// UpdateUser writes the password hash, flags and last login of u.
	// Returns ErrNotFound if there is no such user.
	UpdateUser(ctx context.Context, u *User) error
}

// TokenStore keeps issued tokens, sessions, revocations and settings.
type TokenStore interface {
	// IssueSession records a login: the refresh token as outstanding and its
	// session, in one transaction.
	IssueSession(ctx context.Context, t OutstandingToken, s Session) error
	// IsBlacklisted reports whether the token with this jti is blacklisted.
	IsBlacklisted(ctx context.Context, jti string) (bool, error)
	// Blacklist get-or-creates the outstanding row for t (by JTI), adds its
	// blacklisted row, and records revs, all in one transaction. Session
	// revocations also mark the session revoked. It returns revs with Seq set
	// (and ExpiresAt raised to the session's expiry where that is later).
	// Returns ErrBlacklisted, writing nothing, if t is already blacklisted.
	Blacklist(ctx context.Context, t OutstandingToken, revs ...Revocation) ([]Revocation, error)
	// Rotate records r, in one transaction: a refresh token can be rotated
	// once only. It registers r.Next as outstanding, blacklists r.Old when
	// r.BlacklistOld is set, keeps the Rotation (until r.Old expires) and
	// raises the session's ExpiresAt to r.SessionExpires. When r.Old was
	// already rotated it returns the Rotation recorded then and an error
	// wrapping ErrRotated; otherwise, when r.BlacklistOld is set and r.Old
	// is blacklisted, ErrBlacklisted. Either way it writes nothing.
	// Concurrent calls for one r.Old: exactly one succeeds.
	Rotate(ctx context.Context, r Rotation) (Rotation, error)
	// RevokeSession records rev (a session revocation: SessionID set) and
	// marks the session revoked, in one transaction, and returns rev with
	// Seq set (and ExpiresAt raised to the session's expiry where that is
	// later). Used where no refresh token is at hand: a rotated token's
	// reuse, a session ended from the sessions list.
	RevokeSession(ctx context.Context, rev Revocation) ([]Revocation, error)
	// RevokeUser records rev (a user-wide revocation with NotBefore set),
	// blacklists every unexpired outstanding token of rev.UserID and
	// revokes each of the user's live sessions with a session revocation of
	// its own, in one transaction. It returns every revocation it recorded,
	// with Seq set.
	RevokeUser(ctx context.Context, rev Revocation) ([]Revocation, error)
	// Revocations returns the revocations with Seq > afterSeq that have not
	// expired at now, in Seq order.
	Revocations(ctx context.Context, afterSeq int64, now time.Time) ([]Revocation, error)
	// Sessions returns the user's sessions that have not expired at now,
	// newest first.
	Sessions(ctx context.Context, userID int64, now time.Time) ([]Session, error)
	// OutstandingTokens lists the outstanding tokens (with BlacklistedAt)
	// that q selects, in q's order, Limit at most from Offset. An unknown
	// q.Status or q.Sort is an error.
	OutstandingTokens(ctx context.Context, q TokenQuery) ([]OutstandingToken, error)
	// Stats counts the tokens, sessions and revocations held at now, and
	// what FlushExpired(now) would delete, without loading the rows.
	Stats(ctx context.Context, now time.Time) (Stats, error)
	// FlushExpired deletes outstanding tokens (with their blacklisted rows),
	// sessions, revocations, rotations, audit entries past their AuditUntil
	// and attempt counters of windows that ended at or before now, in
	// transactions of at most opts.Batch rows each, so that other writers
	// are never blocked for long, calling opts.Progress after each one.
	FlushExpired(ctx context.Context, now time.Time, opts FlushOptions) (FlushResult, error)

	// Audit returns the audit trail of userID: the revocations recorded
	// with AuditUntil set (by Blacklist, RevokeSession or RevokeUser, as
	// given by the caller, with IP and UserAgent), newest first, at most
	// limit (0: no limit), including ones whose AuditUntil has passed but
	// that FlushExpired has not deleted yet.
	Audit(ctx context.Context, userID int64, limit int) ([]Revocation, error)

	// CountAttempt adds delta (1 for an attempt, -1 to give one back) to
	// the counter of key for the fixed window [windowStart,
	// windowStart+window) and returns the counter's new value, atomically
	// (concurrent calls from any instance all count). Counters of ended
	// windows are deleted by FlushExpired. It backs the login rate limits
	// shared by every instance of a cluster.
	CountAttempt(ctx context.Context, key string, windowStart time.Time, window time.Duration, delta int64) (int64, error)

	// Setting returns the stored value of key, first storing value if the
	// key is absent (atomically: concurrent callers all get the same value).
	Setting(ctx context.Context, key, value string) (string, error)
}
