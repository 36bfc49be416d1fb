// Package mysql is the MySQL/MariaDB jwtrevoke.Store (go-sql-driver/mysql),
// tested against MariaDB. It keeps SimpleJWT's token_blacklist tables, and
// its migrations are embedded and versioned.
package mysql
