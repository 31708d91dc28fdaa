-- What a balance check needs to know about one subscriber, in one round trip (reads only).
-- KEYS[1] consent (hash)   KEYS[2] today's ad counts   KEYS[3] this week's   KEYS[4] lifetime
-- KEYS[5] tags (set)       KEYS[6] lifecycle (hash)    KEYS[7] preferences (hash)
-- Returns {consent of purpose ads or '', day flat, week flat, lifetime flat, tags,
--          lifecycle flat, language or ''} (a nil would end the array early)
return {
  redis.call('HGET', KEYS[1], 'ads') or '',
  redis.call('HGETALL', KEYS[2]),
  redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[4]),
  redis.call('SMEMBERS', KEYS[5]),
  redis.call('HGETALL', KEYS[6]),
  redis.call('HGET', KEYS[7], 'lang') or '',
}
