-- (runs after outbox_lib.lua)
-- KEYS record, queue · ARGV entry, group, now → record fields, or false (acked: nothing to send)
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur or rank(cur) >= 2 then
  ack(KEYS[2], ARGV[2], ARGV[1])
  return false
end
redis.call('HSET', KEYS[1], 'status', 'sending', 'updated', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return redis.call('HGETALL', KEYS[1])
