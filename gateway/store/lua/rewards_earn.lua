-- (runs after rewards_lib.lua)
-- KEYS ledger, sources, snapshot · ARGV source, source_id, points, expires_at (0 = never), now
-- → {entry id, balance, 1 credited now | 0 the first credit of this (source, source_id)}
local tag = ARGV[1] .. '\n' .. ARGV[2]
local now = tonumber(ARGV[5])
local first = redis.call('HGET', KEYS[2], tag)
local _, balance = expire_due(KEYS[1], KEYS[3], now)
if first then return {first, balance, 0} end
local id = redis.call('XADD', KEYS[1], '*', 't', 'earn', 'pts', ARGV[3], 'exp', ARGV[4],
  'src', ARGV[1], 'sid', ARGV[2], 'at', ARGV[5])
redis.call('HSET', KEYS[2], tag, id)
return {id, balance + tonumber(ARGV[3]), 1}
