-- (runs after outbox_lib.lua)
-- KEYS record, due, queue · ARGV id, due_ms, status, reason, entry, group, now, undo_attempt
ack(KEYS[3], ARGV[6], ARGV[5])
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur or rank(cur) >= 2 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'reason', ARGV[4], 'due', ARGV[2],
  'updated', ARGV[7])
if ARGV[8] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', -1) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
