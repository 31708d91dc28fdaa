-- (runs after rewards_lib.lua)
-- Check and hold in one step: the guards, the balance and the hold entry with the redemption.
-- KEYS ledger, redemption, redemptions (zset), guards, snapshot · ARGV id, points, now, now_ms, airtime
-- (1/0), value, velocity seconds, day field, month field, day cap, month cap (0 = none),
-- guards ttl, record field, value, … → {'held', balance} | {'refused', reason} | {state, balance}
-- for a redemption id already used.
local now = tonumber(ARGV[3])
local points = tonumber(ARGV[2])
local state = redis.call('HGET', KEYS[2], 'state')
local _, balance, lots = expire_due(KEYS[1], KEYS[5], now)
if state then return {state, balance} end
local value = tonumber(ARGV[6])
if ARGV[5] == '1' then
  local last = tonumber(redis.call('HGET', KEYS[4], 'last_airtime') or '0')
  local velocity = tonumber(ARGV[7])  -- 0: off (gateways' clocks may differ a little)
  if velocity > 0 and last > 0 and now - last < velocity then return {'refused', 'velocity'} end
  local day = tonumber(redis.call('HGET', KEYS[4], ARGV[8]) or '0')
  if tonumber(ARGV[10]) > 0 and day + value > tonumber(ARGV[10]) then
    return {'refused', 'daily_cap'}
  end
  local month = tonumber(redis.call('HGET', KEYS[4], ARGV[9]) or '0')
  if tonumber(ARGV[11]) > 0 and month + value > tonumber(ARGV[11]) then
    return {'refused', 'monthly_cap'}
  end
end
local take, parts = points, {}
for _, lot in ipairs(lots) do
  if take == 0 then break end
  if live(lot, now) then
    local n = math.min(lot.rem, take)
    parts[#parts + 1] = lot.id .. ':' .. -n .. ':' .. lot.exp
    take = take - n
  end
end
if take > 0 then return {'refused', 'insufficient_points'} end
local hold = redis.call('XADD', KEYS[1], '*', 't', 'hold', 'pts', -points,
  'a', table.concat(parts, ','), 'ref', ARGV[1], 'at', ARGV[3])
redis.call('HSET', KEYS[2], unpack(ARGV, 13))
redis.call('HSET', KEYS[2], 'state', 'HELD', 'hold', hold, 'created', ARGV[3], 'updated', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[4], 'last_airtime', ARGV[3])
  redis.call('HINCRBYFLOAT', KEYS[4], ARGV[8], value)
  redis.call('HINCRBYFLOAT', KEYS[4], ARGV[9], value)
  redis.call('EXPIRE', KEYS[4], ARGV[12])
end
return {'held', balance - points}
