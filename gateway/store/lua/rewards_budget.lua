-- The global daily budget (its own slot). KEYS day (hash: total:<currency>, r:<redemption>),
-- breaker · ARGV op (reserve | release), redemption, currency, value, budget, ttl, now,
-- seconds until the day ends → 1 reserved/released | 0 refused or nothing to release.
-- A reservation that would pass the budget trips the breaker, which refuses every reservation
-- until the day ends. Reserving or releasing the same redemption twice changes nothing.
local field = 'r:' .. ARGV[2]
local total = 'total:' .. ARGV[3]
if ARGV[1] == 'release' then
  local held = redis.call('HGET', KEYS[1], field)
  if not held then return 0 end
  redis.call('HDEL', KEYS[1], field)
  redis.call('HINCRBYFLOAT', KEYS[1], total, -tonumber(held))
  return 1
end
if redis.call('HEXISTS', KEYS[1], field) == 1 then return 1 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local spent = tonumber(redis.call('HGET', KEYS[1], total) or '0')
if spent + tonumber(ARGV[4]) > tonumber(ARGV[5]) then
  redis.call('SET', KEYS[2], ARGV[3] .. ' ' .. spent .. ' of ' .. ARGV[5] .. ' at ' .. ARGV[7],
    'EX', ARGV[8])
  return 0
end
redis.call('HSET', KEYS[1], field, ARGV[4])
redis.call('HINCRBYFLOAT', KEYS[1], total, ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 1
