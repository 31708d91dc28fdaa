"""Every Redis key Jumbe writes, with its TTL, in one place.

Each key carries a Redis Cluster hash tag (``{…}``) so that keys a Lua script touches together hash
to one slot. Names are short because they are written on every hop.

- ``j:s:{<provider>:<session id>}`` (string, ``session_ttl``, default 180 s): one USSD
  session, ``<version>\n<json>``.
- ``j:se:{ends:<shard>}:<provider>:<session id>`` (hash, ``USSD_EVENT_TTL`` = 30 days): the
  aggregator's end-of-session notification; also the marker that it was handled.
- ``j:ussd:ends:{ends:<shard>}`` (stream, trimmed to ``USSD_ENDS_MAXLEN`` / shards): one entry
  per ended session, for funnel reports. A notification and its stream entry share a shard
  (``USSD_ENDS_SHARDS`` of them, by CRC32 of provider and session) so one script writes both.
- ``j:meta:{meta}`` (hash, no TTL): this Redis's data epoch, when it was created, a check value
  of the pseudonym key, and an unacknowledged data loss (``gateway.store.meta``).
- ``j:meta:log:{meta}`` (stream, no TTL): data losses acknowledged by an operator.
- ``j:sub:{<pseudonym>}`` (hash, ``SUBSCRIBER_TTL`` = 400 days, refreshed on write): what Jumbe
  remembers of a subscriber across sessions (``lang``: the chosen language).
- ``j:r:{<pseudonym>}:<menu id>`` (string, the menu's ``resume.within``): the last state of a
  session that has not ended, for resuming after a drop; deleted when a session ends normally.

SMS and consent (issue 4). Outbox keys share the ``{sms}`` tag so the outbox Lua scripts (which
touch a record, the due set and the stream together) run on one Cluster slot.

- ``j:sms:m:{sms}:<message id>`` (hash, no TTL while pending; ``SMS_RECORD_TTL`` = 30 days once
  final): one outbound message, the only place the raw number is kept.
- ``j:sms:due:{sms}`` (sorted set, no TTL; members leave when due): message ids by due time (ms),
  for "send at", quiet hours and retry backoff.
- ``j:sms:q:{sms}`` (stream + consumer group ``SMS_GROUP``, no TTL; entries deleted on ack): ready
  messages, claimed by workers (XREADGROUP / XACK / XAUTOCLAIM).
- ``j:sms:dead:{sms}`` (stream, trimmed to ``SMS_DEAD_MAXLEN``): dead letters with the reason.
- ``j:sms:at:{sms}:<aggregator's message id>`` (string, ``SMS_RECORD_TTL``): → our message id.
- ``j:sms:dlr:{sms}:<aggregator's message id>`` (hash, ``SMS_DLR_STASH_TTL`` = 1 day): a delivery
  report that arrived before the send was recorded, applied when it is.
- ``j:sms:rate:{sms}:<sender>`` (string, 1 s): per-sender send counter for the rate limit.
- ``j:sms:stats:{sms}:<hour>`` (hash, ``SMS_STATS_TTL`` = 400 days after its last change): the
  report counters of the messages whose report hour is ``<hour>`` (epoch seconds // 3600, UTC):
  ``<category>:sent``, ``<category>:<final status>``, ``<category>:settled`` and the delivery
  latency histogram ``<category>:le:<seconds>``; written only by the outbox scripts, in the same
  step as the status change (``gateway.sms.scripts``). Hourly, so that any time zone whose
  offset is whole hours can be re-bucketed into its days; ``{sms}`` so the scripts can write it.
- ``j:sms:in:{inbox}:<provider>:<inbound id>`` (string, ``SMS_INBOUND_TTL`` = 48 h): an inbound
  SMS fully handled; written by the same script as its inbox entry, after its other effects.
- ``j:sms:inbox:{inbox}`` (stream, trimmed to ``SMS_INBOX_MAXLEN``): inbound SMS (pseudonym,
  text, route).
- ``j:sms:flows:{inbox}`` (stream, trimmed to ``SMS_INBOX_MAXLEN``): "start this survey" requests
  from keywords (``survey``, ``subscriber``, ``inbound_id``, ``language``).
- ``j:tags:{<pseudonym>}`` (set, no TTL): tags a keyword put on a subscriber.
- ``j:c:{<pseudonym>}`` (hash, no TTL): current consent per purpose (``state|time|source``).
- ``j:c:h:{<pseudonym>}`` (stream, no TTL): the full consent history of one subscriber.
- ``j:c:ev:{<pseudonym>}:<event id>`` (string, ``CONSENT_EVENT_TTL`` = 48 h): a callback's
  consent change already applied (its retry records nothing).
"""

