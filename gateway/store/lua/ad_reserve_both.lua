-- Reserve one ad on one Redis (not a Cluster): both sides of ad_reserve_subscriber.lua and
-- ad_reserve_campaign.lua in one script (after ad_reserve_lib.lua). One call instead of two,
-- and nothing to give back when a side refuses: both are checked before either is counted.
-- KEYS[1..2] the subscriber's (ad_reserve_subscriber.lua), KEYS[3..6] the campaign's
-- (ad_reserve_campaign.lua), KEYS[7] the data guard's marker (optional: then nothing is
-- reserved while data loss is unacknowledged)
-- ARGV[1..10] the subscriber side's, ARGV[11..19] the campaign side's
-- Returns {subscriber side, campaign side, lost}: the subscriber side as
-- ad_reserve_subscriber.lua; the campaign side as ad_reserve_campaign.lua, or '' when it was
-- not looked at (the subscriber side refused, or lost); lost '1' when the marker says data
-- loss is unacknowledged (nothing looked at), else '0'. Counted only if both sides are 'ok'
-- (or 'open').
if KEYS[7] then
  local meta = redis.call('HMGET', KEYS[7], 'epoch', 'lost_reason')
  if not meta[1] or (meta[2] and meta[2] ~= '') then return {'', '', '1'} end
end
local verdict, all, d, w, l, new_day, new_week, stale = subscriber_check(KEYS[1], KEYS[2], ARGV, 0)
if not all then return {verdict, '', '0'} end
local campaign, price, n, hn, spend = campaign_check(KEYS, 2, ARGV, 10)
if not price then return {verdict, campaign, '0'} end
subscriber_count(KEYS[2], ARGV, 0, all, d, w, l, new_day, new_week, stale)
campaign_count(KEYS, 2, ARGV, 10, price, n, hn, spend)
return {verdict, 'ok', '0'}
