// Package sqlite is the embedded default jwtrevoke.Store: one SQLite file
// (pure Go, no cgo) in WAL mode with synchronous=FULL, so every acknowledged
// write is on disk. It keeps SimpleJWT's token_blacklist tables and Django's
// users_user shape, so a Django project can share the file. Migrations are
// embedded and versioned.
package sqlite
