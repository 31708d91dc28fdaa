-- Reserve one impression of one campaign: goal, even pacing and budget checked and counted
-- atomically, with the report counters of the day. All keys share the campaign's hash tag.
-- KEYS[1] campaign counters (hash: n, spend, hour, hn)  KEYS[2] stats of the day (hash)
-- KEYS[3] reach of the day and network (HyperLogLog)    KEYS[4] days reported (set)
-- ARGV hour (epoch hours), hours left in the flight (>= 1), goal (0: none),
--      budget (micro-units, 0: none), price (micro-units), network, pseudonym, stats TTL, day
-- Returns 'ok', 'goal' (contract goal reached), 'paced' (this hour's share served) or 'budget'.
local hour = ARGV[1]
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local hn = 0
if redis.call('HGET', KEYS[1], 'hour') == hour then
  hn = tonumber(redis.call('HGET', KEYS[1], 'hn') or '0')
end
local goal = tonumber(ARGV[3])
if goal > 0 then
  local remaining = goal - (n - hn)
  if n >= goal then return 'goal' end
  if hn >= math.ceil(remaining / tonumber(ARGV[2]) * 1.2) then return 'paced' end
end
local budget, price = tonumber(ARGV[4]), tonumber(ARGV[5])
if budget > 0 and tonumber(redis.call('HGET', KEYS[1], 'spend') or '0') + price > budget then
  return 'budget'
end
redis.call('HSET', KEYS[1], 'n', n + 1, 'hour', hour, 'hn', hn + 1)
redis.call('HINCRBY', KEYS[1], 'spend', price)
redis.call('HINCRBY', KEYS[2], ARGV[6] .. ':i', 1)
redis.call('HINCRBY', KEYS[2], ARGV[6] .. ':s', price)
redis.call('EXPIRE', KEYS[2], ARGV[8])
redis.call('PFADD', KEYS[3], ARGV[7])
redis.call('EXPIRE', KEYS[3], ARGV[8])
redis.call('SADD', KEYS[4], ARGV[9] .. '|' .. ARGV[6])
return 'ok'
