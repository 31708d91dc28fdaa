-- Give back one reserved impression (the subscriber side refused, or it was never shown).
-- Reach (a HyperLogLog) cannot forget a member: it may count one subscriber too many.
-- KEYS[1] campaign counters  KEYS[2] stats of the day
-- ARGV hour, price, network
if tonumber(redis.call('HGET', KEYS[1], 'n') or '0') <= 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'n', -1)
redis.call('HINCRBY', KEYS[1], 'spend', -tonumber(ARGV[2]))
if redis.call('HGET', KEYS[1], 'hour') == ARGV[1] then redis.call('HINCRBY', KEYS[1], 'hn', -1) end
redis.call('HINCRBY', KEYS[2], ARGV[3] .. ':i', -1)
redis.call('HINCRBY', KEYS[2], ARGV[3] .. ':s', -tonumber(ARGV[2]))
return 1
