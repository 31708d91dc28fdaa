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

SMS and consent (issue 4). The outbox is spread over ``SMS_SHARDS`` hash tags ``{sms:<n>}``
(``JUMBE_SMS_SHARDS``); a message id names its shard (``m<n>_…``, ``k<n>_…``), so its record,
the shard's due set, stream, dead letters and report counters share a slot and each outbox
script runs on one. Ids without a shard (``m…``, ``k…``: written before sharding) keep their
keys in the one ``{sms}`` tag, which workers go on draining (docs/architecture.md).

- ``j:sms:m:{sms:<n>}:<message id>`` (hash, no TTL while pending; ``SMS_RECORD_TTL`` = 30 days
  once final): one outbound message, the only place the raw number is kept.
- ``j:sms:due:{sms:<n>}`` (sorted set, no TTL; members leave when due): message ids by due time
  (ms), for "send at", quiet hours and retry backoff.
- ``j:sms:q:{sms:<n>}`` (stream + consumer group ``SMS_GROUP``, no TTL; entries deleted on ack):
  ready messages, claimed by workers (XREADGROUP / XACK / XAUTOCLAIM).
- ``j:sms:dead:{sms:<n>}`` (stream, trimmed to ``SMS_DEAD_MAXLEN``): dead letters with the reason.
- ``j:sms:at:{at:<aggregator's message id>}`` (string, ``SMS_RECORD_TTL``): → our message id,
  which names the shard. In the slot of the aggregator's id, the only thing a delivery report
  carries, so a report finds its message in one lookup whatever the shard.
- ``j:sms:dlr:{at:<aggregator's message id>}`` (hash, ``SMS_DLR_STASH_TTL`` = 1 day): a delivery
  report that arrived before the aggregator's id was linked, read when it is (same slot).
- ``j:sms:at:{sms}:<aggregator's message id>`` (string, ``SMS_RECORD_TTL``): the same link as
  written before sharding, still read by delivery reports for messages sent then.
- ``j:sms:rate:{smsrate:<sender>}`` (string, 1 s): per-sender send counter for the rate limit.
- ``j:sms:stats:{sms:<n>}:<hour>`` (hash, ``SMS_STATS_TTL`` = 400 days after its last change):
  the shard's report counters of the messages whose report hour is ``<hour>`` (epoch seconds //
  3600, UTC): ``<category>:sent``, ``<category>:<final status>``, ``<category>:settled`` and the
  delivery latency histogram ``<category>:le:<seconds>``; written only by the outbox scripts, in
  the same step as the status change (``gateway.sms.scripts``); a report adds up the shards.
  Hourly, so that any time zone whose offset is whole hours can be re-bucketed into its days.
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

Funnel analytics (issue 14): counts only, no pseudonyms.

- ``j:fn:{fn:<menu id>}:<day>`` (hash, ``FUNNEL_TTL`` = 400 days): per hour and screen, how
  many sessions reached it, answered it or gave an invalid answer, and new sessions.
- ``j:fn:d:{ends:<shard>}:<menu id>:<day>`` (hash, ``FUNNEL_TTL``): per hour and screen, sessions
  that ended there before an END, by timeout, by the subscriber, or by an error.
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

SMS_SHARDS = 8
"""The outbox is spread over this many hash tags unless configured (``JUMBE_SMS_SHARDS``)."""

SMS_MESSAGE_PATTERN = f"{PREFIX}:sms:m:*"
"""Matches every message record, whatever its shard (``SCAN``)."""

HashTag = str
"""A ``{…}`` hash tag (part of a key, not a key)."""


def _sms_tag(shard: int | None) -> HashTag:
    return "{sms}" if shard is None else f"{{sms:{shard}}}"


def sms_shard_of(message_id: str) -> int | None:
    """The shard a message id names (``m3_…``, ``k3_…``); ``None`` for an id from before
    sharding, whose keys are in ``{sms}``."""
    head, sep, _rest = message_id.partition("_")
    return int(head[1:]) if sep and 1 < len(head) <= 5 and head[1:].isdigit() else None


def sms_shards(count: int) -> list[int | None]:
    """Every shard a worker serves: ``0 … count-1``, then the layout from before sharding."""
    return [*range(count), None]


def sms_message(message_id: str) -> str:
    """One outbound message record (30 days after its final status), in its id's shard."""
    return f"{PREFIX}:sms:m:{_sms_tag(sms_shard_of(message_id))}:{message_id}"


def sms_due(shard: int | None) -> str:
    """One shard's message ids scored by due time in ms (no TTL; members leave when due)."""
    return f"{PREFIX}:sms:due:{_sms_tag(shard)}"


def sms_queue(shard: int | None) -> str:
    """One shard's ready-to-send stream, read by the ``SMS_GROUP`` consumer group."""
    return f"{PREFIX}:sms:q:{_sms_tag(shard)}"


def sms_dead(shard: int | None) -> str:
    """One shard's dead-lettered messages with their reason (trimmed to ``SMS_DEAD_MAXLEN``)."""
    return f"{PREFIX}:sms:dead:{_sms_tag(shard)}"


def sms_provider_id(provider_message_id: str) -> str:
    """The aggregator's message id → our message id (``SMS_RECORD_TTL``), in the slot of the
    aggregator's id."""
    return f"{PREFIX}:sms:at:{{at:{provider_message_id}}}"


def sms_provider_id_v1(provider_message_id: str) -> str:
    """The same link as written before the outbox was sharded (read, never written now)."""
    return f"{PREFIX}:sms:at:{{sms}}:{provider_message_id}"


def sms_dlr_stash(provider_message_id: str) -> str:
    """An early delivery report awaiting its link (``SMS_DLR_STASH_TTL``; the link's slot)."""
    return f"{PREFIX}:sms:dlr:{{at:{provider_message_id}}}"


def sms_rate(sender: str) -> str:
    """Per-sender send counter of the current one-second window."""
    return f"{PREFIX}:sms:rate:{{smsrate:{sender}}}"


def sms_stats(hour: int, shard: int | None) -> str:
    """One shard's report counters of the messages reported in ``hour`` (epoch seconds //
    3600, UTC)."""
    return f"{PREFIX}:sms:stats:{_sms_tag(shard)}:{hour}"


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


# --- Funnel analytics (issue 14) ----------------------------------------------------------------

FUNNEL_TTL = 400 * 24 * 3600
"""Funnel counters are kept 400 days after their day's last change (a year, compared)."""


def funnel_hops(menu_id: str, day: int) -> str:
    """What one menu's screens saw on one UTC day (``day``: epoch seconds // 86400): field
    ``<hour 0-23>|<r|a|i|n>|<screen>`` → count (reached, answered, invalid answer, new sessions
    with screen ``""``). Added by each gateway process about once a second
    (``gateway.funnel.counts``), so writes per key stay few whatever the traffic."""
    return f"{PREFIX}:fn:{{fn:{menu_id}}}:{day}"


def funnel_drops(shard: int, menu_id: str, day: int) -> str:
    """Sessions of one menu that ended on a screen before its END, per UTC day: field
    ``<hour>|<timeout|user|error>|<screen>`` → count. In the ``{ends:<shard>}`` slot, so the
    script storing an end-of-session notification counts its drop in the same step (once)."""
    return f"{PREFIX}:fn:d:{{ends:{shard}}}:{menu_id}:{day}"


# --- Data-subject requests (issue 14) -------------------------------------------------------------


def audit() -> str:
    """Stream of data-subject requests (export, erase): action, pseudonym, who asked, what was
    removed, when (trimmed to about a million entries; no TTL)."""
    return f"{PREFIX}:audit:{{audit}}"


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


# --- Balance-check ads and lifecycle (issue 11) --------------------------------------------------
# Per subscriber: under the subscriber's tag ``{<pseudonym>}``, so that consent (``j:c:{…}``),
# caps, tags and lifecycle are read in one script and caps are checked-and-counted in another,
# on one Cluster slot. Per campaign: under ``{ad:<campaign id>}`` (pacing, budget, report
# counters and reach in one script on the campaign's slot). A decision pipelines the two.
#
# - ``j:ad:s:{<pseudonym>}`` (hash, ``AD_LIFETIME_TTL`` = 400 days after the last ad): ads shown,
#   in one hash so that a check reads and a reservation counts one key: ``d`` the local day and
#   ``w`` the ISO week being counted (``YYYYMMDD``, ``YYYYWww``, the subscriber's calendar),
#   ``d:*`` ads shown that day (the global per-day cap) and ``d:<campaign>``, ``w:<campaign>``,
#   ``l:<campaign>`` (lifetime) per campaign: the ``d:``/``w:`` fields of a past day or week are
#   dropped by the next reservation; ``i:<campaign>`` the last impression,
#   ``<impression id>|<epoch seconds>|<network>``: what a click or conversion is credited to.
# - ``j:ad:clk:{<pseudonym>}:<campaign>`` (string, ``AD_CLICK_REPEAT`` = 30 s): a click counted
#   just now (a repeat within the window is ignored).
# - ``j:ad:c:{ad:<campaign>}`` (hash, no TTL): ``n`` impressions served, ``spend`` (micro-units),
#   ``hour``/``hn`` impressions in the current hour (even pacing).
# - ``j:ad:st:{ad:<campaign>}:<YYYYMMDD>`` (hash, ``AD_STATS_TTL`` = 400 days): the report's
#   counters of one day in the campaign's zone, ``<network>:i|c|v|s`` (impressions, clicks,
#   conversions, spend in micro-units).
# - ``j:ad:reach:{ad:<campaign>}:<YYYYMMDD>:<network>`` (HyperLogLog, ``AD_STATS_TTL``): reach.
# - ``j:ad:days:{ad:<campaign>}`` (set, ``AD_STATS_TTL``): ``<YYYYMMDD>|<network>`` reported.
# - ``j:ad:cv:{ad:<campaign>}:<conversion id>`` (string, the campaign's conversion window):
#   a conversion counted (``POST /v1/ads/conversions`` is idempotent on its id).
# - ``j:ad:served:{ads}`` (set, no TTL): every campaign id that ever served (reports).
# - ``j:lc:{<pseudonym>}`` (hash, ``SUBSCRIBER_TTL``): lifecycle, ``d`` last active day (epoch
#   days, UTC), ``wk`` epoch week of bit 0 of ``w``, ``w`` bitmask of active weeks (8 bits).
# - ``j:lc:last:{lc:<shard>}`` (sorted set, no TTL; ``LIFECYCLE_SHARDS``): pseudonym → last
#   active day, for counts per stage (``ZCOUNT``); ``j:lc:loyal:{lc:<shard>}`` likewise →
#   the last day the subscriber was active while loyal.

AD_LIFETIME_TTL = 400 * 24 * 3600
AD_STATS_TTL = 400 * 24 * 3600
AD_CLICK_REPEAT = 30
"""Seconds within which a repeated click on one campaign by one subscriber is ignored."""
LIFECYCLE_SHARDS = 8


def ad_shown(pseudonym: str) -> str:
    """Ads shown to a subscriber: today's, this week's and lifetime counts per campaign, the
    day's total and the last impression per campaign (400 days after the last ad)."""
    return f"{PREFIX}:ad:s:{{{pseudonym}}}"


def ad_click(pseudonym: str, campaign: str) -> str:
    """A click just counted (``AD_CLICK_REPEAT``)."""
    return f"{PREFIX}:ad:clk:{{{pseudonym}}}:{campaign}"


def ad_campaign(campaign: str) -> str:
    """A campaign's served count, spend and current-hour count (no TTL)."""
    return f"{PREFIX}:ad:c:{{ad:{campaign}}}"


def ad_stats(campaign: str, day: str) -> str:
    """A campaign's report counters of one day (400 days)."""
    return f"{PREFIX}:ad:st:{{ad:{campaign}}}:{day}"


def ad_reach(campaign: str, day: str, network: str) -> str:
    """Distinct subscribers who saw a campaign on one day on one network (HyperLogLog)."""
    return f"{PREFIX}:ad:reach:{{ad:{campaign}}}:{day}:{network}"


def ad_days(campaign: str) -> str:
    """``<day>|<network>`` pairs a campaign has report counters for."""
    return f"{PREFIX}:ad:days:{{ad:{campaign}}}"


def ad_conversion(campaign: str, conversion_id: str) -> str:
    """A conversion already counted (the campaign's conversion window)."""
    return f"{PREFIX}:ad:cv:{{ad:{campaign}}}:{conversion_id}"


def ads_served() -> str:
    """Every campaign id that ever served an impression (no TTL)."""
    return f"{PREFIX}:ad:served:{{ads}}"


def lifecycle(pseudonym: str) -> str:
    """A subscriber's activity: last day, active-weeks bitmask (``SUBSCRIBER_TTL``)."""
    return f"{PREFIX}:lc:{{{pseudonym}}}"


def lifecycle_shard(pseudonym: str) -> int:
    return zlib.crc32(pseudonym.encode()) % LIFECYCLE_SHARDS


def lifecycle_last(shard: int) -> str:
    """Pseudonym → last active day, one shard (no TTL)."""
    return f"{PREFIX}:lc:last:{{lc:{shard}}}"


def lifecycle_loyal(shard: int) -> str:
    """Pseudonym → last day active while loyal, one shard (no TTL)."""
    return f"{PREFIX}:lc:loyal:{{lc:{shard}}}"


# --- Surveys (issue 12) --------------------------------------------------------------------------
# A respondent's keys carry the subscriber's tag, like everything else about them, so one script
# changes the respondent and their open SMS survey together. Survey-wide keys carry the
# survey's tag (``{sv:<id>}``); the due set is one ``{svdue}`` slot.

SURVEY_DUE_BATCH = 100
"""Due SMS survey checks (reminder, expiry) taken per tick."""


def survey_respondent(pseudonym: str, survey_id: str) -> str:
    """One respondent (hash, no TTL: survey results): ``d`` disposition, ``p`` progress JSON,
    ``ch`` channel, ``lang``, ``t:<disposition>`` times, ``a:<question>`` answer JSON
    ``[raw, value, category, time]``, ``last`` last activity, SMS: ``inv`` the invitation's
    message id, ``rem`` reminder sent, ``due`` next check."""
    return f"{PREFIX}:sv:{{{pseudonym}}}:{survey_id}"


def survey_reply_lease(pseudonym: str) -> str:
    """Held while one of a subscriber's SMS survey replies is applied, by whichever gateway
    process got it (``store.lease``: a random token, 5 s TTL)."""
    return f"{PREFIX}:sv:lease:{{{pseudonym}}}"


def survey_open(pseudonym: str) -> str:
    """The SMS survey a subscriber's replies go to (string: survey id; TTL the survey's expiry
    plus a day; same slot as ``survey_respondent``)."""
    return f"{PREFIX}:sv:open:{{{pseudonym}}}"


def survey_index(survey_id: str) -> str:
    """Every respondent of a survey (set of pseudonyms, no TTL), for reports."""
    return f"{PREFIX}:sv:idx:{{sv:{survey_id}}}"


def survey_quota(survey_id: str, bucket: str) -> str:
    """Respondents holding a place in one quota bucket (set of pseudonyms, no TTL); a place is
    given back when its holder ends without completing."""
    return f"{PREFIX}:sv:quota:{{sv:{survey_id}}}:{bucket}"


def survey_due() -> str:
    """SMS respondents to look at again (sorted set of ``<survey>|<pseudonym>`` by time in ms:
    the reminder or the expiry; members leave when handled)."""
    return f"{PREFIX}:sv:due:{{svdue}}"


# --- Event feed for brand CRMs (issue 14) --------------------------------------------------------


def feed_pending(pseudonym: str) -> str:
    """A subscriber's events not yet delivered to the CRM, oldest first (list of the JSON
    bodies, raw number included; no TTL: an event leaves only once delivered)."""
    return f"{PREFIX}:feed:{{{pseudonym}}}"
