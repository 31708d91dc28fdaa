"""What a campaign file becomes: a frozen ``Campaign`` the decision engine reads, never writes.

The file format is in ``docs/ads.md`` (and ``gateway.ads.parse``, which checks it). Times are
kept as epoch seconds (the flight, converted from its time zone once, at load), windows as
minutes of the subscriber's local day, money as integer micro-units so Lua counts it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CampaignClass = Literal["override", "contract", "remnant"]
CLASSES: tuple[CampaignClass, ...] = ("override", "contract", "remnant")
CLASS_RANK: dict[str, int] = {"override": 0, "contract": 1, "remnant": 2}
"""Override beats contract beats remnant (requirement A4)."""

STAGES = ("loyal", "active", "idle", "lapsing", "inactive", "new")
"""Lifecycle stages (``gateway.lifecycle``); ``new``: never seen before this check."""
PLANS = ("prepaid", "postpaid")
MICRO = 1_000_000
"""Money is counted in millionths of the campaign's currency unit (integers in Lua)."""


@dataclass(frozen=True, slots=True)
class Caps:
    """Per subscriber, in the subscriber's local calendar; ``0`` = no cap of that kind."""

    per_day: int = 0
    per_week: int = 0
    lifetime: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    """Who may see the campaign; an empty field does not restrict."""

    networks: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    """Digits after ``+`` the number starts with (``25471``)."""
    plans: frozenset[str] = frozenset()
    balance: tuple[float, float] | None = None
    """``[min, max)``; a check that does not say the balance never matches a band."""
    lifecycle: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    hours: tuple[tuple[int, int], ...] = ()
    """Windows in minutes of the subscriber's local day, ``[start, end)`` (end may be < start:
    past midnight)."""
    segments: frozenset[str] = frozenset()
    """Any of these segments (tags) qualifies."""


@dataclass(frozen=True, slots=True)
class Campaign:
    """One ``kind: campaign`` file, checked."""

    id: str
    cls: CampaignClass
    start: float
    end: float
    """Flight ``[start, end)`` in epoch seconds."""
    tz: str
    texts: dict[str, str]
    """Ad text per language (the first is the default)."""
    ucs2: dict[str, str] = field(default_factory=dict)
    """Variant per language used when the reply is UCS-2 anyway (the balance text needs it)."""
    priority: int = 0
    """Contract priority 1-10 (higher first); overrides may order among themselves with it."""
    weight: float = 0.0
    """Remnant share."""
    goal: int = 0
    """Contract impression goal over the flight (0 = no pacing)."""
    budget: int = 0
    """Hard stop on spend, micro-units; 0 = no budget."""
    price: int = 0
    """Spend per impression, micro-units."""
    target: Target = field(default_factory=Target)
    caps: Caps = field(default_factory=Caps)
    click_code: str = ""
    """Dialling this service code counts as a click."""
    click_keyword: str = ""
    """Replying this SMS keyword counts as a click."""
    conversion_window: int = 7 * 24 * 3600
    """Seconds after an impression during which a conversion counts."""
    sms: dict[str, str] = field(default_factory=dict)
    """Follow-up SMS text per language (empty = none)."""
    flash: bool = False
    """The follow-up is meant as a flash (class 0) SMS where the transport supports it."""
    version: str = ""
    path: str = ""
    sizes: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    """Per text (as given), its size with the separator: (GSM-7 septets or ``None`` when it
    needs UCS-2, UTF-16 units), measured once at load so a decision adds integers."""
    personal: bool = field(init=False, default=False, compare=False)
    """It targets segments or lifecycle stages: judging it reads what is known of the
    subscriber (derived)."""
    multilingual: bool = field(init=False, default=False, compare=False)
    """It targets languages or has texts in several: the subscriber's remembered language
    matters when the check does not give one (derived)."""

    def __post_init__(self) -> None:
        t = self.target
        object.__setattr__(self, "personal", bool(t.segments or t.lifecycle))
        several = len(self.texts) > 1 or len(self.ucs2) > 1
        object.__setattr__(self, "multilingual", bool(t.languages) or several)

    def text_for(self, language: str | None, ucs2: bool) -> str:
        """The ad text for ``language`` (else the default language), the UCS-2 variant when the
        reply is UCS-2 anyway and one exists."""
        if ucs2 and self.ucs2:
            return _pick(self.ucs2, language)
        return _pick(self.texts, language)

    def live(self, now: float) -> bool:
        """Inside its flight: start inclusive, end exclusive."""
        return self.start <= now < self.end


def serving_order(campaign: Campaign) -> tuple[int, int, str]:
    """Override, contract (priority high first), remnant; ids break ties for a stable order."""
    return (CLASS_RANK[campaign.cls], -campaign.priority, campaign.id)


def _pick(texts: dict[str, str], language: str | None) -> str:
    if language is not None and language in texts:
        return texts[language]
    return next(iter(texts.values()))
