-- Compare-and-set of one USSD session (the only write on the hop path).
-- KEYS[1]  session key
-- ARGV[1]  version the caller read ("0" = the session must not exist yet)
-- ARGV[2]  new value, "<version+1>\n<json>"
-- ARGV[3]  TTL in milliseconds
-- Returns 1 when saved; otherwise the value stored now (another hop won), or 0 when the
-- session the caller read has expired meanwhile.
local current = redis.call('GET', KEYS[1])
if current then
  local version = string.match(current, '^(%d+)\n')
  if version ~= ARGV[1] then
    return current
  end
elseif ARGV[1] ~= '0' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
