"""``kind: campaign``: one balance-check ad campaign per file (``docs/ads.md``), checked by
``gateway.ads.parse``, indexed by ``gateway.ads.index`` and swapped into ``app[CAMPAIGNS]`` on
every reload, so the next decision uses the new campaigns."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gateway.ads.index import CampaignIndex, Campaigns
from gateway.ads.model import Campaign
from gateway.ads.parse import parse_campaign
from gateway.content.kind import Built, Claim, Document

if TYPE_CHECKING:
    from aiohttp import web


class CampaignKind:
    """Campaign files: checked with line numbers, served from one index."""

    name = "campaign"

    def build(self, document: Document) -> Built[Campaign]:
        line, col = document.locations.at(("id",))
        campaign, findings = parse_campaign(document.data, document.locations, document.findings)
        if campaign is None:
            return Built(self.name, document.path, document.version, None, findings)
        campaign = replace(campaign, version=document.version, path=document.path)
        claim = Claim("campaign id", campaign.id, line, col,
                      f"campaign id {campaign.id!r} is also used by")  # fmt: skip
        return Built(
            self.name, document.path, document.version, campaign, findings, (claim,), campaign.id
        )

    def install(self, app: web.Application, values: list[Campaign]) -> list[Any]:
        from gateway.appkeys import CAMPAIGNS  # not at import: `jumbe check` needs no app

        index = CampaignIndex.build(values)
        if CAMPAIGNS not in app:
            app[CAMPAIGNS] = Campaigns(index)
        else:
            app[CAMPAIGNS].index = index
        return []

    def release(self, retired: list[Any]) -> None:
        """Campaigns are small: nothing to take apart."""


KIND = CampaignKind()
