import { LUA_KEYS } from './keys.js';

/**
 * The Lua scripts of the Redis store. Each runs atomically on the keys of ONE chat, all of
 * which carry the hash tag `{chatId}`, so they keep working on Redis Cluster.
 *
 * Every script gets all of the chat's keys by name (`K.msgs`, `K.turn`, … from keys.ts) and
 * its arguments by name (`A.ttl`, `A.channel`, then its own `args`), from one generated
 * prelude: no position is written twice. Scripts publish events (live-event.ts), never
 * protocol frames, except the turn's final frame which the caller hands over as JSON.
 */
export interface LuaScript<Args extends string = string> {
  /** The script's own arguments, in the order the store passes them after ttl and channel. */
  readonly args: readonly Args[];
  readonly lua: string;
}

/** Arguments every script gets first: the chat's TTL in seconds (sliding) and its live channel. */
const COMMON_ARGS = ['ttl', 'channel'] as const;

const helpers = `
local function touch()
  for name, key in pairs(K) do
    if name ~= 'lease' then redis.call('EXPIRE', key, A.ttl) end
  end
end
-- Publishes an event: body is its JSON object without ev, e.g. {"kind":"start",...}.
local function pub(body)
  local ev = redis.call('INCR', K.ev)
  if ev == 1 then redis.call('EXPIRE', K.ev, A.ttl) end
  redis.call('PUBLISH', A.channel, '{"ev":' .. ev .. ',' .. string.sub(body, 2))
  return ev
end
local function control(kind, turnId)
  redis.call('PUBLISH', A.channel, cjson.encode({ev = 0, kind = kind, turnId = turnId}))
end
local function startEvent(turnId, replyTo, replaces)
  local e = {kind = 'start', turnId = turnId, replyTo = replyTo, replaces = cjson.null}
  if replaces ~= '' then e.replaces = replaces end
  return cjson.encode(e)
end
`;

function script<const Args extends string>(args: readonly Args[], body: string): LuaScript<Args> {
  const names = [...COMMON_ARGS, ...args];
  const argLine = `local A = {${names.map((name, i) => `${name} = ARGV[${i + 1}]`).join(', ')}}`;
  return { args, lua: `${LUA_KEYS}\n${argLine}\n${helpers}\n${body}` };
}

/**
 * Checks idempotency and the turn lock, stores the user message (a send) and its
 * idempotency record, opens the turn with its lease and publishes its start in the same
 * step, so no stalled producer can publish one after a takeover's.
 */
export const BEGIN = script(['kind', 'clientMsgId', 'turnId', 'owner', 'leaseMs', 'maxMessages', 'message', 'messageId'], `
local existing = redis.call('HGET', K.idem, A.clientMsgId)
if existing then
  touch()
  return {'duplicate', existing}
end
if redis.call('EXISTS', K.turn) == 1 then
  if redis.call('EXISTS', K.lease) == 1 then return {'busy'} end
  return {'orphan'}
end
local replyTo, replaces = '', ''
if A.kind == 'send' then
  redis.call('RPUSH', K.msgs, A.message)
  redis.call('LTRIM', K.msgs, -tonumber(A.maxMessages), -1)
  replyTo = A.messageId
else
  local n = redis.call('LLEN', K.msgs)
  for i = -1, -n, -1 do
    local m = cjson.decode(redis.call('LINDEX', K.msgs, i))
    if m.role == 'user' then
      replyTo = m.id
      break
    end
    if i == -1 then replaces = m.id end
  end
  if replyTo == '' then return {'nothing'} end
end
redis.call('HSET', K.idem, A.clientMsgId, replyTo)
redis.call('DEL', K.text)
redis.call('HSET', K.turn, 'turnId', A.turnId, 'replyTo', replyTo, 'replaces', replaces,
  'seq', 0, 'owner', A.owner, 'stop', 0)
redis.call('SET', K.lease, A.turnId, 'PX', A.leaseMs)
pub(startEvent(A.turnId, replyTo, replaces))
touch()
return {'started', replyTo, replaces}
`);

