"""GSM-7 / UCS-2 detection, lengths, SMS segments and the screen budget."""

import random

import pytest

from gateway.text import Budget, Encoding, SmsInfo, encoding_of, is_gsm7, length, sms_info, units
from gateway.text.gsm import GSM_BASIC, GSM_EXTENSION

LENGTHS = [
    ("", "gsm7", 0),
    ("Hello", "gsm7", 5),
    ("{}", "gsm7", 4),
    ("€5", "gsm7", 3),
    ("^~|\\[]\f", "gsm7", 14),
    ("Ksh 1,000 @ 5% £ ¥ è", "gsm7", 20),
    ("ÆæßÉ ΔΦΓΛΩΠΨΣΘΞ", "gsm7", 15),
    ("ẹ", "ucs2", 1),
    ("😀", "ucs2", 2),
    ("Ẹ kú àárọ̀", "ucs2", 10),
    ("ሰላም", "ucs2", 3),
    ("“quoted”", "ucs2", 8),
    ("`", "ucs2", 1),
    ("\x1b", "ucs2", 1),
    ("\t", "ucs2", 1),
    ("€ and ẹ", "ucs2", 7),
    ("Hi 😀{", "ucs2", 6),
]


@pytest.mark.parametrize(("text", "encoding", "expected"), LENGTHS)
def test_length_and_encoding(text: str, encoding: str, expected: int) -> None:
    """A reply is measured the way the handset and SMSC count it."""
    assert encoding_of(text) == encoding
    assert is_gsm7(text) == (encoding == "gsm7")
    assert length(text) == expected
    assert units(text) == (encoding, expected)


def test_whole_gsm_alphabet_is_gsm7() -> None:
    """Every GSM 03.38 character stays GSM-7, extension ones count double."""
    assert len(GSM_BASIC) == 127
    assert is_gsm7(GSM_BASIC + GSM_EXTENSION)
    assert length(GSM_BASIC + GSM_EXTENSION) == 127 + 2 * len(GSM_EXTENSION)


def test_ascii_outside_gsm_forces_ucs2() -> None:
    """ASCII control characters and backtick make the whole text UCS-2."""
    allowed = set(GSM_BASIC + GSM_EXTENSION)
    outside = [chr(i) for i in range(128) if chr(i) not in allowed]
    assert "`" in outside
    assert "\x1b" in outside
    for ch in outside:
        assert encoding_of("Hello " + ch) == "ucs2", repr(ch)


SEGMENTS = [
    ("", "gsm7", 0, 1),
    ("a" * 160, "gsm7", 160, 1),
    ("a" * 161, "gsm7", 161, 2),
    ("a" * 306, "gsm7", 306, 2),
    ("a" * 307, "gsm7", 307, 3),
    ("€" * 80, "gsm7", 160, 1),
    ("a" * 152 + "€", "gsm7", 154, 1),
    ("a" * 152 + "€" + "a" * 7, "gsm7", 161, 2),
    ("a" * 152 + "€" + "a" * 152, "gsm7", 306, 3),
    ("a" * 151 + "€" + "a" * 153, "gsm7", 306, 2),
    ("ẹ" * 70, "ucs2", 70, 1),
    ("ẹ" * 71, "ucs2", 71, 2),
    ("ẹ" * 134, "ucs2", 134, 2),
    ("ẹ" * 135, "ucs2", 135, 3),
    ("😀" * 35, "ucs2", 70, 1),
    ("ẹ" * 66 + "😀" + "ẹ" * 66, "ucs2", 134, 3),
    ("ẹ" * 65 + "😀" + "ẹ" * 67, "ucs2", 134, 2),
]


@pytest.mark.parametrize(("text", "encoding", "units_", "segments"), SEGMENTS)
def test_sms_segments(text: str, encoding: Encoding, units_: int, segments: int) -> None:
    """The sender is billed for the number of SMS parts the network will send."""
    assert sms_info(text) == SmsInfo(encoding, units_, segments)


def test_budget_picks_limit_by_encoding() -> None:
    """A screen with one non-GSM character gets the smaller UCS-2 limit."""
    budget = Budget()
    assert budget.limit_for("a" * 200) == 160
    assert budget.limit_for("ẹ") == 70
    assert budget.fits("a" * 160)
    assert not budget.fits("a" * 161)
    assert not budget.fits("{" * 81)
    assert budget.fits("ẹ" * 70)
    assert not budget.fits("ẹ" * 70 + "a")
    assert Budget(gsm7=150, ucs2=60).fits("a" * 150)
    assert not Budget(gsm7=150, ucs2=60).fits("ẹ" + "a" * 60)


def test_units_of_ascii_texts_match_the_tables() -> None:
    """``units`` takes a shortcut for ASCII texts: the same answer as counting with the GSM
    tables, for every ASCII character alone, inside a text, and for random mixtures."""

    def by_tables(text: str) -> tuple[str, int]:
        if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
            return "gsm7", sum(2 if c in GSM_EXTENSION else 1 for c in text)
        return "ucs2", len(text.encode("utf-16-le")) // 2

    rng = random.Random(11)
    alphabet = [chr(i) for i in range(128)] + list("£€¤Ωé😀ñ")
    texts = [chr(i) for i in range(0x250)] + [f"ab{chr(i)}c" for i in range(0x250)]
    texts += [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(20_000)
    ]
    for text in texts:
        assert units(text) == by_tables(text), repr(text)
