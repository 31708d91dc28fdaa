-- Record one consent decision for some purposes of one subscriber, idempotently.
-- KEYS[1]  the subscriber's current consent (hash: purpose -> "state|time|source")
-- KEYS[2]  the subscriber's consent history (stream)
-- KEYS[3]  optional: the marker of the callback event that makes this change
-- ARGV     state, now, source, channel, country, event marker TTL, purpose...
-- Returns how many purposes changed (a decision equal to the current one, same source, changes
-- nothing), or -1 when the event was already applied.
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local value = ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3]
local changed = 0
for i = 7, #ARGV do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  local same = false
  if old then
    local state, _, source = string.match(old, '^([^|]*)|([^|]*)|(.*)$')
    same = state == ARGV[1] and source == ARGV[3]
  end
  if not same then
    redis.call('HSET', KEYS[1], ARGV[i], value)
    redis.call('XADD', KEYS[2], '*', 'purpose', ARGV[i], 'state', ARGV[1], 'source', ARGV[3],
      'channel', ARGV[4], 'country', ARGV[5], 'at', ARGV[2])
    changed = changed + 1
  end
end
if KEYS[3] then redis.call('SET', KEYS[3], '1', 'EX', ARGV[6]) end
return changed
