-- Store one end-of-session notification and stream it, once (a retry changes nothing); count
-- the session's drop for funnel reports in the same step.
-- KEYS[1]  the notification hash (also the "already handled" marker)
-- KEYS[2]  the shard's stream of ended sessions (same slot)
-- KEYS[3]  the shard's funnel drop counters of the menu and day (same slot)
-- ARGV[1]  TTL of the hash in seconds
-- ARGV[2]  approximate maximum length of the stream
-- ARGV[3]  the drop counter's field ('' when the session did not drop)
-- ARGV[4]  TTL of the drop counters in seconds
-- ARGV[5]  the oldest stream entry id to keep (entries older than the retention period go)
-- ARGV[6…] field, value, …
-- Returns 1 when stored, 0 when this session's notification was stored before.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 6))
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[5])
if ARGV[3] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
return 1
