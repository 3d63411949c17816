/**
 * GCRA (rate-limit.ts) as one Redis script over one key, so every replica shares the
 * limit and a take is atomic. Time is Redis' own (TIME), the same for every replica.
 * ARGV: intervalMs, burst. Returns 0 when a token was taken, else the ms to wait.
 */
export const RATE_TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nextTat = tat + interval
local over = nextTat - now - interval * burst
if over > 0 then return over end
redis.call('SET', KEYS[1], string.format('%d', nextTat), 'PX', nextTat - now)
return 0
`;
