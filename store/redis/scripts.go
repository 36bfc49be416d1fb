package redis

import goredis "github.com/redis/go-redis/v9"

// Every script gets the key prefix as KEYS[1] and builds its keys from it
// (all under one hash tag). Times are Unix milliseconds, passed and stored
// as decimal strings.

// luaLib holds the helpers the scripts share.
const luaLib = `
local P = KEYS[1]
local function n(x) return tonumber(x) end
-- tok makes (or finds) the outstanding token jti; returns its id.
local function tok(jti, user, token, created, expires)
  local k = P .. 'tok:' .. jti
  local id = redis.call('HGET', k, 'id')
  if id then return id end
  id = tostring(redis.call('INCR', P .. 'seq:tok'))
  redis.call('HSET', k, 'id', id, 'jti', jti, 'user_id', user, 'token', token, 'created_at', created, 'expires_at', expires)
  redis.call('PEXPIREAT', k, expires)
  redis.call('ZADD', P .. 'toks', id, jti)
  -- Listing newest first: a token without created_at counts as the
  -- earliest.
  redis.call('ZADD', P .. 'toks:created', created == '' and '-inf' or created, jti)
  -- The expiry index names the user too: the token's own key may be gone
  -- (expired) by the time flushexpiredtokens cleans the user's index.
  redis.call('ZADD', P .. 'toks:exp', expires, user .. ':' .. jti)
  if user ~= '' then redis.call('ZADD', P .. 'utoks:' .. user, id, jti) end
  return id
end
-- blacklisted marks the token jti (key k, id id, expiring at expires)
-- blacklisted at now, in its key and the indexes of blacklisted tokens:
-- btoks by id, btoks:at by the time blacklisted (for listing), btoks:exp
-- by the token's expiry (for counting the live ones). (The key of a token
-- that has expired already is gone: its expiry is the caller's.)
local function blacklisted(k, jti, id, now, expires)
  redis.call('HSET', k, 'blacklisted_at', now)
  redis.call('ZADD', P .. 'btoks', id, jti)
  redis.call('ZADD', P .. 'btoks:at', now, jti)
  redis.call('ZADD', P .. 'btoks:exp', expires, jti)
end
-- blacklist marks jti blacklisted; false if it already was.
local function blacklist(jti, user, token, created, expires, now)
  local id = tok(jti, user, token, created, expires)
  local k = P .. 'tok:' .. jti
  if redis.call('HEXISTS', k, 'blacklisted_at') == 1 then return false end
  blacklisted(k, jti, id, now, redis.call('HGET', k, 'expires_at') or expires)
  return true
end
-- audit adds the audit entry of the recorded revocation r (a = its
-- audit fields): a member of the user's sorted set audit:<user>, scored
-- by created_at, whose key lives until the latest keep_until of its
-- entries, and of the index audit:exp, scored by keep_until. The member
-- starts with the zero-padded seq, so that entries are distinct and equal
-- times list newest first.
local function audit(r, a)
  local k = P .. 'audit:' .. r.user_id
  local member = string.format('%020d', n(r.seq)) .. '|' .. cjson.encode({seq = r.seq, user_id = r.user_id,
    session_id = r.session_id, jti = r.jti, not_before = r.not_before, expires_at = r.expires_at,
    reason = r.reason, created_at = r.created_at, ip = a.ip, user_agent = a.user_agent, keep_until = a.keep_until})
  redis.call('ZADD', k, r.created_at, member)
  local cur = redis.call('PEXPIRETIME', k)
  if cur == -1 or n(a.keep_until) > cur then redis.call('PEXPIREAT', k, a.keep_until) end
  redis.call('ZADD', P .. 'audit:exp', a.keep_until, r.user_id .. ':' .. member)
end
-- record writes one revocation (fields as in revocation.go), raising a
-- session revocation's expiry to the session's and marking it revoked,
-- and publishes it unless quiet. With audited (a revocation the caller
-- gave, not one derived here) and r.audit set, it adds its audit entry
-- too; r.audit is neither stored with the revocation nor published.
-- Returns the stored JSON.
local function record(r, now, audited, quiet)
  local a = r.audit
  r.audit = nil
  if r.session_id ~= '' then
    local sk = P .. 'sess:' .. r.session_id
    local se = redis.call('HGET', sk, 'expires_at')
    if se and n(se) > n(r.expires_at) then r.expires_at = se end
    if se and redis.call('HEXISTS', sk, 'revoked_at') == 0 then
      redis.call('HSET', sk, 'revoked_at', now)
      -- Revoked sessions by expiry, as sess:exp lists them all: the live
      -- ones are counted as the difference.
      redis.call('ZADD', P .. 'rsess:exp', se, redis.call('HGET', sk, 'user_id') .. ':' .. r.session_id)
    end
    redis.call('SET', P .. 'revoked:session:' .. r.session_id, '1', 'PXAT', r.expires_at)
  elseif r.jti ~= '' then
    redis.call('SET', P .. 'revoked:token:' .. r.jti, '1', 'PXAT', r.expires_at)
  end
  local seq = redis.call('INCR', P .. 'seq:rev')
  r.seq = tostring(seq)
  local js = cjson.encode(r)
  redis.call('ZADD', P .. 'revlog', seq, js)
  redis.call('ZADD', P .. 'revs:exp', r.expires_at, seq)
  redis.call('ZADD', P .. 'revs:created', r.created_at, seq)
  if not quiet then redis.call('PUBLISH', P .. 'revocations', js) end
  if audited and type(a) == 'table' then audit(r, a) end
  return js
end
-- rotated records the token revocation of the rotated token jti of user
-- (jwtrevoke.ReasonRotated), until the token expires: with it every
-- blacklisted token is refused by the revocation log (see
-- Store.BlacklistLogged). It is not published: other instances load it
-- with their next poll (REVOCATION_POLL_INTERVAL), as the SQL stores'
-- blacklist feed is loaded; a message per rotation would have every
-- instance read the log once per rotation, not once per poll.
local function rotated(jti, user, expires, now)
  return record({session_id = '', jti = jti, user_id = user == '' and '0' or user, not_before = '',
    expires_at = expires, reason = 'rotated', created_at = now}, now, false, true)
end
`

