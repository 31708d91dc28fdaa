"""The funnel report of one menu: per screen, sessions that reached it, answered it, gave an
invalid answer, and ended there by timeout, by the subscriber or by an error; per local day.

Read from the per-day counters (``keys.funnel_hops``, ``keys.funnel_drops``), whose fields are
per UTC hour, so the days can be those of any time zone whose offset is whole hours (the SMS
report's rule, ``gateway.sms.stats.Days``). Screens come in the menu's order (breadth first
from its start screen); screens counted but no longer in the menu come last.
"""

from __future__ import annotations

from collections import Counter, deque
from datetime import date
from typing import Any

from gateway.funnel.counts import ANSWERED, INVALID, NEW, REACHED
from gateway.funnel.drops import DROPS
from gateway.menu.model import Menu
from gateway.menu.screens import kind_of
from gateway.sms.stats import Days
from gateway.store import keys
from gateway.store.client import StoreClient

_KINDS = {REACHED: "reached", ANSWERED: "answered", INVALID: "invalid"}

Tally = Counter[tuple[str, str]]
"""(what, screen) → count; ``what`` is reached/answered/invalid/a drop reason/sessions."""


def screen_order(menu: Menu) -> list[str]:
    """The menu's screens breadth first from its start, then any the arrows do not reach."""
    order, queued = [], {menu.start}
    pending = deque([menu.start])
    while pending:
        screen_id = pending.popleft()
        screen = menu.screens.get(screen_id)
        if screen is None:
            continue
        order.append(screen_id)
        for edge in kind_of(screen).edges(screen, menu.default_language):
            if edge.target not in queued:
                queued.add(edge.target)
                pending.append(edge.target)
    return order + [screen_id for screen_id in menu.screens if screen_id not in queued]


async def funnel_report(client: StoreClient, menu: Menu, span: Days) -> dict[str, Any]:
    """``{"menu", "from", "to", "tz", "sessions", "screens": [...], "days": [{"date",
    "sessions", "screens": [...]}]}``; each screen ``{"screen", "kind", "reached", "answered",
    "invalid", "dropped": {"timeout", "user", "error"}, "dropped_total"}`` (shape in
    ``docs/api.md``)."""
    hours = span.hours()
    utc_days = sorted({hour // 24 for hour in hours})
    pipe = client.pipeline(transaction=False)
    for day in utc_days:
        pipe.hgetall(keys.funnel_hops(menu.id, day))
        for shard in range(keys.USSD_ENDS_SHARDS):
            pipe.hgetall(keys.funnel_drops(shard, menu.id, day))
    replies: list[Any] = await pipe.execute()
    per_day: dict[date, Tally] = {day: Counter() for day in span.dates()}
    per_key = 1 + keys.USSD_ENDS_SHARDS
    for index, day in enumerate(utc_days):
        for raw in replies[index * per_key : (index + 1) * per_key]:
            for name, value in (raw or {}).items():
                hour_of_day, what, screen = name.decode().split("|", 2)
                local = hours.get(day * 24 + int(hour_of_day))
                if local is not None:
                    per_day[local][_KINDS.get(what, what), screen] += int(value)
    order = screen_order(menu)
    totals: Tally = Counter()
    for tally in per_day.values():
        totals.update(tally)
    counted = {screen for _, screen in totals if screen}
    order += sorted(counted - set(order))
    return {
        "menu": menu.id,
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "tz": span.tz,
        "sessions": totals[NEW, ""],
        "screens": _screens(menu, order, totals),
        "days": [
            {
                "date": day.isoformat(),
                "sessions": tally[NEW, ""],
                "screens": _screens(menu, order, tally),
            }
            for day, tally in per_day.items()
        ],
    }


def _screens(menu: Menu, order: list[str], tally: Tally) -> list[dict[str, Any]]:
    rows = []
    for screen_id in order:
        screen = menu.screens.get(screen_id)
        dropped = {reason: tally[reason, screen_id] for reason in DROPS}
        rows.append(
            {
                "screen": screen_id,
                "kind": screen.kind if screen is not None else None,
                "reached": tally["reached", screen_id],
                "answered": tally["answered", screen_id],
                "invalid": tally["invalid", screen_id],
                "dropped": dropped,
                "dropped_total": sum(dropped.values()),
            }
        )
    return rows
