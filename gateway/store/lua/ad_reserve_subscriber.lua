-- Reserve one ad for one subscriber: consent, then every cap, checked and counted atomically
-- (after ad_reserve_lib.lua; on a Cluster, beside ad_reserve_campaign.lua on the campaign's
-- node).
-- KEYS[1] consent (hash)  KEYS[2] ads shown (hash)
-- ARGV as subscriber_check's a (ad_reserve_lib.lua)
-- Returns 'ok' (consent granted), 'open' (none recorded, opt_out mode), 'consent' (revoked, or
-- none recorded in opt_in mode) or 'cap'.
local verdict, all, d, w, l, new_day, new_week, stale = subscriber_check(KEYS[1], KEYS[2], ARGV, 0)
if all then subscriber_count(KEYS[2], ARGV, 0, all, d, w, l, new_day, new_week, stale) end
return verdict
