-- A durable job queue shard (gateway.jobs): its stream, due set and dead letters share a slot.
-- KEYS due, queue · ARGV id, attempt, data, due_ms, now_ms → 1
if tonumber(ARGV[4]) <= tonumber(ARGV[5]) then
  redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'attempt', ARGV[2], 'data', ARGV[3])
else
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1] .. '\n' .. ARGV[2] .. '\n' .. ARGV[3])
end
return 1
