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

    A session's hops share a number, so most hops hit the small cache. A number not in it
    (a balance check's, mostly) is hashed from the two padded-key SHA-256 states that HMAC
    starts from (RFC 2104), copied: ~0.7 us, against ~1.6 us for ``hmac.HMAC.copy``.
    """

    def __init__(self, key: bytes, cache_size: int = 4096) -> None:
        block = hashlib.sha256().block_size
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size

    def __call__(self, phone_number: str) -> str:
        found = self._cache.get(phone_number)
        if found is not None:
            return found
        inner = self._inner.copy()
        inner.update(phone_number.strip().lstrip("+").encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        pseudonym = PSEUDONYM_PREFIX + outer.hexdigest()[:20]
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[phone_number] = pseudonym
        return pseudonym


def redact_numbers(text: str) -> str:
    """Replace anything that looks like a phone number (7-15 digits) with ``<redacted>``."""
    return _E164ISH.sub("<redacted>", text)
