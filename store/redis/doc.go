// Package redis keeps jwtrevoke's tokens, sessions and revocations in Redis
// (seed 001's fast option); users stay in the SQL or Mongo store
// (jwtrevoke.Split). Every key expires when what it records stops
// mattering: a token's key when the token expires, a revoked session's key
// when the last token of the session expires. Multi-key changes run in Lua
// scripts, so they are atomic and race-free; every revocation is published
// on a channel, which other instances subscribe to (but the token
// revocation a rotation records, which they load with their next poll).
//
// Durability is the server's: acknowledged revocations survive a Redis
// crash only with `appendonly yes` and `appendfsync always` (AOF), and none
// may be evicted, so the server must run with `maxmemory-policy noeviction`.
// Open refuses another policy (unless the URL says allow_eviction=true) and
// warns when AOF is off. All keys share the hash tag {jwtrevoke}, so they
// sit in one Redis Cluster slot.
//
// Revocations are the exception: the log of them is one sorted set,
// revlog, whose members are the revocations' JSON scored by seq, so that
// a restart reads a million of them with a ZRANGEBYSCORE per range rather
// than a key lookup each; flushexpiredtokens removes the expired ones
// (readers skip them meanwhile).
//
// Besides the keys, the scripts keep sorted sets that index them: tokens
// by id (toks, btoks for the blacklisted ones, utoks:<user>), by expiry
// (toks:exp, btoks:exp) and by creation (toks:created), blacklisted tokens
// by the time blacklisted (btoks:at), sessions by expiry (sess:exp,
// rsess:exp for the revoked ones), revocations by expiry and creation
// (revs:exp, revs:created). A set keeps an entry until
// flushexpiredtokens removes it, after Redis has dropped the key. Stats
// counts exactly on these sets, with ZCARD and ZCOUNT (O(log n) each, in
// one script), and listing tokens reads them in order; each costs a ZADD
// more per write than counting would need. Migrate adds the data of
// earlier versions, which did not keep toks:created, btoks:at, btoks:exp,
// rsess:exp and revs:created, to them, and moves the revocations that
// versions before 4 kept a key each (rev:<seq>, indexed by revs) to
// revlog.
package redis
