"""The outbox's Lua scripts: every state change of a message is one atomic step.

Statuses rank ``queued/scheduled/retrying`` (0) < ``sending`` (1) < ``sent`` (2) < ``submitted``
(3) < ``buffered`` (4) < final (9: ``delivered``, ``failed``, ``rejected``, ``dead``,
``refused``). A delivery report only ever moves a message up, and never out of a final status.
A report in a word we do not know is kept verbatim in the record's ``report`` field and leaves
the status where it is (non-final): a later known report still settles it.

**Report counters.** The scripts that move a message also count it, in the same atomic step,
in the hourly hash ``keys.sms_stats(hour)`` of its *report hour*: the hour it was handed to
Africa's Talking (``sent_at``, set once by ``RECORD_SENT``), or, for a message that never was,
the hour it reached its final status. Fields, per category: ``<category>:sent`` (handed over),
``<category>:<final status>``, ``<category>:settled`` (a handed-over message reached a final
status: ``sent - settled`` are awaiting a report) and ``<category>:le:<bound>`` (delivered within
``bound`` seconds of being handed over, the smallest of ``LATENCY_BOUNDS`` that holds, else
``inf``). A count happens only on the transition itself, which happens once, so retried callbacks
and re-run scripts never count twice. A script that needs another hour's counters than the one
it was given (a late final report) changes nothing and names that hour (code 3); the caller runs
it again with that key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from redis.commands.core import AsyncScript

from gateway.store.client import StoreClient

FINAL = frozenset({"delivered", "failed", "rejected", "dead", "refused"})
LATENCY_BOUNDS = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600,
                  7200, 14400, 28800, 86400, 172800)  # fmt: skip
"""Upper bounds (seconds) of the delivery-latency histogram in the report counters."""
NEEDS_HOUR = 3
"""A script's answer: it needs the counters of another hour (given next) and changed nothing."""

_RANK = (
    """
local RANK = {queued=0, scheduled=0, retrying=0, sending=1, sent=2, submitted=3, buffered=4,
  delivered=9, failed=9, rejected=9, dead=9, refused=9}
local function rank(s) return RANK[s] or 0 end
local LATENCY = {"""
    + ", ".join(map(str, LATENCY_BOUNDS))
    + """}
-- The hour a message's counters live in: when it was handed to AT, else now.
local function report_hour(key, now)
  return math.floor(tonumber(redis.call('HGET', key, 'sent_at') or now) / 3600)
end
-- Count a message that just reached the final 'status' (the caller checked the hour).
local function settle(key, stats, status, now, stats_ttl)
  local f = redis.call('HMGET', key, 'category', 'sent_at')
  local cat = f[1] or 'unknown'
  redis.call('HINCRBY', stats, cat .. ':' .. status, 1)
  if f[2] then
    redis.call('HINCRBY', stats, cat .. ':settled', 1)
    if status == 'delivered' then
      local waited, le = tonumber(now) - tonumber(f[2]), 'inf'
      for _, bound in ipairs(LATENCY) do
        if waited <= bound then le = bound break end
      end
      redis.call('HINCRBY', stats, cat .. ':le:' .. le, 1)
    end
  end
  redis.call('EXPIRE', stats, stats_ttl)
end
-- status '' = a word the aggregator used that we do not know: kept verbatim in 'report',
-- the status does not move (non-final). Returns 1 applied, 2 kept, 0 ignored, or 3 and the
-- hour whose counters a final status needs when 'stats' is another hour's (nothing changed).
local function apply(key, status, reported, reason, now, ttl, stats, hour, stats_ttl)
  local cur = redis.call('HGET', key, 'status')
  if not cur or rank(cur) >= 9 then return 0 end
  if status == '' then
    if reported == '' then return 0 end
    redis.call('HSET', key, 'report', reported, 'updated', now)
    if reason ~= '' then redis.call('HSET', key, 'reason', reason) end
    return 2
  end
  if rank(status) <= rank(cur) then return 0 end
  if rank(status) >= 9 then
    local needed = report_hour(key, now)
    if needed ~= tonumber(hour) then return 3, needed end
  end
  redis.call('HSET', key, 'status', status, 'report', reported, 'updated', now)
  if reason ~= '' then redis.call('HSET', key, 'reason', reason) end
  if rank(status) >= 9 then
    redis.call('EXPIRE', key, ttl)
    settle(key, stats, status, now, stats_ttl)
  end
  return 1
end
local function ack(queue, group, entry)
  if entry ~= '' then
    redis.call('XACK', queue, group, entry)
    redis.call('XDEL', queue, entry)
  end
end
"""
)

# KEYS record, due, queue · ARGV id, due_ms, now_ms, field, value, …
# → 1 enqueued; else the ``request`` fingerprint of the message already stored under this id
ENQUEUE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HGET', KEYS[1], 'request') or ''
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
if tonumber(ARGV[2]) <= tonumber(ARGV[3]) then
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
return 1
"""

# KEYS due, queue · ARGV now_ms, limit → number moved
PROMOTE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'id', id)
end
return #ids
"""

# KEYS record, queue · ARGV entry, group, now → record fields, or false (acked: nothing to send)
CLAIM = (
    _RANK
    + """
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur or rank(cur) >= 2 then
  ack(KEYS[2], ARGV[2], ARGV[1])
  return false
end
redis.call('HSET', KEYS[1], 'status', 'sending', 'updated', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return redis.call('HGETALL', KEYS[1])
"""
)

