-- KEYS requests (AT request id → redemption), early (callbacks before their send was recorded)
-- · ARGV request id, status, stash ttl → the redemption id, or false (stashed for later)
local id = redis.call('HGET', KEYS[1], ARGV[1])
if id then return id end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return false
