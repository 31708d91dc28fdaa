-- (runs after outbox_lib.lua)
-- KEYS record, queue, dead, stats of the hour of now · ARGV id, status, reason, entry, group, ttl,
-- now, dead, dead_maxlen, stats ttl. Only a message never handed to AT ends here, so its report
-- hour is now.
ack(KEYS[2], ARGV[5], ARGV[4])
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur or rank(cur) >= 2 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'reason', ARGV[3], 'updated', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[6])
settle(KEYS[1], KEYS[4], ARGV[2], ARGV[7], ARGV[10])
if ARGV[8] == '1' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'id', ARGV[1], 'reason', ARGV[3],
    'at', ARGV[7])
end
return 1
