-- KEYS codes (code → redemption), given (redemption → code) · ARGV redemption, code, code, …
-- → the code this redemption got (the same on every call), or false: every candidate is taken
local got = redis.call('HGET', KEYS[2], ARGV[1])
if got then return got end
for i = 2, #ARGV do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[1]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[i])
    return ARGV[i]
  end
end
return false
