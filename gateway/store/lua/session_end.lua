-- Store one end-of-session notification and stream it, once (a retry changes nothing).
-- KEYS[1]  the notification hash (also the "already handled" marker)
-- KEYS[2]  the shard's stream of ended sessions (same slot)
-- ARGV[1]  TTL of the hash in seconds
-- ARGV[2]  approximate maximum length of the stream
-- ARGV[3…] field, value, …
-- Returns 1 when stored, 0 when this session's notification was stored before.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
return 1
