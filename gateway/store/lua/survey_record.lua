-- Record one survey step for one respondent (all keys in the subscriber's slot).
-- KEYS[1] respondent hash (keys.survey_respondent), KEYS[2] open SMS survey (keys.survey_open)
-- ARGV[1] now (epoch seconds, text)   ARGV[2] channel (ussd|sms)   ARGV[3] progress JSON
-- ARGV[4] disposition reached ('' = none)   ARGV[5] question answered ('' = none)
-- ARGV[6] answer JSON   ARGV[7] language   ARGV[8] open: '' keep, 'set' or 'clear'
-- ARGV[9] survey id   ARGV[10] open TTL seconds   ARGV[11..] extra field/value pairs
-- Returns {changed (1|0), disposition now}. A respondent whose disposition is final changes no
-- more (0); an answer already recorded is kept (answered questions are never asked again); a
-- disposition only moves up (registered < queued < contacted < started < any final).
local rank = {registered = 0, queued = 1, contacted = 2, started = 3}
local function rank_of(d)
  if d == false or d == nil or d == '' then return -1 end
  return rank[d] or 9
end
local current = redis.call('HGET', KEYS[1], 'd')
if rank_of(current) == 9 then
  return {0, current}
end
local now = ARGV[1]
if ARGV[5] ~= '' then
  redis.call('HSETNX', KEYS[1], 'a:' .. ARGV[5], ARGV[6])
  redis.call('HSETNX', KEYS[1], 't:started', now)
  if rank_of(current) < 3 then
    redis.call('HSET', KEYS[1], 'd', 'started')
    current = 'started'
  end
end
local new = ARGV[4]
if new ~= '' and rank_of(new) > rank_of(current) then
  redis.call('HSET', KEYS[1], 'd', new)
  redis.call('HSETNX', KEYS[1], 't:' .. new, now)
  current = new
end
if current == false or current == nil then
  redis.call('HSET', KEYS[1], 'd', 'registered')
  redis.call('HSETNX', KEYS[1], 't:registered', now)
  current = 'registered'
end
redis.call('HSETNX', KEYS[1], 'ch', ARGV[2])
redis.call('HSET', KEYS[1], 'p', ARGV[3], 'last', now, 'lang', ARGV[7])
for i = 11, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
if ARGV[8] == 'set' then
  redis.call('SET', KEYS[2], ARGV[9], 'EX', tonumber(ARGV[10]))
elseif ARGV[8] == 'clear' or rank_of(current) == 9 then
  if redis.call('GET', KEYS[2]) == ARGV[9] then
    redis.call('DEL', KEYS[2])
  end
end
return {1, current}
