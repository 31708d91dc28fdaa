-- Shared by the outbox scripts (prepended to the ones that say so): status ranks, the report
-- counters and applying a status. Statuses rank queued/scheduled/retrying (0) < sending (1) <
-- sent (2) < submitted (3) < buffered (4) < final (9); a status only ever moves up.
local RANK = {queued=0, scheduled=0, retrying=0, sending=1, sent=2, submitted=3, buffered=4,
  delivered=9, failed=9, rejected=9, dead=9, refused=9}
local function rank(s) return RANK[s] or 0 end
local LATENCY = {{{LATENCY_BOUNDS}}}
-- The hour a message's counters live in: when it was handed to AT, else now.
local function report_hour(key, now)
  return math.floor(tonumber(redis.call('HGET', key, 'sent_at') or now) / 3600)
end
-- Count a message that just reached the final 'status' (the caller checked the hour).
local function settle(key, stats, status, now, stats_ttl)
  local f = redis.call('HMGET', key, 'category', 'sent_at')
  local cat = f[1] or 'unknown'
  redis.call('HINCRBY', stats, cat .. ':' .. status, 1)
  if f[2] then
    redis.call('HINCRBY', stats, cat .. ':settled', 1)
    if status == 'delivered' then
      local waited, le = tonumber(now) - tonumber(f[2]), 'inf'
      for _, bound in ipairs(LATENCY) do
        if waited <= bound then le = bound break end
      end
      redis.call('HINCRBY', stats, cat .. ':le:' .. le, 1)
    end
  end
  redis.call('EXPIRE', stats, stats_ttl)
end
-- status '' = a word the aggregator used that we do not know: kept verbatim in 'report',
-- the status does not move (non-final). Returns 1 applied, 2 kept, 0 ignored, 4 held for the
-- send's record (the message is not recorded as sent yet), or 3 and the hour whose counters a
-- final status needs when 'stats' is another hour's (nothing changed).
local function apply(key, status, reported, reason, now, ttl, stats, hour, stats_ttl)
  local cur = redis.call('HGET', key, 'status')
  if not cur or rank(cur) >= 9 then return 0 end
  if status == '' then
    if reported == '' then return 0 end
    redis.call('HSET', key, 'report', reported, 'updated', now)
    if reason ~= '' then redis.call('HSET', key, 'reason', reason) end
    return 2
  end
  if rank(status) <= rank(cur) then return 0 end
  if rank(cur) < 2 then
    -- linked, not yet recorded as sent (or sent again after a crash): kept in the record, and
    -- applied by the script that records the send, so the report counts in the right hour
    local early = redis.call('HGET', key, 'early_status')
    if not early or rank(status) > rank(early) then
      redis.call('HSET', key, 'early_status', status, 'early_reported', reported,
        'early_reason', reason)
    end
    return 4
  end
  if rank(status) >= 9 then
    local needed = report_hour(key, now)
    if needed ~= tonumber(hour) then return 3, needed end
  end
  redis.call('HSET', key, 'status', status, 'report', reported, 'updated', now)
  if reason ~= '' then redis.call('HSET', key, 'reason', reason) end
  if rank(status) >= 9 then
    redis.call('EXPIRE', key, ttl)
    settle(key, stats, status, now, stats_ttl)
  end
  return 1
end
local function ack(queue, group, entry)
  if entry ~= '' then
    redis.call('XACK', queue, group, entry)
    redis.call('XDEL', queue, entry)
  end
end