from __future__ import annotations

import zlib

PREFIX = "j"

USSD_EVENT_TTL = 30 * 24 * 3600
"""End-of-session notifications are kept 30 days for funnel reports."""

USSD_ENDS_MAXLEN = 1_000_000
"""The ended-sessions streams together are trimmed (approximately) to this many entries."""

USSD_ENDS_SHARDS = 8
"""End-of-session notifications are spread over this many Cluster slots."""


def session(provider: str, session_id: str) -> str:
    """A USSD session; expires ``session_ttl`` seconds after its last hop."""
    return f"{PREFIX}:s:{{{provider}:{session_id}}}"


def ussd_ends_shard(provider: str, session_id: str) -> int:
    """The shard an ended session's notification and stream entry live in."""
    return zlib.crc32(f"{provider}:{session_id}".encode()) % USSD_ENDS_SHARDS


def session_end(provider: str, session_id: str) -> str:
    """The aggregator's end-of-session notification for one session (30 days)."""
    shard = ussd_ends_shard(provider, session_id)
    return f"{PREFIX}:se:{{ends:{shard}}}:{provider}:{session_id}"


def ussd_ends_stream(shard: int) -> str:
    """One shard's stream of ended sessions, newest last."""
    return f"{PREFIX}:ussd:ends:{{ends:{shard}}}"


def meta() -> str:
    """This Redis's Jumbe metadata: data epoch, key check, recorded data loss (no TTL)."""
    return f"{PREFIX}:meta:{{meta}}"


def meta_log() -> str:
    """Audit trail of acknowledged data losses (no TTL)."""
    return f"{PREFIX}:meta:log:{{meta}}"


SUBSCRIBER_TTL = 400 * 24 * 3600
"""A subscriber's remembered preferences expire 400 days after they were last written."""


def subscriber(pseudonym: str) -> str:
    """Preferences of one subscriber (hash; field ``lang``)."""
    return f"{PREFIX}:sub:{{{pseudonym}}}"


def resume_point(pseudonym: str, menu_id: str) -> str:
    """Where a dropped session of ``menu_id`` stood (same slot as ``subscriber``)."""
    return f"{PREFIX}:r:{{{pseudonym}}}:{menu_id}"


# --- SMS outbox and consent ledger (issue 4) ---------------------------------------------------

SMS_RECORD_TTL = 30 * 24 * 3600
"""Outbound message records and AT id mappings are kept 30 days after reaching a final status."""

SMS_DLR_STASH_TTL = 24 * 3600
"""A delivery report for a send not yet recorded waits at most a day."""

SMS_INBOUND_TTL = 48 * 3600
"""Inbound SMS ids are remembered 48 h (AT retries for about 12 h)."""

SMS_DEAD_MAXLEN = 100_000
SMS_INBOX_MAXLEN = 1_000_000
SMS_GROUP = "workers"
"""The consumer group of SMS workers on the outbox stream."""

SMS_STATS_TTL = 400 * 24 * 3600
"""Hourly SMS report counters are kept 400 days after their last change (a year, compared)."""

_SMS = "{sms}"


def sms_message(message_id: str) -> str:
    """One outbound message record (30 days after its final status)."""
    return f"{PREFIX}:sms:m:{_SMS}:{message_id}"


def sms_due() -> str:
    """Message ids scored by due time in ms (no TTL; members leave when due)."""
    return f"{PREFIX}:sms:due:{_SMS}"


def sms_queue() -> str:
    """The ready-to-send stream, read by the ``SMS_GROUP`` consumer group."""
    return f"{PREFIX}:sms:q:{_SMS}"


def sms_dead() -> str:
    """Dead-lettered messages with their reason (trimmed to ``SMS_DEAD_MAXLEN``)."""
    return f"{PREFIX}:sms:dead:{_SMS}"


def sms_provider_id(provider_message_id: str) -> str:
    """The aggregator's message id → our message id (``SMS_RECORD_TTL``)."""
    return f"{PREFIX}:sms:at:{_SMS}:{provider_message_id}"


