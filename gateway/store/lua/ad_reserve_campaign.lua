-- Reserve one impression of one campaign: goal, even pacing and budget checked and counted
-- atomically, with the report counters of the day (after ad_reserve_lib.lua).
-- KEYS[1] campaign counters (hash: n, spend, hour, hn)  KEYS[2] stats of the day (hash)
-- KEYS[3] reach of the day and network (HyperLogLog)    KEYS[4] days reported (set)
-- ARGV as campaign_check's a (ad_reserve_lib.lua)
-- Returns 'ok', 'goal' (contract goal reached), 'paced' (this hour's share served) or 'budget'.
local verdict, price, n, hn, spend = campaign_check(KEYS, 0, ARGV, 0)
if price then campaign_count(KEYS, 0, ARGV, 0, price, n, hn, spend) end
return verdict