# KEYS record, at map, dlr stash, queue, stats of the hour of now · ARGV id, at_id, cost, entry,
# group, ttl, now, that hour, stats ttl → {1 recorded | 0 no record | 3, hour: run again with
# that hour's stats (an early final report of a message first handed over in another hour)}
RECORD_SENT = (
    _RANK
    + """
ack(KEYS[4], ARGV[5], ARGV[4])
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, 0} end
if rank(cur) < 2 then
  redis.call('HSET', KEYS[1], 'status', 'sent', 'reason', '', 'sent_at', ARGV[7])
  local cat = redis.call('HGET', KEYS[1], 'category') or 'unknown'
  redis.call('HINCRBY', KEYS[5], cat .. ':sent', 1)
  redis.call('EXPIRE', KEYS[5], ARGV[9])
end
redis.call('HSET', KEYS[1], 'at_id', ARGV[2], 'cost', ARGV[3], 'updated', ARGV[7])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[6])
local early = redis.call('HMGET', KEYS[3], 'status', 'reported', 'reason')
if early[1] then
  local code, needed = apply(KEYS[1], early[1], early[2] or '', early[3] or '', ARGV[7], ARGV[6],
    KEYS[5], ARGV[8], ARGV[9])
  if code == 3 then return {3, needed} end
  redis.call('DEL', KEYS[3])
end
return {1, 0}
"""
)

# KEYS record, due, queue · ARGV id, due_ms, status, reason, entry, group, now, undo_attempt
REQUEUE = (
    _RANK
    + """
ack(KEYS[3], ARGV[6], ARGV[5])
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur or rank(cur) >= 2 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'reason', ARGV[4], 'due', ARGV[2],
  'updated', ARGV[7])
if ARGV[8] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', -1) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""
)

# KEYS record, queue, dead, stats of the hour of now · ARGV id, status, reason, entry, group, ttl,
# now, dead, dead_maxlen, stats ttl. Only a message never handed to AT ends here, so its report
# hour is now.
FINISH = (
    _RANK
    + """
ack(KEYS[2], ARGV[5], ARGV[4])
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur or rank(cur) >= 2 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'reason', ARGV[3], 'updated', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[6])
settle(KEYS[1], KEYS[4], ARGV[2], ARGV[7], ARGV[10])
if ARGV[8] == '1' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'id', ARGV[1], 'reason', ARGV[3],
    'at', ARGV[7])
end
return 1
"""
)

# KEYS at map, dlr stash · ARGV status ('' = unknown word), reported, reason, stash_ttl
# → our id, or false (stashed: the best report so far waits for the send to be recorded)
DLR_LOOKUP = (
    _RANK
    + """
local id = redis.call('GET', KEYS[1])
if id then return id end
local early = redis.call('HGET', KEYS[2], 'status')
local better = not early or (ARGV[1] ~= '' and (early == '' or rank(ARGV[1]) > rank(early)))
if better then
  redis.call('HSET', KEYS[2], 'status', ARGV[1], 'reported', ARGV[2], 'reason', ARGV[3])
end
redis.call('EXPIRE', KEYS[2], ARGV[4])
return false
"""
)

# KEYS record, stats of a guessed hour · ARGV status, reported, reason, now, ttl, that hour,
# stats ttl → {1 applied | 2 kept | 0 ignored | 3 run again with the stats of the hour that
# follows, the record's subscriber pseudonym or false, that hour or 0}
APPLY = (
    _RANK
    + """
local result, needed = apply(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], KEYS[2],
  ARGV[6], ARGV[7])
return {result, redis.call('HGET', KEYS[1], 'subscriber'), needed or 0}
"""
)

# KEYS handled marker, inbox, flows · ARGV marker ttl, maxlen, survey, flow fields (3), inbox
# field, value, … → 1 recorded now, 0 handled before. Runs last, after the inbound message's
# other effects (each idempotent), so the marker is never final before they are.
INBOUND_DONE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 7))
if ARGV[3] ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'survey', ARGV[3], 'subscriber', ARGV[4],
    'inbound_id', ARGV[5], 'language', ARGV[6])
end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
return 1
"""

# KEYS rate counter · ARGV limit → 0 to go, else ms to wait
RATE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 1000) end
if n <= tonumber(ARGV[1]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], 1000) ttl = 1000 end
return ttl
"""


def report_hour(now: str) -> int:
    """The hour (epoch seconds // 3600) of ``now`` as passed to a script, exactly as the scripts
    compute it from the same text."""
    return math.floor(float(now) / 3600)


@dataclass(frozen=True, slots=True)
class Scripts:
    """The scripts registered on one client (EVALSHA, reloaded by redis-py when flushed)."""

    enqueue: AsyncScript
    promote: AsyncScript
    claim: AsyncScript
    record_sent: AsyncScript
    requeue: AsyncScript
    finish: AsyncScript
    dlr_lookup: AsyncScript
    apply: AsyncScript
    rate: AsyncScript
    inbound_done: AsyncScript

    @classmethod
    def register(cls, client: StoreClient) -> Scripts:
        return cls(*(client.register_script(src) for src in (
            ENQUEUE, PROMOTE, CLAIM, RECORD_SENT, REQUEUE, FINISH, DLR_LOOKUP, APPLY, RATE,
            INBOUND_DONE,
        )))  # fmt: skip
