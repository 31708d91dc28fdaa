-- What a balance check needs to know about one subscriber, in one round trip (reads only).
-- KEYS[1] consent (hash)   KEYS[2] ads shown (hash, see ad_reserve_subscriber.lua)
-- KEYS[3] tags (set)       KEYS[4] lifecycle (hash)    KEYS[5] preferences (hash)
-- Returns {consent of purpose ads or '', ads shown flat, tags, lifecycle flat, language or ''}
-- (a nil would end the array early)
return {
  redis.call('HGET', KEYS[1], 'ads') or '',
  redis.call('HGETALL', KEYS[2]),
  redis.call('SMEMBERS', KEYS[3]),
  redis.call('HGETALL', KEYS[4]),
  redis.call('HGET', KEYS[5], 'lang') or '',
}
