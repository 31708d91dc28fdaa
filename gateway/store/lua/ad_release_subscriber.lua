-- Give back a subscriber's reservation (the campaign refused, or the answer went out too late).
-- KEYS[1] ads shown (hash, see ad_reserve_subscriber.lua)
-- ARGV campaign, impression value reserved, day and week it was counted in
local c = ARGV[1]
local got = redis.call('HMGET', KEYS[1], 'd', 'w')
local fields = {'l:' .. c}
if got[1] == ARGV[3] then fields[#fields + 1] = 'd:*'; fields[#fields + 1] = 'd:' .. c end
if got[2] == ARGV[4] then fields[#fields + 1] = 'w:' .. c end
for _, field in ipairs(fields) do
  if tonumber(redis.call('HGET', KEYS[1], field) or '0') > 0 then
    redis.call('HINCRBY', KEYS[1], field, -1)
  end
end
if redis.call('HGET', KEYS[1], 'i:' .. c) == ARGV[2] then redis.call('HDEL', KEYS[1], 'i:' .. c) end
return 1
