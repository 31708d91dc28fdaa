"""GSM 03.38 detection, lengths and SMS segment counts.

A text is GSM-7 when every character is in the basic or extension table;
otherwise the whole text is sent as UCS-2. Lengths are in septets for GSM-7
(extension characters count 2) and in UTF-16 code units for UCS-2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["gsm7", "ucs2"]

#: Basic table (one septet each), without ESC: ESC is not allowed in user text.
GSM_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Extension table (ESC + code, two septets each).
GSM_EXTENSION: Final = "^{}\\[~]|€\f"

_NON_GSM: Final = re.compile(f"[^{re.escape(GSM_BASIC + GSM_EXTENSION)}]")
_EXTENSION: Final = re.compile(f"[{re.escape(GSM_EXTENSION)}]")
_EXTENSION_SET: Final = frozenset(GSM_EXTENSION)
_ASCII_SPECIAL: Final = re.compile(
    "["
    + re.escape("".join(c for c in map(chr, range(128)) if _NON_GSM.match(c)) + GSM_EXTENSION)
    + "]"
)
"""ASCII characters that are not one GSM septet each (outside GSM 03.38, or in the extension
table), and the extension table's other characters: a text of ASCII without any of them is
GSM-7 of one septet per character (one small search instead of GSM's whole table)."""

SMS_SINGLE: Final[dict[Encoding, int]] = {"gsm7": 160, "ucs2": 70}
SMS_PART: Final[dict[Encoding, int]] = {"gsm7": 153, "ucs2": 67}


@dataclass(frozen=True, slots=True)
class SmsInfo:
    """How a text goes out as SMS: encoding, length in units, and segment count."""

    encoding: Encoding
    units: int
    segments: int


def non_gsm_characters(text: str) -> list[str]:
    """The characters of ``text`` outside GSM 03.38 (basic and extension tables), in order."""
    return _NON_GSM.findall(text)


def is_gsm7(text: str) -> bool:
    """True if every character is in the GSM 03.38 basic or extension table."""
    return _NON_GSM.search(text) is None


def encoding_of(text: str) -> Encoding:
    """The encoding the whole text needs: "gsm7" or "ucs2"."""
    return "gsm7" if is_gsm7(text) else "ucs2"


def _utf16_units(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def units(text: str) -> tuple[Encoding, int]:
    """The encoding and the length in that encoding's units."""
    if text.isascii() and _ASCII_SPECIAL.search(text) is None:  # most texts: one septet each
        return "gsm7", len(text)
    if is_gsm7(text):
        return "gsm7", len(text) + len(_EXTENSION.findall(text))
    return "ucs2", _utf16_units(text)


def length(text: str) -> int:
    """Septets if GSM-7 (extension characters count 2), else UTF-16 code units."""
    return units(text)[1]


def _count_parts(costs: Iterable[int], per_part: int) -> int:
    """Parts needed when filling greedily without splitting a character."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def _char_costs(text: str, encoding: Encoding) -> Iterable[int]:
    if encoding == "gsm7":
        return (2 if ch in _EXTENSION_SET else 1 for ch in text)
    return (2 if ord(ch) > 0xFFFF else 1 for ch in text)


def sms_info(text: str) -> SmsInfo:
    """Encoding, units and segment count of `text` sent as one SMS (concatenated if long)."""
    encoding, n = units(text)
    if n <= SMS_SINGLE[encoding]:
        return SmsInfo(encoding, n, 1)
    per_part = SMS_PART[encoding]
    if n == len(text):  # every character costs one unit: plain division
        segments = -(-n // per_part)
    else:
        segments = _count_parts(_char_costs(text, encoding), per_part)
    return SmsInfo(encoding, n, segments)
