"""Campaigns indexed at load, so a decision looks only at campaigns that can apply.

Built once per reload (off the event loop, with the files) and swapped in whole: a decision
reads the network's list (campaigns that name the network, merged with those that target any
network, already in serving order: class, then priority), never the whole folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.ads.engine import Pool
from gateway.ads.model import Campaign, serving_order


@dataclass(slots=True)
class CampaignIndex:
    """Every campaign being served, by id, by network, and by what counts as its click."""

    by_id: dict[str, Campaign] = field(default_factory=dict)
    by_network: dict[str, Pool] = field(default_factory=dict)
    any_network: Pool = field(default_factory=Pool)
    by_code: dict[str, tuple[Campaign, ...]] = field(default_factory=dict)
    by_keyword: dict[str, tuple[Campaign, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, campaigns: Iterable[Campaign]) -> CampaignIndex:
        ordered = sorted(campaigns, key=serving_order)
        index = cls(by_id={c.id: c for c in ordered})
        index.any_network = Pool.of(c for c in ordered if not c.target.networks)
        networks = {n for c in ordered for n in c.target.networks}
        index.by_network = {
            n: Pool.of(c for c in ordered if not c.target.networks or n in c.target.networks)
            for n in networks
        }
        for campaign in ordered:
            if campaign.click_code:
                index.by_code[campaign.click_code] = (
                    *index.by_code.get(campaign.click_code, ()),
                    campaign,
                )
            if campaign.click_keyword:
                index.by_keyword[campaign.click_keyword] = (
                    *index.by_keyword.get(campaign.click_keyword, ()),
                    campaign,
                )
        return index

    def for_network(self, network: str) -> Pool:
        """Campaigns that may run on ``network``, laid out for a decision."""
        return self.by_network.get(network, self.any_network)

    def __len__(self) -> int:
        return len(self.by_id)


class Campaigns:
    """What the app holds (``app[CAMPAIGNS]``): the index being served, swapped on reload."""

    __slots__ = ("index",)

    def __init__(self, index: CampaignIndex | None = None) -> None:
        self.index = index or CampaignIndex()
