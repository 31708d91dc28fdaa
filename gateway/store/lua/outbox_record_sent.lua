-- (runs after outbox_lib.lua)
-- KEYS record, at map, dlr stash, queue, stats of the hour of now · ARGV id, at_id, cost, entry,
-- group, ttl, now, that hour, stats ttl → {1 recorded | 0 no record | 3, hour: run again with
-- that hour's stats (an early final report of a message first handed over in another hour),
-- then the status of an early report applied now ('' when none)}
ack(KEYS[4], ARGV[5], ARGV[4])
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, 0} end
if rank(cur) < 2 then
  redis.call('HSET', KEYS[1], 'status', 'sent', 'reason', '', 'sent_at', ARGV[7])
  local cat = redis.call('HGET', KEYS[1], 'category') or 'unknown'
  redis.call('HINCRBY', KEYS[5], cat .. ':sent', 1)
  redis.call('EXPIRE', KEYS[5], ARGV[9])
end
redis.call('HSET', KEYS[1], 'at_id', ARGV[2], 'cost', ARGV[3], 'updated', ARGV[7])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[6])
local early = redis.call('HMGET', KEYS[3], 'status', 'reported', 'reason')
local applied = ''
if early[1] then
  local code, needed = apply(KEYS[1], early[1], early[2] or '', early[3] or '', ARGV[7], ARGV[6],
    KEYS[5], ARGV[8], ARGV[9])
  if code == 3 then return {3, needed} end
  if code == 1 then applied = early[1] end
  redis.call('DEL', KEYS[3])
end
return {1, 0, applied}
