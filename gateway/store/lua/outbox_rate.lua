-- KEYS rate counter · ARGV limit, messages (1 unless said) → 0 to go, else ms to wait
local n = redis.call('INCRBY', KEYS[1], tonumber(ARGV[2] or '1'))
if n == tonumber(ARGV[2] or '1') then redis.call('PEXPIRE', KEYS[1], 1000) end
if n <= tonumber(ARGV[1]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], 1000) ttl = 1000 end
return ttl
