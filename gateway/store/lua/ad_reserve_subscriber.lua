-- Reserve one ad for one subscriber: consent, then every cap, checked and counted atomically.
-- KEYS[1] consent (hash)
-- KEYS[2] ads shown (hash): 'd' the local day counted (YYYYMMDD), 'w' the ISO week counted,
--         'd:*' and 'd:<campaign>' shown that day, 'w:<campaign>' that week, 'l:<campaign>'
--         ever, 'i:<campaign>' the last impression ("impression|epoch|network")
-- ARGV mode (opt_in|opt_out), campaign, per_day, per_week, lifetime, global per day,
--      day, week, impression value, TTL (after the last ad)
-- Returns 'ok' (consent granted), 'open' (none recorded, opt_out mode), 'consent' (revoked, or
-- none recorded in opt_in mode) or 'cap'.
local consent = redis.call('HGET', KEYS[1], 'ads')
local state = consent and string.match(consent, '^([^|]*)') or 'unknown'
if state == 'revoked' or (state ~= 'granted' and ARGV[1] ~= 'opt_out') then return 'consent' end
local c, day, week = ARGV[2], ARGV[7], ARGV[8]
local got = redis.call('HMGET', KEYS[2], 'd', 'w', 'd:*', 'd:' .. c, 'w:' .. c, 'l:' .. c)
local new_day, new_week = got[1] ~= day, got[2] ~= week
local all = new_day and 0 or tonumber(got[3] or '0')
local d = new_day and 0 or tonumber(got[4] or '0')
local w = new_week and 0 or tonumber(got[5] or '0')
local l = tonumber(got[6] or '0')
local function over(n, cap)
  cap = tonumber(cap)
  return cap > 0 and n >= cap
end
if over(all, ARGV[6]) or over(d, ARGV[3]) or over(w, ARGV[4]) or over(l, ARGV[5]) then
  return 'cap'
end
if (new_day and got[1]) or (new_week and got[2]) then -- a new day or week: forget the last one's
  local stale = {}
  for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
    local kind = string.sub(field, 1, 2)
    if (new_day and kind == 'd:') or (new_week and kind == 'w:') then stale[#stale + 1] = field end
  end
  if #stale > 0 then redis.call('HDEL', KEYS[2], unpack(stale)) end
end
redis.call('HSET', KEYS[2], 'd', day, 'w', week, 'd:*', all + 1, 'd:' .. c, d + 1,
  'w:' .. c, w + 1, 'l:' .. c, l + 1, 'i:' .. c, ARGV[9])
redis.call('EXPIRE', KEYS[2], ARGV[10])
return state == 'granted' and 'ok' or 'open'
