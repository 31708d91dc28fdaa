-- Reserve one impression of one campaign: goal, even pacing and budget checked and counted
-- atomically, with the report counters of the day. All keys share the campaign's hash tag.
-- KEYS[1] campaign counters (hash: n, spend, hour, hn)  KEYS[2] stats of the day (hash)
-- KEYS[3] reach of the day and network (HyperLogLog)    KEYS[4] days reported (set)
-- ARGV hour (epoch hours), hours left in the flight (>= 1), goal (0: none),
--      budget (micro-units, 0: none), price (micro-units), network, pseudonym, stats TTL, day
-- Returns 'ok', 'goal' (contract goal reached), 'paced' (this hour's share served) or 'budget'.
local hour = ARGV[1]
local goal, budget, price = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if goal == 0 and budget == 0 then -- nothing can refuse: count (the hour's count is for pacing)
  redis.call('HINCRBY', KEYS[1], 'n', 1)
  if price > 0 then redis.call('HINCRBY', KEYS[1], 'spend', price) end
else
  local got = redis.call('HMGET', KEYS[1], 'n', 'hour', 'hn', 'spend')
  local n = tonumber(got[1] or '0')
  local hn = got[2] == hour and tonumber(got[3] or '0') or 0
  if goal > 0 then
    local remaining = goal - (n - hn)
    if n >= goal then return 'goal' end
    if hn >= math.ceil(remaining / tonumber(ARGV[2]) * 1.2) then return 'paced' end
  end
  local spend = tonumber(got[4] or '0')
  if budget > 0 and spend + price > budget then return 'budget' end
  redis.call('HSET', KEYS[1], 'n', n + 1, 'hour', hour, 'hn', hn + 1, 'spend', spend + price)
end
local network = ARGV[6]
-- the day's first impression on this network creates its counters: TTLs and the days set once
local first = redis.call('HINCRBY', KEYS[2], network .. ':i', 1) == 1
if price > 0 then redis.call('HINCRBY', KEYS[2], network .. ':s', price) end
redis.call('PFADD', KEYS[3], ARGV[7])
if first then
  redis.call('EXPIRE', KEYS[2], ARGV[8])
  redis.call('EXPIRE', KEYS[3], ARGV[8])
  redis.call('SADD', KEYS[4], ARGV[9] .. '|' .. network)
end
return 'ok'
