-- KEYS due, queue · ARGV now_ms, limit → number of jobs moved onto the stream
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(members) do
  redis.call('ZREM', KEYS[1], member)
  local id, attempt, data = string.match(member, '^([^\n]*)\n([^\n]*)\n(.*)$')
  redis.call('XADD', KEYS[2], '*', 'id', id, 'attempt', attempt, 'data', data)
end
return #members
