-- (runs after outbox_lib.lua)
-- KEYS record, queue, stats of the hour of now · ARGV id, at_id, cost, entry, group, ttl, now,
-- that hour, stats ttl, then an early report read with the link (status, reported, reason;
-- status '' = none) → {1 recorded | 0 no record | 3, hour: run again with that hour's stats
-- (an early final report of a message first handed over in another hour), then the status of
-- an early report applied now ('' when none)}. Early reports: the one given (it reached AT's
-- id before the link) and the one kept in the record (it found the link before this script).
ack(KEYS[2], ARGV[5], ARGV[4])
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, 0} end
if rank(cur) < 2 then
  redis.call('HSET', KEYS[1], 'status', 'sent', 'reason', '', 'sent_at', ARGV[7])
  local cat = redis.call('HGET', KEYS[1], 'category') or 'unknown'
  redis.call('HINCRBY', KEYS[3], cat .. ':sent', 1)
  redis.call('EXPIRE', KEYS[3], ARGV[9])
end
redis.call('HSET', KEYS[1], 'at_id', ARGV[2], 'cost', ARGV[3], 'updated', ARGV[7])
local kept = redis.call('HMGET', KEYS[1], 'early_status', 'early_reported', 'early_reason')
local applied = ''
for _, early in ipairs({ {ARGV[10], ARGV[11], ARGV[12]}, kept }) do
  if early[1] and early[1] ~= '' then
    local code, needed = apply(KEYS[1], early[1], early[2] or '', early[3] or '', ARGV[7],
      ARGV[6], KEYS[3], ARGV[8], ARGV[9])
    if code == 3 then return {3, needed} end
    if code == 1 then applied = early[1] end
  end
end
if kept[1] then redis.call('HDEL', KEYS[1], 'early_status', 'early_reported', 'early_reason') end
return {1, 0, applied}
