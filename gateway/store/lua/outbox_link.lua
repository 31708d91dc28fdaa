-- KEYS at map, dlr stash (the slot of AT's id) · ARGV our message id, ttl
-- → {status, reported, reason} of a report that arrived before this link (false each if none).
-- A report from now on finds the link; one before it is in the stash, read here atomically.
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return redis.call('HMGET', KEYS[2], 'status', 'reported', 'reason')
