import { LUA_KEYS } from './keys.js';

/**
 * The head of a chat (snapshot-cache.ts): its event counter, whether its turn's lease is
 * alive, whether a stop was asked for. Reads only; gets every key of the chat, like the
 * scripts of lua.ts. Returns {ev, lease (0/1), stop (0/1)}.
 */
export const SNAPSHOT_HEAD = `
${LUA_KEYS}
local ev = tonumber(redis.call('GET', K.ev) or '0')
local lease = redis.call('EXISTS', K.lease)
local stop = 0
if redis.call('HGET', K.turn, 'stop') == '1' then stop = 1 end
return {ev, lease, stop}
`;
