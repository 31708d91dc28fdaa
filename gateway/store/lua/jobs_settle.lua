-- KEYS queue, due, dead · ARGV group, entry, outcome (done | retry | dead), id, attempt, data,
-- due_ms (retry) or reason (dead), now, dead maxlen → 1 settled | 0 the entry was not pending
-- (another worker settled it)
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if acked == 0 then return 0 end
if ARGV[3] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[7], ARGV[4] .. '\n' .. ARGV[5] .. '\n' .. ARGV[6])
elseif ARGV[3] == 'dead' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'id', ARGV[4], 'attempt', ARGV[5],
    'data', ARGV[6], 'reason', ARGV[7], 'at', ARGV[8])
end
return 1