// issueScript: ARGV jti user token created expires | sid created expires ip ua sessionUser.
var issueScript = goredis.NewScript(luaLib + `
if redis.call('EXISTS', P .. 'tok:' .. ARGV[1]) == 1 then return redis.error_reply('EXISTS token') end
if redis.call('EXISTS', P .. 'sess:' .. ARGV[6]) == 1 then return redis.error_reply('EXISTS session') end
tok(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
local sk = P .. 'sess:' .. ARGV[6]
local user = ARGV[11]
redis.call('HSET', sk, 'id', ARGV[6], 'user_id', user, 'created_at', ARGV[7], 'expires_at', ARGV[8], 'ip', ARGV[9], 'user_agent', ARGV[10])
redis.call('PEXPIREAT', sk, ARGV[8])
redis.call('ZADD', P .. 'usess:' .. user, ARGV[7], ARGV[6])
redis.call('ZADD', P .. 'sess:exp', ARGV[8], user .. ':' .. ARGV[6])
return 'OK'
`)

// blacklistScript: ARGV jti user token created expires now revsJSON.
// Returns the recorded revocations' JSON, or the error BLACKLISTED.
var blacklistScript = goredis.NewScript(luaLib + `
if not blacklist(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]) then
  return redis.error_reply('BLACKLISTED')
end
local out = {}
for _, r in ipairs(cjson.decode(ARGV[7])) do table.insert(out, record(r, ARGV[6], true)) end
return out
`)

