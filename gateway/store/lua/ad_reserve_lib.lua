-- Shared by the ad reservation scripts (prepended to ad_reserve_subscriber.lua,
-- ad_reserve_campaign.lua and ad_reserve_both.lua): each side is checked first, then counted,
-- so one script can check both sides before it counts either. No tables: plain values
-- (a script's tables are most of its cost).

-- The subscriber's side: consent, then every cap.
-- consent: consent hash; shown: ads-shown hash ('d' the local day counted (YYYYMMDD), 'w' the
-- ISO week counted, 'd:*' and 'd:<campaign>' shown that day, 'w:<campaign>' that week,
-- 'l:<campaign>' ever, 'i:<campaign>' the last impression ("impression|epoch|network"));
-- a[o+1..o+10]: mode (opt_in|opt_out), campaign, per_day, per_week, lifetime, global per day,
-- day, week, impression value, TTL (after the last ad).
-- Returns 'ok' (consent granted) or 'open' (none recorded, opt_out mode) and the counts
-- (day's total, the campaign's day, week and lifetime) and which of the day and week are new
-- and whether the last ones' fields are there to forget; or 'consent' (revoked, or none
-- recorded in opt_in mode) or 'cap'.
local function subscriber_check(consent, shown, a, o)
  local given = redis.call('HGET', consent, 'ads')
  local state = given and string.match(given, '^([^|]*)') or 'unknown'
  if state == 'revoked' or (state ~= 'granted' and a[o + 1] ~= 'opt_out') then
    return 'consent'
  end
  local c = a[o + 2]
  local got = redis.call('HMGET', shown, 'd', 'w', 'd:*', 'd:' .. c, 'w:' .. c, 'l:' .. c)
  local new_day, new_week = got[1] ~= a[o + 7], got[2] ~= a[o + 8]
  local all = new_day and 0 or tonumber(got[3] or '0')
  local d = new_day and 0 or tonumber(got[4] or '0')
  local w = new_week and 0 or tonumber(got[5] or '0')
  local l = tonumber(got[6] or '0')
  local cap_all, cap_d = tonumber(a[o + 6]), tonumber(a[o + 3])
  local cap_w, cap_l = tonumber(a[o + 4]), tonumber(a[o + 5])
  if (cap_all > 0 and all >= cap_all) or (cap_d > 0 and d >= cap_d)
      or (cap_w > 0 and w >= cap_w) or (cap_l > 0 and l >= cap_l) then
    return 'cap'
  end
  local stale = (new_day and got[1]) or (new_week and got[2])
  return state == 'granted' and 'ok' or 'open', all, d, w, l, new_day, new_week, stale
end

local function subscriber_count(shown, a, o, all, d, w, l, new_day, new_week, stale)
  local c = a[o + 2]
  if stale then -- a new day or week: forget the last one's
    local forget = {}
    for _, field in ipairs(redis.call('HKEYS', shown)) do
      local kind = string.sub(field, 1, 2)
      if (new_day and kind == 'd:') or (new_week and kind == 'w:') then
        forget[#forget + 1] = field
      end
    end
    if #forget > 0 then redis.call('HDEL', shown, unpack(forget)) end
  end
  redis.call('HSET', shown, 'd', a[o + 7], 'w', a[o + 8], 'd:*', all + 1, 'd:' .. c, d + 1,
    'w:' .. c, w + 1, 'l:' .. c, l + 1, 'i:' .. c, a[o + 9])
  redis.call('EXPIRE', shown, a[o + 10])
end

-- The campaign's side: goal, even pacing and budget, with the report counters of the day. All
-- its keys share the campaign's hash tag.
-- k[p+1..p+4]: campaign counters (hash: n, spend, hour, hn), stats of the day (hash), reach of
-- the day and network (HyperLogLog), days reported (set);
-- a[o+1..o+9]: hour (epoch hours), hours left in the flight (>= 1), goal (0: none), budget
-- (micro-units, 0: none), price (micro-units), network, pseudonym, stats TTL, day.
-- Returns 'ok' and the price and (when a goal or budget is set) the counters read, or 'goal'
-- (contract goal reached), 'paced' (this hour's share served) or 'budget'.
local function campaign_check(k, p, a, o)
  local goal, budget, price = tonumber(a[o + 3]), tonumber(a[o + 4]), tonumber(a[o + 5])
  if goal == 0 and budget == 0 then return 'ok', price end -- nothing can refuse
  local got = redis.call('HMGET', k[p + 1], 'n', 'hour', 'hn', 'spend')
  local n = tonumber(got[1] or '0')
  local hn = got[2] == a[o + 1] and tonumber(got[3] or '0') or 0
  if goal > 0 then
    local remaining = goal - (n - hn)
    if n >= goal then return 'goal' end
    if hn >= math.ceil(remaining / tonumber(a[o + 2]) * 1.2) then return 'paced' end
  end
  local spend = tonumber(got[4] or '0')
  if budget > 0 and spend + price > budget then return 'budget' end
  return 'ok', price, n, hn, spend
end

local function campaign_count(k, p, a, o, price, n, hn, spend)
  if n == nil then -- no goal or budget (the hour's count is for pacing: none here)
    redis.call('HINCRBY', k[p + 1], 'n', 1)
    if price > 0 then redis.call('HINCRBY', k[p + 1], 'spend', price) end
  else
    redis.call('HSET', k[p + 1], 'n', n + 1, 'hour', a[o + 1], 'hn', hn + 1, 'spend', spend + price)
  end
  local network = a[o + 6]
  -- the day's first impression on this network creates its counters: TTLs and the days set once
  local first = redis.call('HINCRBY', k[p + 2], network .. ':i', 1) == 1
  if price > 0 then redis.call('HINCRBY', k[p + 2], network .. ':s', price) end
  redis.call('PFADD', k[p + 3], a[o + 7])
  if first then
    redis.call('EXPIRE', k[p + 2], a[o + 8])
    redis.call('EXPIRE', k[p + 3], a[o + 8])
    redis.call('SADD', k[p + 4], a[o + 9] .. '|' .. network)
  end
end
