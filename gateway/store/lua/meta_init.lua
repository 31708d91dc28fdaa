-- Initialise this Redis's Jumbe metadata unless it exists.
-- KEYS[1]  the metadata hash
-- ARGV     epoch, now, key check value, data-loss reason ('' = none)
-- Returns {epoch, key check} as stored now (the existing ones when it existed).
local found = redis.call('HMGET', KEYS[1], 'epoch', 'key_check')
if found[1] then return found end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'created', ARGV[2], 'key_check', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'lost_at', ARGV[2], 'lost_reason', ARGV[4]) end
return {ARGV[1], ARGV[3]}
