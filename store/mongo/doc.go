// Package mongo is the MongoDB jwtrevoke.Store (mongo-driver v2), seed
// 004's store. It needs no transactions, change streams or TTL indexes:
// unique indexes and single-document atomic writes make it race-free, reads
// filter on expiry, and flushexpiredtokens deletes expired documents. TTL
// indexes are created where the server supports them. Other instances learn
// of revocations by polling the revocation log.
//
// It is tested against FerretDB (a MongoDB wire-protocol server on SQLite,
// tools/ferretdb), not against a real mongod, which cannot be installed
// where this project is built.
package mongo