def sms_dlr_stash(provider_message_id: str) -> str:
    """An early delivery report awaiting its send record (``SMS_DLR_STASH_TTL``)."""
    return f"{PREFIX}:sms:dlr:{_SMS}:{provider_message_id}"


def sms_rate(sender: str) -> str:
    """Per-sender send counter of the current one-second window."""
    return f"{PREFIX}:sms:rate:{_SMS}:{sender}"


def sms_stats(hour: int) -> str:
    """Report counters of the messages reported in ``hour`` (epoch seconds // 3600, UTC)."""
    return f"{PREFIX}:sms:stats:{_SMS}:{hour}"


_INBOX = "{inbox}"


def sms_inbound_seen(provider: str, inbound_id: str) -> str:
    """Marks an inbound SMS as fully handled (``SMS_INBOUND_TTL``; same slot as the inbox)."""
    return f"{PREFIX}:sms:in:{_INBOX}:{provider}:{inbound_id}"


def sms_inbox() -> str:
    """Stream of inbound SMS (pseudonym, text, route), trimmed to ``SMS_INBOX_MAXLEN``."""
    return f"{PREFIX}:sms:inbox:{_INBOX}"


def sms_flows() -> str:
    """Stream of keyword-started surveys for the survey engine to pick up."""
    return f"{PREFIX}:sms:flows:{_INBOX}"


def subscriber_tags(pseudonym: str) -> str:
    """Tags put on a subscriber by keywords (no TTL)."""
    return f"{PREFIX}:tags:{{{pseudonym}}}"


def consent(pseudonym: str) -> str:
    """Current consent per purpose: ``state|epoch seconds|source`` (no TTL)."""
    return f"{PREFIX}:c:{{{pseudonym}}}"


def consent_history(pseudonym: str) -> str:
    """Every consent change of one subscriber, oldest first (no TTL)."""
    return f"{PREFIX}:c:h:{{{pseudonym}}}"


CONSENT_EVENT_TTL = 48 * 3600
"""A consent change made by a callback event is remembered 48 h (AT retries for about 12 h)."""


def consent_event(pseudonym: str, event_id: str) -> str:
    """Marks one event's consent change as applied (same slot as ``consent``)."""
    return f"{PREFIX}:c:ev:{{{pseudonym}}}:{event_id}"


# --- Incentives (granted by engines, credited by the rewards ledger) ------------------------------


def incentives_granted(source: str) -> str:
    """Grants of one source (``survey:<id>``): source id → ``pseudonym|points|time`` (no TTL:
    kept until the ledger has credited them; crediting twice is a no-op)."""
    return f"{PREFIX}:inc:{{{source}}}"


def incentive_sources() -> str:
    """Every source that has granted incentives (no TTL)."""
    return f"{PREFIX}:inc:sources"


# --- Durable job queues (gateway.jobs) ------------------------------------------------------
# A queue is spread over ``shards`` hash tags ``{jobs:<queue>:<n>}`` (a job goes to the shard of
# CRC32 of its id), so no one Cluster slot carries all of it. Each shard's stream, due set and
# dead letters share its tag: one script moves a job between them.

JOBS_GROUP = "workers"
"""The consumer group of every job queue's streams."""
JOBS_DEAD_MAXLEN = 100_000


def jobs_shard(job_id: str, shards: int) -> int:
    """The shard a job lives in."""
    return zlib.crc32(job_id.encode()) % shards


def jobs_queue(queue: str, shard: int) -> str:
    """Ready jobs of one shard (stream, group ``JOBS_GROUP``; entries deleted on settle)."""
    return f"{PREFIX}:jobs:q:{{jobs:{queue}:{shard}}}"


def jobs_due(queue: str, shard: int) -> str:
    """Jobs waiting for their time (sorted set by due ms; ``id\\nattempt\\ndata``; no TTL)."""
    return f"{PREFIX}:jobs:due:{{jobs:{queue}:{shard}}}"


def jobs_dead(queue: str, shard: int) -> str:
    """Jobs given up on, with the reason (stream, trimmed to ``JOBS_DEAD_MAXLEN``)."""
    return f"{PREFIX}:jobs:dead:{{jobs:{queue}:{shard}}}"