/** Appends to the turn's text and publishes the delta with the next seq. */
export const DELTA = script(['turnId', 'text'], `
if redis.call('GET', K.lease) ~= A.turnId then return {'fenced', 0} end
local seq = redis.call('HINCRBY', K.turn, 'seq', 1)
redis.call('APPEND', K.text, A.text)
if seq == 1 then redis.call('EXPIRE', K.text, A.ttl) end
pub(cjson.encode({kind = 'delta', turnId = A.turnId, seq = seq, text = A.text}))
if redis.call('HGET', K.turn, 'stop') == '1' then return {'stop', seq} end
return {'ok', seq}
`);

export const RENEW = script(['turnId', 'leaseMs'], `
if redis.call('GET', K.lease) ~= A.turnId then return 'fenced' end
redis.call('PEXPIRE', K.lease, A.leaseMs)
touch()
if redis.call('HGET', K.turn, 'stop') == '1' then return 'stop' end
return 'ok'
`);

/** message: JSON or ''; replaces: a message id or ''; frame: the final frame's JSON. */
export const END = script(['turnId', 'mode', 'message', 'replaces', 'frame', 'maxMessages'], `
if A.mode == 'owner' then
  if redis.call('GET', K.lease) ~= A.turnId then return 0 end
else
  if redis.call('HGET', K.turn, 'turnId') ~= A.turnId or redis.call('EXISTS', K.lease) == 1 then
    return 0
  end
end
if A.message ~= '' then
  local replaced = false
  if A.replaces ~= '' then
    local last = redis.call('LINDEX', K.msgs, -1)
    if last and cjson.decode(last).id == A.replaces then
      redis.call('LSET', K.msgs, -1, A.message)
      replaced = true
    end
  end
  if not replaced then
    redis.call('RPUSH', K.msgs, A.message)
    redis.call('LTRIM', K.msgs, -tonumber(A.maxMessages), -1)
  end
end
redis.call('DEL', K.turn, K.text, K.lease)
pub('{"kind":"end","frame":' .. A.frame .. '}')
touch()
return 1
`);

export const RELEASE = script(['turnId'], `
if redis.call('GET', K.lease) ~= A.turnId then return 0 end
redis.call('DEL', K.lease)
control('handover', A.turnId)
return 1
`);

/** Returns {replyTo, replaces} of the claimed turn, or nil when it is not that orphan any more. */
export const TAKEOVER = script(['oldTurnId', 'turnId', 'owner', 'leaseMs'], `
if redis.call('HGET', K.turn, 'turnId') ~= A.oldTurnId or redis.call('EXISTS', K.lease) == 1 then
  return false
end
redis.call('HSET', K.turn, 'turnId', A.turnId, 'seq', 0, 'owner', A.owner, 'stop', 0)
redis.call('DEL', K.text)
redis.call('SET', K.lease, A.turnId, 'PX', A.leaseMs)
local turn = redis.call('HMGET', K.turn, 'replyTo', 'replaces')
pub(startEvent(A.turnId, turn[1], turn[2]))
touch()
return turn
`);

/** Returns the turnId asked to stop, or nil. */
export const STOP = script([], `
local t = redis.call('HGET', K.turn, 'turnId')
if not t then return false end
redis.call('HSET', K.turn, 'stop', 1)
control('stop', t)
return t
`);

/** Returns {total, ev, messages, turn hash (flat), text, lease alive}. */
export const SNAPSHOT = script(['maxMessages'], `
local total = redis.call('LLEN', K.msgs)
local want = tonumber(A.maxMessages)
local msgs = {}
if want > 0 then msgs = redis.call('LRANGE', K.msgs, -want, -1) end
local turn = redis.call('HGETALL', K.turn)
local text = redis.call('GET', K.text) or ''
local lease = redis.call('EXISTS', K.lease)
local ev = tonumber(redis.call('GET', K.ev) or '0')
touch()
return {total, ev, msgs, turn, text, lease}
`);
