"""Airtime amounts: the currency of each country Jumbe knows, and the limits per currency."""

from __future__ import annotations

from gateway.sms.countries import country_of

CURRENCIES = {"KE": "KES", "NG": "NGN", "ZA": "ZAR", "GH": "GHS", "UG": "UGX", "TZ": "TZS",
              "RW": "RWF", "ZM": "ZMW", "MW": "MWK", "ET": "ETB"}  # fmt: skip
"""Country (``sms.countries``) → the currency its airtime is sold in."""
MINIMUM = {"KES": 5.0}
"""Africa's Talking's smallest airtime send per currency (domain R7: KES 5); others: above 0."""
DEFAULT_MAXIMUM = 10_000.0
"""The largest airtime send unless configured (``JUMBE_REWARDS_MAX_AIRTIME``; domain R7)."""


def currency_of(phone_number: str) -> str | None:
    """The currency of the number's country, or ``None`` for a country we do not know."""
    return CURRENCIES.get(country_of(phone_number).code)


def amount_problem(amount: float, currency: str, maximum: float = DEFAULT_MAXIMUM) -> str | None:
    """Why ``amount`` of ``currency`` cannot be sent as airtime, or ``None``."""
    if currency not in CURRENCIES.values():
        return f"unknown currency {currency!r} (known: {', '.join(sorted(CURRENCIES.values()))})"
    smallest = MINIMUM.get(currency, 0.0)
    if amount <= 0 or amount < smallest:
        return f"{currency} {amount:g} is below the smallest airtime send ({currency} {smallest:g})"
    if amount > maximum:
        return f"{currency} {amount:g} is above the largest airtime send ({currency} {maximum:g})"
    return None


def at_amount(amount: float) -> str:
    """How the SDK is given an amount (``50``, ``12.5``)."""
    return f"{amount:g}"
