"""Clicks and conversions, credited to the subscriber's last impression of the campaign.

- A click is the subscriber dialling the campaign's ``click.code`` or replying its
  ``click.keyword`` by SMS, after seeing it; a repeat within ``AD_CLICK_REPEAT`` (30 s) is
  ignored. The hop pipeline and the inbound SMS handler call ``dialled``/``replied``
  (synchronous, never raising: the count is written in the background).
- A conversion (``POST /v1/ads/conversions``) counts when the subscriber saw the campaign
  within its ``conversion_window`` (default 7 days), once per conversion id.

Both land in the campaign's counters of the day and network of the event (campaign's zone).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway import logs
from gateway.ads.engine import Calendar
from gateway.ads.index import Campaigns
from gateway.ads.model import Campaign
from gateway.background import Background
from gateway.sms.keywords import normalize
from gateway.store import keys, lua
from gateway.store.pipelined import HopClient

log = logs.get_logger("gateway.ads")

_CLICK = lua.source("ad_click")
_COUNT = lua.source("ad_count")


@dataclass(frozen=True, slots=True)
class Conversion:
    counted: bool
    duplicate: bool
    reason: str = ""


class AdEvents:
    """Counts clicks and conversions (``app[AD_EVENTS]``)."""

    def __init__(
        self, client: HopClient, campaigns: Campaigns, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._campaigns = campaigns
        self._clock = clock
        self._background = Background("gateway.ads", "ad_click_failed")

    def dialled(self, pseudonym: str, service_code: str) -> None:
        """A session started on ``service_code``: a click on campaigns advertising it."""
        for campaign in self._campaigns.index.by_code.get(service_code, ()):
            self._background.spawn(self.click(pseudonym, campaign))

    def replied(self, pseudonym: str, text: str) -> None:
        """An inbound SMS: a click on campaigns whose keyword it is."""
        words = normalize(text).split()
        if words:
            for campaign in self._campaigns.index.by_keyword.get(words[0], ()):
                self._background.spawn(self.click(pseudonym, campaign))

    def sms_delivered(self, message_id: str) -> None:
        """An outbound SMS was delivered: if it is an ad's follow-up, count its impression."""
        self._background.spawn(self._sms_impression(message_id))

    async def _sms_impression(self, message_id: str) -> None:
        fields: Any = await self._client.execute(
            b"HMGET", keys.sms_message(message_id), b"ad_campaign", b"ad_impression",
            b"ad_network",
        )  # fmt: skip
        if not fields or fields[0] is None:
            return  # not an ad's SMS
        campaign = self._campaigns.index.by_id.get(fields[0].decode())
        if campaign is None:
            return
        network = (fields[2] or b"").decode()
        day = Calendar.at(self._clock(), campaign.tz).day
        marker = keys.ad_conversion(campaign.id, f"sms:{fields[1].decode()}")
        await self._client.run_script(
            _COUNT, [marker, keys.ad_stats(campaign.id, day), keys.ad_days(campaign.id)],
            [keys.AD_STATS_TTL, f"{network}:m", keys.AD_STATS_TTL, f"{day}|{network}"],
        )  # fmt: skip

    async def click(self, pseudonym: str, campaign: Campaign) -> bool:
        """Count one click if the subscriber saw the campaign (and did not click just now)."""
        seen: Any = await self._client.run_script(
            _CLICK, [keys.ad_click(pseudonym, campaign.id), keys.ad_shown(pseudonym)],
            [campaign.id, keys.AD_CLICK_REPEAT],
        )  # fmt: skip
        impression = _impression(seen)
        if impression is None or self._clock() - impression[1] > campaign.conversion_window:
            return False
        day = Calendar.at(self._clock(), campaign.tz).day
        stats = keys.ad_stats(campaign.id, day)
        await asyncio.gather(  # deduplicated above: plain commands on the campaign's slot
            self._client.execute(b"HINCRBY", stats, f"{impression[2]}:c", 1),
            self._client.execute(b"EXPIRE", stats, keys.AD_STATS_TTL),
            self._client.execute(b"SADD", keys.ad_days(campaign.id), f"{day}|{impression[2]}"),
        )
        return True

    async def convert(self, pseudonym: str, campaign: Campaign, conversion_id: str) -> Conversion:
        """Count a conversion once per id, if the subscriber saw the campaign within its
        conversion window."""
        seen: Any = await self._client.execute(
            b"HGET", keys.ad_shown(pseudonym), f"i:{campaign.id}"
        )
        impression = _impression(seen)
        if impression is None:
            return Conversion(False, False, "the subscriber has not seen this campaign")
        if self._clock() - impression[1] > campaign.conversion_window:
            return Conversion(False, False, "outside the campaign's conversion window")
        marker = keys.ad_conversion(campaign.id, conversion_id)
        day = Calendar.at(self._clock(), campaign.tz).day
        network = impression[2]
        counted: Any = await self._client.run_script(
            _COUNT,
            [marker, keys.ad_stats(campaign.id, day), keys.ad_days(campaign.id)],
            [campaign.conversion_window, f"{network}:v", keys.AD_STATS_TTL, f"{day}|{network}"],
        )
        return Conversion(True, int(counted) != 1)

    async def close(self) -> None:
        await self._background.close()


def _impression(raw: Any) -> tuple[str, float, str] | None:
    if not raw:
        return None
    impression, at, network = raw.decode().split("|", 2)
    return impression, float(at), network