// rotateScript: ARGV old(jti user token created expires) blacklistOld(0/1)
// next(jti user token created expires) sid sessionExpires now rotJSON.
// Returns {'ROTATED', the recorded rotJSON} if old was rotated already,
// else {'OK', rotJSON}; the error BLACKLISTED if blacklistOld and old is
// blacklisted. The rotation is kept (rot:<old jti>) until old expires.
// With blacklistOld it blacklists old and records its token revocation
// (unpublished), so the revocation log holds every blacklisted token.
var rotateScript = goredis.NewScript(luaLib + `
local rk = P .. 'rot:' .. ARGV[1]
local prev = redis.call('GET', rk)
if prev then return {'ROTATED', prev} end
if ARGV[6] == '1' and redis.call('HEXISTS', P .. 'tok:' .. ARGV[1], 'blacklisted_at') == 1 then
  return redis.error_reply('BLACKLISTED')
end
if redis.call('EXISTS', P .. 'tok:' .. ARGV[7]) == 1 then return redis.error_reply('EXISTS token') end
redis.call('SET', rk, ARGV[15], 'PXAT', ARGV[5])
redis.call('ZADD', P .. 'rots:exp', ARGV[5], ARGV[1])
if ARGV[6] == '1' then
  blacklist(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[14])
  rotated(ARGV[1], ARGV[2], ARGV[5], ARGV[14])
end
tok(ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
local sk = P .. 'sess:' .. ARGV[12]
local se = redis.call('HGET', sk, 'expires_at')
if se and n(ARGV[13]) > n(se) then
  redis.call('HSET', sk, 'expires_at', ARGV[13])
  redis.call('PEXPIREAT', sk, ARGV[13])
  local m = redis.call('HGET', sk, 'user_id') .. ':' .. ARGV[12]
  redis.call('ZADD', P .. 'sess:exp', ARGV[13], m)
  if redis.call('HEXISTS', sk, 'revoked_at') == 1 then redis.call('ZADD', P .. 'rsess:exp', ARGV[13], m) end
end
return {'OK', ARGV[15]}
`)

// revokeSessionScript: ARGV now revJSON. Records the session revocation
// (marking the session revoked); returns its JSON.
var revokeSessionScript = goredis.NewScript(luaLib + `
return record(cjson.decode(ARGV[2]), ARGV[1], true)
`)

// revokeUserScript: ARGV user now revJSON. Blacklists the user's live
// tokens, records the user revocation and one per live session.
var revokeUserScript = goredis.NewScript(luaLib + `
local user, now = ARGV[1], ARGV[2]
for _, jti in ipairs(redis.call('ZRANGE', P .. 'utoks:' .. user, 0, -1)) do
  local k = P .. 'tok:' .. jti
  local exp = redis.call('HGET', k, 'expires_at')
  if exp and n(exp) > n(now) and redis.call('HEXISTS', k, 'blacklisted_at') == 0 then
    blacklisted(k, jti, redis.call('HGET', k, 'id'), now, exp)
  end
end
local rev = cjson.decode(ARGV[3])
local out = {record(rev, now, true)}
for _, sid in ipairs(redis.call('ZRANGE', P .. 'usess:' .. user, 0, -1)) do
  local sk = P .. 'sess:' .. sid
  local exp = redis.call('HGET', sk, 'expires_at')
  if exp and n(exp) > n(now) and redis.call('HEXISTS', sk, 'revoked_at') == 0 then
    table.insert(out, record({session_id = sid, jti = '', user_id = rev.user_id, not_before = '',
      expires_at = now, reason = rev.reason, created_at = rev.created_at}, now, false))
  end
end
return out
`)

// flushTokensScript: ARGV now batch. Removes up to batch expired tokens
// (their keys and index entries); returns {tokens, blacklisted}.
var flushTokensScript = goredis.NewScript(luaLib + `
local members = redis.call('ZRANGEBYSCORE', P .. 'toks:exp', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local b = 0
for _, m in ipairs(members) do
  local user, jti = string.match(m, '^([^:]*):(.*)$')
  if redis.call('ZREM', P .. 'btoks', jti) == 1 then b = b + 1 end
  redis.call('ZREM', P .. 'btoks:at', jti)
  redis.call('ZREM', P .. 'btoks:exp', jti)
  redis.call('ZREM', P .. 'toks', jti)
  redis.call('ZREM', P .. 'toks:created', jti)
  redis.call('ZREM', P .. 'toks:exp', m)
  if user ~= '' then redis.call('ZREM', P .. 'utoks:' .. user, jti) end
  redis.call('DEL', P .. 'tok:' .. jti)
end
return {#members, b}
`)

