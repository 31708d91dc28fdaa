-- (runs after outbox_lib.lua)
-- KEYS record, stats of a guessed hour · ARGV status, reported, reason, now, ttl, that hour,
-- stats ttl → {1 applied | 2 kept | 0 ignored | 4 held for the send's record (not recorded as
-- sent yet) | 3 run again with the stats of the hour that follows, the record's subscriber
-- pseudonym or false, that hour or 0}
local result, needed = apply(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], KEYS[2],
  ARGV[6], ARGV[7])
return {result, redis.call('HGET', KEYS[1], 'subscriber'), needed or 0}
