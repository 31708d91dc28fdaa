-- (runs after rewards_lib.lua)
-- KEYS ledger, snapshot · ARGV now → {points expired now, balance, next expiry (0 = none)}
local expired, balance, lots = expire_due(KEYS[1], KEYS[2], tonumber(ARGV[1]))
return {expired, balance, next_expiry(lots)}
