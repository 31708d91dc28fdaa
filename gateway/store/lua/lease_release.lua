-- Give back a lease, only if it is still ours (it may have expired and been taken since).
-- KEYS[1] the lease   ARGV[1] our token
-- Returns 1 when given back, 0 when another holder has it (or nobody).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
