// Package jwtrevoke is JWT authentication in which logout really works.
//
// It holds the domain: token claims with SimpleJWT's names, Settings with
// SimpleJWT's setting names and defaults, User, the Store interface every
// storage backend implements, the sentinel errors, and Service, which runs
// the whole flow (obtain, refresh, verify, blacklist, logout, logout-all)
// over a Store. Revocations are kept in memory so that checking a token on a
// request never touches the store.
//
// This package imports no storage driver and no HTTP layer: stores live under
// store/, the SimpleJWT-compatible HTTP API and middleware in httpapi.
package jwtrevoke