# --- Rewards ledger (gateway.rewards) ------------------------------------------------------
# A subscriber's ledger, redemptions and per-number guards share the subscriber's tag
# ``{<pseudonym>}``, so the hold (guards + balance + entry + redemption) is one script. The
# global budget has its own tag; indexes that span subscribers are sharded.

REWARDS_GUARDS_TTL = 40 * 24 * 3600
"""Per-number velocity and value counters outlive the longest window (a month) with margin."""
REWARDS_EARLY_TTL = 24 * 3600
"""An airtime status callback that beat its send's record waits at most a day."""
REWARDS_BUDGET_TTL = 2 * 24 * 3600
REWARDS_SHARDS = 8
"""Cross-subscriber indexes (expiry, redemptions by time) are spread over this many tags."""


def rewards_ledger(pseudonym: str) -> str:
    """Append-only ledger entries of one subscriber (stream, no TTL; never trimmed)."""
    return f"{PREFIX}:rw:l:{{{pseudonym}}}"


def rewards_snapshot(pseudonym: str) -> str:
    """What the ledger's entries add up to as of one entry: the balance and the lots holding
    points (JSON, no TTL; derived data the scripts rewrite every 64 entries, so a script replays
    only the entries after it; losing it costs one full replay)."""
    return f"{PREFIX}:rw:snap:{{{pseudonym}}}"


def rewards_sources(pseudonym: str) -> str:
    """``<source>\\n<source id>`` → the earn entry it made (hash, no TTL): earn is unique."""
    return f"{PREFIX}:rw:src:{{{pseudonym}}}"


def rewards_redemption(pseudonym: str, redemption_id: str) -> str:
    """One redemption: state, item, value, the raw number to send to, AT's answers (hash, no
    TTL: it is part of the ledger's history)."""
    return f"{PREFIX}:rw:r:{{{pseudonym}}}:{redemption_id}"


def rewards_redemptions(pseudonym: str) -> str:
    """A subscriber's redemption ids by creation time in ms (sorted set, no TTL)."""
    return f"{PREFIX}:rw:rs:{{{pseudonym}}}"


def rewards_guards(pseudonym: str) -> str:
    """Per-number guards: ``last_airtime`` (epoch s), ``d:<YYYYMMDD>:<cur>`` and
    ``m:<YYYYMM>:<cur>`` values sent (hash, ``REWARDS_GUARDS_TTL`` from the last hold)."""
    return f"{PREFIX}:rw:g:{{{pseudonym}}}"


def rewards_requests(pseudonym: str) -> str:
    """AT's airtime ``requestId`` → our redemption id (hash, no TTL)."""
    return f"{PREFIX}:rw:at:{{{pseudonym}}}"


def rewards_early(pseudonym: str) -> str:
    """Status callbacks whose request id is not recorded yet: ``requestId`` → status (hash,
    ``REWARDS_EARLY_TTL``)."""
    return f"{PREFIX}:rw:early:{{{pseudonym}}}"


def rewards_budget(day: str) -> str:
    """The global daily budget spent on ``day`` (YYYYMMDD): ``total:<currency>`` and ``r:<id>``
    per reservation (hash, ``REWARDS_BUDGET_TTL``)."""
    return f"{PREFIX}:rw:budget:{{rwbudget}}:{day}"


def rewards_breaker() -> str:
    """Set when the daily budget refused a redemption: why (string, until the day ends)."""
    return f"{PREFIX}:rw:breaker:{{rwbudget}}"


def rewards_shard(pseudonym: str) -> int:
    return zlib.crc32(pseudonym.encode()) % REWARDS_SHARDS


def rewards_expiry(shard: int) -> str:
    """Subscribers by the time their oldest points expire (sorted set, no TTL)."""
    return f"{PREFIX}:rw:exp:{{rwexp:{shard}}}"


def rewards_index(shard: int) -> str:
    """``<pseudonym>|<redemption id>`` by creation ms, for reconciliation (sorted set, no TTL)."""
    return f"{PREFIX}:rw:idx:{{rwidx:{shard}}}"


def rewards_vouchers(item: str) -> str:
    """Voucher codes of one catalog item given out: code → redemption id (hash, no TTL)."""
    return f"{PREFIX}:rw:v:{{rwv:{item}}}"


def rewards_voucher_of(item: str) -> str:
    """Redemption id → the voucher code it got (hash, no TTL; same slot as the codes)."""
    return f"{PREFIX}:rw:vr:{{rwv:{item}}}"
