"""Country of a phone number (E.164 prefix), its time zone and its opt-out footer (domain C4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    prefix: str
    zone: str
    footer: str


_STOP = "Reply STOP to opt out"
COUNTRIES = {c.prefix: c for c in (
    Country("NG", "234", "Africa/Lagos", _STOP),
    Country("KE", "254", "Africa/Nairobi", "STOP*456*9*5#"),
    Country("ZA", "27", "Africa/Johannesburg", _STOP),
    Country("GH", "233", "Africa/Accra", _STOP),
    Country("UG", "256", "Africa/Kampala", _STOP),
    Country("TZ", "255", "Africa/Dar_es_Salaam", _STOP),
    Country("RW", "250", "Africa/Kigali", _STOP),
    Country("ZM", "260", "Africa/Lusaka", _STOP),
    Country("MW", "265", "Africa/Blantyre", _STOP),
    Country("ET", "251", "Africa/Addis_Ababa", _STOP),
)}  # fmt: skip
UNKNOWN = Country("XX", "", "UTC", _STOP)


def country_of(phone_number: str) -> Country:
    """The country whose calling code starts ``phone_number`` (``UNKNOWN`` if none listed)."""
    digits = phone_number.lstrip("+")
    for length in (3, 2, 1):
        found = COUNTRIES.get(digits[:length])
        if found is not None:
            return found
    return UNKNOWN


def with_footer(text: str, country: Country) -> str:
    """``text`` with the country's opt-out line appended (once)."""
    if country.footer in text:
        return text
    return f"{text}\n{country.footer}"
