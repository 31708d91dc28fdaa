"""Screen kinds: one module each, listed in ``KINDS``. Adding a kind is adding a module that
implements ``ScreenKind`` (``screens.base``) and one line here."""

from __future__ import annotations

from typing import Any

from gateway.menu.model import Screen
from gateway.menu.screens.ad_slot import AdSlotKind
from gateway.menu.screens.base import ScreenKind
from gateway.menu.screens.end import EndKind
from gateway.menu.screens.input import InputKind
from gateway.menu.screens.language import LanguageKind
from gateway.menu.screens.menu import MenuKind
from gateway.menu.screens.rewards import BalanceKind, CatalogKind, RedeemKind
from gateway.menu.screens.router import RouterKind
from gateway.menu.screens.set import SetKind
from gateway.menu.screens.survey import SurveyKind
from gateway.menu.screens.webhook import WebhookKind

KINDS: dict[str, ScreenKind[Any]] = {
    kind.name: kind
    for kind in (
        MenuKind(),
        InputKind(),
        EndKind(),
        RouterKind(),
        SetKind(),
        LanguageKind(),
        WebhookKind(),
        BalanceKind(),
        CatalogKind(),
        RedeemKind(),
        AdSlotKind(),
        SurveyKind(),
    )
}


def kind_of(screen: Screen) -> ScreenKind[Any]:
    """The kind that knows how ``screen`` behaves."""
    return KINDS[screen.kind]
