-- Give back a subscriber's reservation (the campaign refused, or the answer went out too late).
-- KEYS[1] today's counts  KEYS[2] this week's  KEYS[3] lifetime  KEYS[4] last impressions
-- ARGV campaign, impression value reserved
local c = ARGV[1]
for _, key in ipairs({KEYS[1], KEYS[2], KEYS[3]}) do
  if tonumber(redis.call('HGET', key, c) or '0') > 0 then redis.call('HINCRBY', key, c, -1) end
end
if tonumber(redis.call('HGET', KEYS[1], '*') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], '*', -1)
end
if redis.call('HGET', KEYS[4], c) == ARGV[2] then redis.call('HDEL', KEYS[4], c) end
return 1
