"""The outbox's Lua scripts (in ``store/lua/outbox_*.lua``): every state change of a message is
one atomic step.

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

**Sharding.** A message's scripts run in its shard's slot (``{sms:<n>}``, named by its id);
the link from AT's message id to ours lives in the slot of AT's id (``{at:<id>}``), the one
thing a delivery report carries. Recording a send is therefore two steps: ``LINK`` (the link,
and any report that came before it, read atomically with it) then ``RECORD_SENT`` (the record,
applying that report). A report that finds the link before the send is recorded is kept in the
record (``early_*`` fields, code 4) and applied by ``RECORD_SENT``, so it counts in the send's
hour as before.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from redis.commands.core import AsyncScript

from gateway.store import lua
from gateway.store.client import StoreClient

FINAL = frozenset({"delivered", "failed", "rejected", "dead", "refused"})
LATENCY_BOUNDS = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600,
                  7200, 14400, 28800, 86400, 172800)  # fmt: skip
"""Upper bounds (seconds) of the delivery-latency histogram in the report counters."""
NEEDS_HOUR = 3
"""A script's answer: it needs the counters of another hour (given next) and changed nothing."""
HELD = 4
"""``APPLY``'s answer: the message is not recorded as sent yet; the report waits in it."""

_LIB = {"LATENCY_BOUNDS": ", ".join(map(str, LATENCY_BOUNDS))}


def _with_lib(name: str) -> str:
    return lua.compose("outbox_lib", name, **_LIB)


def group_of(text: str, sender: str) -> str:
    """What messages that may share one SDK call have in common (their text and sender id),
    short: written beside the message id in its stream entry, so the worker groups a campaign
    without reading the records."""
    return hashlib.sha1(f"{sender}\n{text}".encode(), usedforsecurity=False).hexdigest()[:16]


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
    link: AsyncScript

    @classmethod
    def register(cls, client: StoreClient) -> Scripts:
        return cls(*(client.register_script(src) for src in (
            lua.source("outbox_enqueue"), lua.source("outbox_promote"), _with_lib("outbox_claim"),
            _with_lib("outbox_record_sent"), _with_lib("outbox_requeue"),
            _with_lib("outbox_finish"), _with_lib("outbox_dlr_lookup"), _with_lib("outbox_apply"),
            lua.source("outbox_rate"), lua.source("inbound_done"), lua.source("outbox_link"),
        )))  # fmt: skip
