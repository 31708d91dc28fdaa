-- (runs after outbox_lib.lua)
-- KEYS at map, dlr stash · ARGV status ('' = unknown word), reported, reason, stash_ttl
-- → our id, or false (stashed: the best report so far waits for the send to be recorded)
local id = redis.call('GET', KEYS[1])
if id then return id end
local early = redis.call('HGET', KEYS[2], 'status')
local better = not early or (ARGV[1] ~= '' and (early == '' or rank(ARGV[1]) > rank(early)))
if better then
  redis.call('HSET', KEYS[2], 'status', ARGV[1], 'reported', ARGV[2], 'reason', ARGV[3])
end
redis.call('EXPIRE', KEYS[2], ARGV[4])
return false
