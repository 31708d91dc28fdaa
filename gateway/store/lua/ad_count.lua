-- Count one event of a campaign in its report counters, once per marker (a conversion id).
-- KEYS[1] the conversion marker (string), KEYS[2] stats of the day (hash), KEYS[3] days (set):
-- all under the campaign's hash tag.
-- ARGV marker TTL, counter field ("<network>:v"), stats TTL, "<day>|<network>"
-- Returns 1 when counted, 0 when the marker was already there (a repeat).
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
return 1
