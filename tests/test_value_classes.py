"""The hop's and the balance check's value classes write their ``__init__`` out (so the
compiled build compiles it): each one must still take and set every field, with the declared
defaults, as the one ``dataclass()`` would have made. A field added to the class but not to
``__init__`` (or not here) fails."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

import pytest

from gateway.ads.engine import BalanceCheck, Calendar, Offer, Ranking
from gateway.ads.model import Campaign, Caps, Target
from gateway.ads.server import Decision, Placement
from gateway.channels.base import Reply, UssdRequest
from gateway.hops.result import HopResult
from gateway.menu.engine import Step
from gateway.menu.screens.ad_slot import AdFill

CAMPAIGN = Campaign(id="promo", cls="remnant", start=0.0, end=1.0, tz="UTC",
                    texts={"en": "2x data"}, weight=2.0, target=Target(), caps=Caps())  # fmt: skip
CHECK = BalanceCheck("p_1", "254700000001", "Balance 1", "63902", "prepaid", 12.5, "sw", "UTC")
PLACED = Placement(CAMPAIGN, "imp_1", CHECK, Calendar("20261130", "2026W49", 600), "20261130", 7,
                   "imp_1|1.000|63902")  # fmt: skip

VALUES: dict[type, dict[str, Any]] = {
    Reply: {"text": "shown", "end": True},
    UssdRequest: {
        "provider": "africastalking", "session_id": "s1", "phone_number": "+254700000001",
        "service_code": "*384#", "network_code": "63902", "text": "1*2", "cumulative": False,
        "first": True, "screen_overhead": 4, "hop_id": "3",
    },
    HopResult: {
        "reply": Reply("shown", True), "outcome": "end", "menu_id": "demo", "state_before": "a",
        "state_after": "b", "round_trips": 2, "language": "sw", "language_before": "en",
    },
    Step: {"reply": Reply("shown", False), "effect": AdFill("offer", "Balance 1", (160, 70), "en")},
    BalanceCheck: {
        "pseudonym": "p_1", "digits": "254700000001", "text": "Balance 1", "network": "63902",
        "plan": "prepaid", "balance": 12.5, "language": "sw", "zone": "Africa/Nairobi",
    },
    Offer: {"campaign": CAMPAIGN, "text": "Balance 1 | 2x data"},
    Ranking: {"offers": [Offer(CAMPAIGN, "Balance 1 | 2x data")], "reason": "", "personal": False},
    Placement: {
        "campaign": CAMPAIGN, "impression": "imp_1", "check": CHECK,
        "calendar": Calendar("20261130", "2026W49", 600), "campaign_day": "20261130", "hour": 7,
        "stored": "imp_1|1.000|63902",
    },
    Decision: {"text": "Balance 1 | 2x data", "placement": PLACED, "reason": "no_fit"},
}  # fmt: skip
"""Every field, in declared order, each unlike its default where it has one."""


@pytest.mark.parametrize("cls", list(VALUES))
def test_every_field_is_taken_and_set(cls: type) -> None:
    values = VALUES[cls]
    assert list(values) == [field.name for field in fields(cls)]
    made = cls(**values)
    assert {name: getattr(made, name) for name in values} == values
    assert made == cls(*values.values())  # positionally, in declared order


@pytest.mark.parametrize("cls", list(VALUES))
def test_defaults_are_the_declared_ones(cls: type) -> None:
    values = VALUES[cls]
    required = {f.name: values[f.name] for f in fields(cls) if f.default is MISSING}
    made = cls(**required)
    for field in fields(cls):
        expected = required[field.name] if field.default is MISSING else field.default
        assert getattr(made, field.name) == expected, field.name
