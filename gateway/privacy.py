"""Phone numbers are personal data: everything outside the aggregator adapters sees a pseudonym."""

from __future__ import annotations

import hashlib
import hmac
import re

PSEUDONYM_PREFIX = "p_"
_E164ISH = re.compile(r"\+?\d{7,15}")


def pseudonymize(key: bytes, phone_number: str) -> str:
    """Keyed HMAC-SHA256 of the normalized number, shortened to 20 hex digits (80 bits)."""
    digits = phone_number.strip().lstrip("+")
    return PSEUDONYM_PREFIX + hmac.digest(key, digits.encode(), "sha256").hex()[:20]


class Pseudonymizer:
    """``pseudonymize`` with the key schedule done once and recent numbers remembered.

    A session's hops share a number, so most hops hit the small cache.
    """

    def __init__(self, key: bytes, cache_size: int = 4096) -> None:
        self._base = hmac.new(key, digestmod=hashlib.sha256)
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size

    def __call__(self, phone_number: str) -> str:
        found = self._cache.get(phone_number)
        if found is not None:
            return found
        mac = self._base.copy()
        mac.update(phone_number.strip().lstrip("+").encode())
        pseudonym = PSEUDONYM_PREFIX + mac.hexdigest()[:20]
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[phone_number] = pseudonym
        return pseudonym


def redact_numbers(text: str) -> str:
    """Replace anything that looks like a phone number (7-15 digits) with ``<redacted>``."""
    return _E164ISH.sub("<redacted>", text)
