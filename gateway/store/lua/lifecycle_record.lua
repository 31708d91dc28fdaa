-- Record that a subscriber was active today: last day and the active-weeks bitmask.
-- KEYS[1] the subscriber's lifecycle (hash: d, wk, w)
-- ARGV today (epoch days), this week (epoch weeks), TTL
-- Returns how many of the last 8 weeks (this one included) had activity.
local week = tonumber(ARGV[2])
local wk = tonumber(redis.call('HGET', KEYS[1], 'wk') or ARGV[2])
local w = tonumber(redis.call('HGET', KEYS[1], 'w') or '0')
local shift = week - wk
if shift >= 8 then w = 0 elseif shift > 0 then w = bit.band(bit.lshift(w, shift), 255) end
w = bit.bor(w, 1)
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'wk', week, 'w', w)
redis.call('EXPIRE', KEYS[1], ARGV[3])
local n = 0
while w > 0 do n = n + bit.band(w, 1); w = bit.rshift(w, 1) end
return n
