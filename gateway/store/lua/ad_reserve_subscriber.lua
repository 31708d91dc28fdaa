-- Reserve one ad for one subscriber: consent, then every cap, checked and counted atomically.
-- KEYS[1] consent (hash)  KEYS[2] today's counts  KEYS[3] this week's  KEYS[4] lifetime
-- KEYS[5] last impression per campaign (hash: campaign -> "impression|epoch|network")
-- ARGV mode (opt_in|opt_out), campaign, per_day, per_week, lifetime, global per day,
--      day TTL, week TTL, lifetime TTL, impression value
-- Returns 'ok', 'consent' (revoked, or none recorded in opt_in mode) or 'cap'.
local consent = redis.call('HGET', KEYS[1], 'ads')
local state = consent and string.match(consent, '^([^|]*)') or 'unknown'
if state == 'revoked' or (state ~= 'granted' and ARGV[1] ~= 'opt_out') then return 'consent' end
local c = ARGV[2]
local function over(key, field, cap)
  cap = tonumber(cap)
  return cap > 0 and tonumber(redis.call('HGET', key, field) or '0') >= cap
end
if over(KEYS[2], '*', ARGV[6]) or over(KEYS[2], c, ARGV[3]) or over(KEYS[3], c, ARGV[4])
    or over(KEYS[4], c, ARGV[5]) then
  return 'cap'
end
redis.call('HINCRBY', KEYS[2], '*', 1)
redis.call('HINCRBY', KEYS[2], c, 1)
redis.call('EXPIRE', KEYS[2], ARGV[7])
redis.call('HINCRBY', KEYS[3], c, 1)
redis.call('EXPIRE', KEYS[3], ARGV[8])
redis.call('HINCRBY', KEYS[4], c, 1)
redis.call('EXPIRE', KEYS[4], ARGV[9])
redis.call('HSET', KEYS[5], c, ARGV[10])
redis.call('EXPIRE', KEYS[5], ARGV[9])
return 'ok'
