/**
 * The Lua scripts of the Redis store. Each runs atomically on the keys of ONE chat, all of
 * which carry the hash tag `{chatId}`, so they keep working on Redis Cluster.
 *
 * KEYS (always all six, in this order): 1 msgs (list of message JSON, oldest first),
 * 2 idem (hash clientMsgId → messageId), 3 turn (hash of the streaming turn), 4 text
 * (string: the turn's reply so far), 5 lease (string turnId, PX), 6 ev (event counter).
 * ARGV[1] = TTL in seconds (sliding, set on every key but the lease), ARGV[2] = channel.
 */
const prelude = `
local function touch()
  for i = 1, 6 do
    if i ~= 5 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
  end
end
local function pub(frame, seq)
  local ev = redis.call('INCR', KEYS[6])
  if ev == 1 then redis.call('EXPIRE', KEYS[6], ARGV[1]) end
  local env = '{"ev":' .. ev
  if seq then env = env .. ',"seq":' .. seq end
  redis.call('PUBLISH', ARGV[2], env .. ',"frame":' .. frame .. '}')
  return ev
end
`;

/**
 * ARGV 3 kind, 4 clientMsgId, 5 turnId, 6 owner, 7 leaseMs, 8 maxMessages, 9 user message
 * JSON, 10 its id, 11 chatId. Publishes the turn's `start` in the same step, so no stalled
 * producer can publish one after a takeover's.
 */
export const BEGIN = `${prelude}
local existing = redis.call('HGET', KEYS[2], ARGV[4])
if existing then
  touch()
  return {'duplicate', existing}
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  if redis.call('EXISTS', KEYS[5]) == 1 then return {'busy'} end
  return {'orphan'}
end
local replyTo, replaces = '', ''
if ARGV[3] == 'send' then
  redis.call('RPUSH', KEYS[1], ARGV[9])
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[8]), -1)
  replyTo = ARGV[10]
else
  local n = redis.call('LLEN', KEYS[1])
  for i = -1, -n, -1 do
    local m = cjson.decode(redis.call('LINDEX', KEYS[1], i))
    if m.role == 'user' then
      replyTo = m.id
      break
    end
    if i == -1 then replaces = m.id end
  end
  if replyTo == '' then return {'nothing'} end
end
redis.call('HSET', KEYS[2], ARGV[4], replyTo)
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[3], 'turnId', ARGV[5], 'replyTo', replyTo, 'replaces', replaces,
  'seq', 0, 'owner', ARGV[6], 'stop', 0)
redis.call('SET', KEYS[5], ARGV[5], 'PX', ARGV[7])
local start = {type = 'start', chatId = ARGV[11], turnId = ARGV[5], replyTo = replyTo, replaces = cjson.null}
if replaces ~= '' then start.replaces = replaces end
pub(cjson.encode(start))
touch()
return {'started', replyTo, replaces}
`;

/** ARGV 3 turnId, 4 text, 5 delta frame JSON (its seq is carried by the envelope). */
export const DELTA = `${prelude}
if redis.call('GET', KEYS[5]) ~= ARGV[3] then return {'fenced', 0} end
local seq = redis.call('HINCRBY', KEYS[3], 'seq', 1)
redis.call('APPEND', KEYS[4], ARGV[4])
if seq == 1 then redis.call('EXPIRE', KEYS[4], ARGV[1]) end
pub(ARGV[5], seq)
if redis.call('HGET', KEYS[3], 'stop') == '1' then return {'stop', seq} end
return {'ok', seq}
`;

/** ARGV 3 turnId, 4 leaseMs. */
export const RENEW = `${prelude}
if redis.call('GET', KEYS[5]) ~= ARGV[3] then return 'fenced' end
redis.call('PEXPIRE', KEYS[5], ARGV[4])
touch()
if redis.call('HGET', KEYS[3], 'stop') == '1' then return 'stop' end
return 'ok'
`;

/** ARGV 3 turnId, 4 mode (owner|orphan), 5 message JSON or '', 6 replaces or '', 7 frame JSON, 8 maxMessages. */
export const END = `${prelude}
if ARGV[4] == 'owner' then
  if redis.call('GET', KEYS[5]) ~= ARGV[3] then return 0 end
else
  if redis.call('HGET', KEYS[3], 'turnId') ~= ARGV[3] or redis.call('EXISTS', KEYS[5]) == 1 then
    return 0
  end
end
if ARGV[5] ~= '' then
  local replaced = false
  if ARGV[6] ~= '' then
    local last = redis.call('LINDEX', KEYS[1], -1)
    if last and cjson.decode(last).id == ARGV[6] then
      redis.call('LSET', KEYS[1], -1, ARGV[5])
      replaced = true
    end
  end
  if not replaced then
    redis.call('RPUSH', KEYS[1], ARGV[5])
    redis.call('LTRIM', KEYS[1], -tonumber(ARGV[8]), -1)
  end
end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5])
pub(ARGV[7])
touch()
return 1
`;

/** ARGV 3 turnId. */
export const RELEASE = `
if redis.call('GET', KEYS[5]) ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[5])
redis.call('PUBLISH', ARGV[2], '{"ev":0,"control":"handover","turnId":' .. cjson.encode(ARGV[3]) .. '}')
return 1
`;

/** ARGV 3 old turnId, 4 new turnId, 5 owner, 6 leaseMs, 7 start frame JSON. */
export const TAKEOVER = `${prelude}
if redis.call('HGET', KEYS[3], 'turnId') ~= ARGV[3] or redis.call('EXISTS', KEYS[5]) == 1 then
  return false
end
redis.call('HSET', KEYS[3], 'turnId', ARGV[4], 'seq', 0, 'owner', ARGV[5], 'stop', 0)
redis.call('DEL', KEYS[4])
redis.call('SET', KEYS[5], ARGV[4], 'PX', ARGV[6])
pub(ARGV[7])
touch()
return redis.call('HMGET', KEYS[3], 'replyTo', 'replaces')
`;

/** No ARGV beyond the prelude's. Returns the turnId asked to stop, or nil. */
export const STOP = `
local t = redis.call('HGET', KEYS[3], 'turnId')
if not t then return false end
redis.call('HSET', KEYS[3], 'stop', 1)
redis.call('PUBLISH', ARGV[2], '{"ev":0,"control":"stop","turnId":' .. cjson.encode(t) .. '}')
return t
`;

/** ARGV 3 max messages. Returns {total, ev, messages, turn hash (flat), text, lease alive}. */
export const SNAPSHOT = `${prelude}
local total = redis.call('LLEN', KEYS[1])
local want = tonumber(ARGV[3])
local msgs = {}
if want > 0 then msgs = redis.call('LRANGE', KEYS[1], -want, -1) end
local turn = redis.call('HGETALL', KEYS[3])
local text = redis.call('GET', KEYS[4]) or ''
local lease = redis.call('EXISTS', KEYS[5])
local ev = tonumber(redis.call('GET', KEYS[6]) or '0')
touch()
return {total, ev, msgs, turn, text, lease}
`;
