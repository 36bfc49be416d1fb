// Package redis keeps jwtrevoke's tokens, sessions and revocations in Redis
// (seed 001's fast option); users stay in the SQL or Mongo store
// (jwtrevoke.Split). Every key expires when what it records stops
// mattering: a token's key when the token expires, a revoked session's key
// when the last token of the session expires. Multi-key changes run in Lua
// scripts, so they are atomic and race-free; every revocation is published
// on a channel, which other instances subscribe to.
//
// Durability is the server's: acknowledged revocations survive a Redis
// crash only with `appendonly yes` and `appendfsync always` (AOF), and none
// may be evicted, so the server must run with `maxmemory-policy noeviction`.
// Open refuses another policy (unless the URL says allow_eviction=true) and
// warns when AOF is off. All keys share the hash tag {jwtrevoke}, so they
// sit in one Redis Cluster slot.
package redis