// flushSessionsScript: ARGV now batch.
var flushSessionsScript = goredis.NewScript(luaLib + `
local members = redis.call('ZRANGEBYSCORE', P .. 'sess:exp', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, m in ipairs(members) do
  local user, id = string.match(m, '^([^:]*):(.*)$')
  redis.call('ZREM', P .. 'usess:' .. user, id)
  redis.call('ZREM', P .. 'sess:exp', m)
  redis.call('ZREM', P .. 'rsess:exp', m)
  redis.call('DEL', P .. 'sess:' .. id)
end
return #members
`)

// flushRevocationsScript: ARGV now batch. The revocation log's entries
// do not expire by themselves (members of a sorted set): this removes
// those that have, by revs:exp.
var flushRevocationsScript = goredis.NewScript(luaLib + `
local seqs = redis.call('ZRANGEBYSCORE', P .. 'revs:exp', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, seq in ipairs(seqs) do
  redis.call('ZREMRANGEBYSCORE', P .. 'revlog', seq, seq)
  redis.call('ZREM', P .. 'revs:exp', seq)
  redis.call('ZREM', P .. 'revs:created', seq)
end
return #seqs
`)

// flushRotationsScript: ARGV now batch. Redis drops a rotation's key when
// its old token expires; this cleans the expiry index.
var flushRotationsScript = goredis.NewScript(luaLib + `
local jtis = redis.call('ZRANGEBYSCORE', P .. 'rots:exp', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, jti in ipairs(jtis) do
  redis.call('ZREM', P .. 'rots:exp', jti)
  redis.call('DEL', P .. 'rot:' .. jti)
end
return #jtis
`)

// flushAuditScript: ARGV now batch. Removes up to batch audit entries
// whose keep_until has come (Redis drops a user's whole audit key at its
// latest keep_until by itself).
var flushAuditScript = goredis.NewScript(luaLib + `
local members = redis.call('ZRANGEBYSCORE', P .. 'audit:exp', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, m in ipairs(members) do
  local user, entry = string.match(m, '^([^:]*):(.*)$')
  redis.call('ZREM', P .. 'audit:' .. user, entry)
  redis.call('ZREM', P .. 'audit:exp', m)
end
return #members
`)

// countAttemptScript: ARGV key windowStart windowEnd delta. Adds delta to
// the window's counter att:<key>:<windowStart>, which expires at the end
// of the window, and returns the new value.
var countAttemptScript = goredis.NewScript(luaLib + `
local member = ARGV[1] .. ':' .. ARGV[2]
local k = P .. 'att:' .. member
local v = redis.call('INCRBY', k, ARGV[4])
redis.call('PEXPIREAT', k, ARGV[3])
redis.call('ZADD', P .. 'att:exp', ARGV[3], member)
return v
`)

// flushAttemptsScript: ARGV now batch. Deletes up to batch counters of
// windows that ended (Redis expires most of them by itself).
var flushAttemptsScript = goredis.NewScript(luaLib + `
local members = redis.call('ZRANGEBYSCORE', P .. 'att:exp', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, m in ipairs(members) do
  redis.call('DEL', P .. 'att:' .. m)
  redis.call('ZREM', P .. 'att:exp', m)
end
return #members
`)

