"""Per-screen length budget, chosen by the text's encoding."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.text.gsm import units


@dataclass(frozen=True, slots=True)
class Budget:
    """Maximum screen length: `gsm7` septets, or `ucs2` UTF-16 units if any non-GSM char."""

    gsm7: int = 160
    ucs2: int = 70

    def limit_for(self, text: str) -> int:
        """The limit that applies to `text` given its encoding."""
        encoding, _ = units(text)
        return self.gsm7 if encoding == "gsm7" else self.ucs2

    def fits(self, text: str) -> bool:
        """True if `text` is within the limit for its encoding."""
        encoding, n = units(text)
        return n <= (self.gsm7 if encoding == "gsm7" else self.ucs2)
