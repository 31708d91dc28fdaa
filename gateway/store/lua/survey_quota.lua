-- Take a place in a survey quota bucket, once per respondent.
-- KEYS[1] the bucket (keys.survey_quota)   ARGV[1] pseudonym   ARGV[2] the bucket's limit
-- Returns 1 if the respondent holds a place (already, or now), 0 if the bucket is full.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  return 1
end
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SADD', KEYS[1], ARGV[1])
  return 1
end
return 0