// statsScript: ARGV now hourAgo dayAgo. Returns the counts of Stats, in
// the order of statsFields, each a ZCARD or a ZCOUNT of one index
// (O(log n)), in one script: one snapshot.
var statsScript = goredis.NewScript(luaLib + `
local now, hour, day = ARGV[1], ARGV[2], ARGV[3]
local function expired(key) return redis.call('ZCOUNT', P .. key, '-inf', now) end
local function unexpired(key) return redis.call('ZCOUNT', P .. key, '(' .. now, '+inf') end
local blacklisted, bexp = redis.call('ZCARD', P .. 'btoks'), expired('btoks:exp')
return {unexpired('toks:exp') - (blacklisted - bexp), expired('toks:exp'), blacklisted,
  unexpired('sess:exp') - unexpired('rsess:exp'),
  redis.call('ZCARD', P .. 'revlog'),
  redis.call('ZCOUNT', P .. 'revs:created', '(' .. hour, now),
  redis.call('ZCOUNT', P .. 'revs:created', '(' .. day, now),
  bexp, expired('sess:exp'), expired('revs:exp'), expired('rots:exp'), expired('audit:exp'), expired('att:exp')}
`)

// backfillScript: ARGV index member... Adds the members of index (toks,
// btoks, sess:exp or revlog, as ZSCAN read them) to the indexes that
// versions before schemaVersion 2 did not keep: toks:created, btoks:at,
// btoks:exp, rsess:exp and revs:created. A token whose key has expired
// already is left out of them, but for btoks:exp, where it counts as
// expired (score 0) until flushexpiredtokens removes it.
var backfillScript = goredis.NewScript(luaLib + `
local index = ARGV[1]
for i = 2, #ARGV do
  local m = ARGV[i]
  if index == 'toks' then
    local c = redis.call('HGET', P .. 'tok:' .. m, 'created_at')
    if c then redis.call('ZADD', P .. 'toks:created', c == '' and '-inf' or c, m) end
  elseif index == 'btoks' then
    local h = redis.call('HMGET', P .. 'tok:' .. m, 'blacklisted_at', 'expires_at')
    if h[1] then redis.call('ZADD', P .. 'btoks:at', h[1], m) end
    redis.call('ZADD', P .. 'btoks:exp', h[2] or 0, m)
  elseif index == 'sess:exp' then
    local user, id = string.match(m, '^([^:]*):(.*)$')
    if redis.call('HEXISTS', P .. 'sess:' .. id, 'revoked_at') == 1 then
      redis.call('ZADD', P .. 'rsess:exp', redis.call('ZSCORE', P .. 'sess:exp', m), m)
    end
  elseif index == 'revlog' then
    local r = cjson.decode(m)
    redis.call('ZADD', P .. 'revs:created', r.created_at, r.seq)
  end
end
return #ARGV - 1
`)

// revlogScript: ARGV batch. Moves up to batch revocations of the layout
// before schemaVersion 4 (the key rev:<seq> holding the JSON, indexed by
// seq in revs) to the revocation log revlog (the JSON itself, scored by
// seq), and returns how many members of revs it took: Migrate repeats it
// until revs is empty. A member whose key has expired is dropped.
var revlogScript = goredis.NewScript(luaLib + `
local seqs = redis.call('ZRANGE', P .. 'revs', 0, tonumber(ARGV[1]) - 1)
for _, seq in ipairs(seqs) do
  local js = redis.call('GET', P .. 'rev:' .. seq)
  if js then redis.call('ZADD', P .. 'revlog', seq, js) end
  redis.call('DEL', P .. 'rev:' .. seq)
  redis.call('ZREM', P .. 'revs', seq)
end
return #seqs
`)

// rotatedBackfillScript: ARGV now jti... Records the token revocation of
// each rotated token jti (members of rots:exp, as ZSCAN read them) that is
// blacklisted and unexpired but has none: rotations by versions before
// schemaVersion 3 blacklisted the old token without one. Returns how many
// it recorded.
var rotatedBackfillScript = goredis.NewScript(luaLib + `
local now, count = ARGV[1], 0
for i = 2, #ARGV do
  local jti = ARGV[i]
  local h = redis.call('HMGET', P .. 'tok:' .. jti, 'blacklisted_at', 'expires_at', 'user_id')
  if h[1] and h[2] and n(h[2]) > n(now) and redis.call('EXISTS', P .. 'revoked:token:' .. jti) == 0 then
    rotated(jti, h[3] or '', h[2], now)
    count = count + 1
  end
end
return count
`)
