-- KEYS handled marker, inbox, flows · ARGV marker ttl, maxlen, survey, flow fields (3), oldest
-- entry id to keep, inbox field, value, … → 1 recorded now, 0 handled before. Runs last, after the inbound message's
-- other effects (each idempotent), so the marker is never final before they are.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 8))
if ARGV[3] ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'survey', ARGV[3], 'subscriber', ARGV[4],
    'inbound_id', ARGV[5], 'language', ARGV[6])
end
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[7])
redis.call('XTRIM', KEYS[3], 'MINID', ARGV[7])
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
return 1
