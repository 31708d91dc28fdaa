-- KEYS record, due, queue · ARGV id, due_ms, now_ms, group (text + sender id, for batching),
-- field, value, … → 1 enqueued; else the ``request`` fingerprint of the message already
-- stored under this id
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HGET', KEYS[1], 'request') or ''
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
if tonumber(ARGV[2]) <= tonumber(ARGV[3]) then
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'g', ARGV[4])
else
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
return 1
