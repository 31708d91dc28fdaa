"""Data-subject rights: everything Jumbe holds about one subscriber, exported or erased.

Each engine that keeps something about a subscriber has one ``Holder`` here (a module each,
listed in ``HOLDERS``) naming the key families of ``gateway.store.keys`` it answers for;
``families.NOT_PERSONAL`` names the rest, each with the reason. A test walks every key family
in ``keys.py`` against the two, so a new family cannot be forgotten.
"""

from __future__ import annotations

from gateway.subjects.ads import AdsHolder
from gateway.subjects.base import Holder
from gateway.subjects.consent import ConsentHolder
from gateway.subjects.feed import FeedHolder
from gateway.subjects.incentives import IncentivesHolder
from gateway.subjects.memory import MemoryHolder
from gateway.subjects.rewards import RewardsHolder
from gateway.subjects.sms import SmsHolder
from gateway.subjects.surveys import SurveysHolder
from gateway.subjects.ussd import UssdEndsHolder

HOLDERS: list[Holder] = [
    MemoryHolder(),
    ConsentHolder(),
    SmsHolder(),
    UssdEndsHolder(),
    IncentivesHolder(),
    RewardsHolder(),
    AdsHolder(),
    SurveysHolder(),
    FeedHolder(),
]
"""Every engine's holder, in the order an export lists them (and an erasure runs them)."""
