"""``GET /v1/reports/ads``: per campaign, impressions, reach, clicks, CTR, conversions, spend,
and the same per day × network (days in the campaign's zone), read from the counters the
decision and event scripts write (so it is current at once), plus subscribers per lifecycle
stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from gateway.ads.model import MICRO
from gateway.store import keys, lua
from gateway.store.client import StoreClient

_REPORT = lua.source("ad_report")


async def campaign_ids(client: StoreClient, current: Iterable[str]) -> list[str]:
    """Campaigns served now, and every one that ever served (a finished campaign is reported)."""
    served: Any = await client.smembers(keys.ads_served())
    return sorted(set(current) | {s.decode() for s in served})


async def ads_report(
    client: StoreClient, ids: list[str], start: date | None, end: date | None
) -> dict[str, Any]:
    """The report over ``[start, end]`` (whole days; ``None``: open-ended)."""
    campaigns = [await _campaign(client, cid, start, end) for cid in ids]
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "campaigns": campaigns,
    }


async def _campaign(
    client: StoreClient, cid: str, start: date | None, end: date | None
) -> dict[str, Any]:
    raw: Any = await client.smembers(keys.ad_days(cid))
    pairs = sorted(p.decode().split("|", 1) for p in raw)
    wanted = [(d, n) for d, n in pairs if _within(d, start, end)]
    days = sorted({d for d, _ in wanted})
    reach_keys = [keys.ad_reach(cid, day, network) for day, network in wanted]
    replies: Any = await client.register_script(_REPORT)(
        keys=[*(keys.ad_stats(cid, day) for day in days), *reach_keys], args=[len(days)]
    )  # one script on the campaign's slot: the union of reach needs its keys together
    stats = dict(zip(days, replies[: len(days)], strict=True))
    rows = []
    for i, (day, network) in enumerate(wanted):
        flat = stats[day]
        counters = {flat[j].decode(): int(flat[j + 1]) for j in range(0, len(flat), 2)}
        row = _figures(counters, network)
        rows.append({"date": _iso(day), "network": network, **row,
                     "reach": int(replies[len(days) + i])})  # fmt: skip
    counted = ("impressions", "clicks", "conversions", "sms_impressions")
    totals = {name: sum(r[name] for r in rows) for name in counted}
    spend = sum(r["spend"] for r in rows)
    return {
        "id": cid,
        **totals,
        "reach": int(replies[-1]),
        "ctr": _ratio(totals["clicks"], totals["impressions"]),
        "spend": round(spend, 6),
        "days": rows,
    }


def _figures(counters: dict[str, int], network: str) -> dict[str, Any]:
    impressions = counters.get(f"{network}:i", 0)
    clicks = counters.get(f"{network}:c", 0)
    return {
        "impressions": impressions,
        "clicks": clicks,
        "ctr": _ratio(clicks, impressions),
        "conversions": counters.get(f"{network}:v", 0),
        "sms_impressions": counters.get(f"{network}:m", 0),
        "spend": counters.get(f"{network}:s", 0) / MICRO,
    }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _within(day: str, start: date | None, end: date | None) -> bool:
    moment = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    return (start is None or moment >= start) and (end is None or moment <= end)


def _iso(day: str) -> str:
    return f"{day[:4]}-{day[4:6]}-{day[6:]}"
