-- Give back one reserved impression (the subscriber side refused, or it was never shown).
-- Reach (a HyperLogLog) cannot forget a member: it may count one subscriber too many.
-- KEYS[1] campaign counters  KEYS[2] stats of the day
-- ARGV hour, price (micro-units), network
if tonumber(redis.call('HGET', KEYS[1], 'n') or '0') <= 0 then return 0 end
local price = tonumber(ARGV[2])
redis.call('HINCRBY', KEYS[1], 'n', -1)
redis.call('HINCRBY', KEYS[2], ARGV[3] .. ':i', -1)
if price > 0 then
  redis.call('HINCRBY', KEYS[1], 'spend', 0 - price)
  redis.call('HINCRBY', KEYS[2], ARGV[3] .. ':s', 0 - price)
end
if redis.call('HGET', KEYS[1], 'hour') == ARGV[1] then redis.call('HINCRBY', KEYS[1], 'hn', -1) end
return 1
