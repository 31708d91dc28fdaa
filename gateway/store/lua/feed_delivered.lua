-- Remove a subscriber's oldest pending event once it was delivered, if it is still the oldest
-- (a concurrent delivery of the same event removed it already: nothing to do).
-- KEYS[1] the subscriber's pending list · ARGV[1] the delivered event (JSON) → 1 removed, 0 not
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  return 1
end
return 0
