-- A click by one subscriber on one campaign: counted once per AD_CLICK_REPEAT seconds, and
-- only if the subscriber saw the campaign.
-- KEYS[1] the click marker (string)   KEYS[2] ads shown (hash: 'i:<campaign>' last impression)
-- ARGV campaign, repeat window (seconds)
-- Returns the impression value ("<impression>|<time>|<network>"), or '' (no impression seen,
-- or a repeat within the window).
local seen = redis.call('HGET', KEYS[2], 'i:' .. ARGV[1])
if not seen then return '' end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return '' end
return seen
