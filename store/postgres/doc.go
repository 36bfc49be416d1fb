// Package postgres is the PostgreSQL jwtrevoke.Store (pgx). It keeps
// SimpleJWT's token_blacklist tables with Django's names, so a Django +
// SimpleJWT deployment can share the database, and its migrations are
// embedded and versioned.
package postgres
