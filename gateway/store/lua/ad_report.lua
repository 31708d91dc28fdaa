-- Read one campaign's report counters over some days in one step (all keys share its tag).
-- KEYS[1..n] the stats hashes of n days; KEYS[n+1..] the reach HyperLogLogs (day x network)
-- ARGV n
-- Returns {flat hash of each day..., reach of each day x network..., reach of all of them}
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do out[#out + 1] = redis.call('HGETALL', KEYS[i]) end
local reach = {}
for i = n + 1, #KEYS do
  out[#out + 1] = redis.call('PFCOUNT', KEYS[i])
  reach[#reach + 1] = KEYS[i]
end
if #reach > 0 then out[#out + 1] = redis.call('PFCOUNT', unpack(reach)) else out[#out + 1] = 0 end
return out
