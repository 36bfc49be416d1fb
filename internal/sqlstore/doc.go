// Package sqlstore is the jwtrevoke.Store implementation shared by the SQL
// stores (SQLite, PostgreSQL, MySQL/MariaDB): the queries, scanning,
// transactions with retry, and the migration runner. Each store package
// supplies a Dialect, its *sql.DB and its embedded migrations.
package sqlstore
