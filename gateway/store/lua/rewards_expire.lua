-- (runs after rewards_lib.lua)
-- KEYS ledger · ARGV now → {points expired now, balance, next expiry (0 = none)}
local expired, balance, lots = expire_due(KEYS[1], tonumber(ARGV[1]))
return {expired, balance, next_expiry(lots)}
