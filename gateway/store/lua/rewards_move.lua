-- (runs after rewards_lib.lua)
-- Move a redemption on: HELD → SUBMITTED → SUCCESS (a capture entry) or → REVERSED (points back
-- to the lots the hold took: a 'release' if nothing was sent, a 'reverse' after AT said Failed,
-- with the value caps given back). A final state never moves; moving to the current state
-- changes nothing. KEYS ledger, redemption, guards, requests (AT request id → redemption)
-- · ARGV id, to (SUBMITTED | SUCCESS | REVERSED), now, field, value, … (set on the record)
-- → {1 moved | 0 unchanged | -1 no such redemption, the state now, the credit entry written
-- ('release', 'reverse' — FAILED after SUBMITTED — or '')}
local cur = redis.call('HGET', KEYS[2], 'state')
if not cur then return {-1, ''} end
local to = ARGV[2]
local function extra()
  if #ARGV >= 4 then redis.call('HSET', KEYS[2], unpack(ARGV, 4)) end
  local rq = redis.call('HGET', KEYS[2], 'request_id')
  if rq and rq ~= '' then redis.call('HSET', KEYS[4], rq, ARGV[1]) end
end
if cur == 'SUCCESS' or cur == 'REVERSED' or cur == to then
  if cur == to then extra() end
  return {0, cur}
end
if to == 'SUBMITTED' and cur ~= 'HELD' then return {0, cur} end
extra()
local credit = ''
if to == 'SUCCESS' then
  redis.call('XADD', KEYS[1], '*', 't', 'capture', 'pts', 0, 'ref', ARGV[1], 'at', ARGV[3])
elseif to == 'REVERSED' then
  local back, pts = undo(KEYS[1], redis.call('HGET', KEYS[2], 'hold'))
  credit = cur == 'HELD' and 'release' or 'reverse'
  local entry = redis.call('XADD', KEYS[1], '*', 't', credit, 'pts', pts, 'a', back,
    'ref', ARGV[1], 'at', ARGV[3])
  redis.call('HSET', KEYS[2], 'credit', entry, 'failed', ARGV[3])
  if redis.call('HGET', KEYS[2], 'kind') == 'airtime' then
    local r = redis.call('HMGET', KEYS[2], 'value', 'day_field', 'month_field')
    for i = 2, 3 do
      if r[i] and redis.call('HEXISTS', KEYS[3], r[i]) == 1 then
        redis.call('HINCRBYFLOAT', KEYS[3], r[i], -tonumber(r[1] or '0'))
      end
    end
  end
end
redis.call('HSET', KEYS[2], 'state', to, 'updated', ARGV[3])
return {1, to, credit}
