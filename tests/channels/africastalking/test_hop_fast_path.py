"""``parse_hop``'s fast path for AT's usual body gives what the general path gives, result or
``BadRequest`` reason, for every body; and the general form decoder agrees with urllib.

Bodies are built from pieces chosen to break a shortcut: escapes that would split or join
fields once decoded (``%26``, ``%3D``, ``%25``), ``+`` as a space beside ``%2B``, escapes in
lower case or cut short, missing, repeated, reordered, empty and unnamed fields, values at and
past each length limit, whitespace ``str.strip`` removes (NEL, NBSP), digits that are not ASCII,
and bytes that are not UTF-8, raw or escaped."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.channels.africastalking import ussd
from gateway.channels.africastalking.forms import parse_form
from gateway.channels.base import UssdRequest
from gateway.errors import BadRequest

T = TypeVar("T")
NAMES = ("sessionId", "serviceCode", "phoneNumber", "networkCode", "text")
ODD_NAMES = ("session%49d", "text%3D", "tex+t", "", "foo", "%73erviceCode", "text ", "Text")
COMMON = ("%2A", "%23", "%2B", "+", "*", "#", "1", "9", "a", "Z", "_", "-")
TOKENS = (
    *COMMON, "%2a", "%2b", "%20", "%26", "%3D", "%3d", "%25", "%", "%2", "%zz", "%%2A", "%252A",
    "=", " ", "\t", "\n", "%0A", "%C2%85", "\u0085", "\u00a0", "%C2%A0", "\u0663", "%D9%A3", "é",
    "%E2%82%AC", "%FF", "%C3", "\udcff", "ATUid_", "00", "254712345678", "63902", "good",
)  # fmt: skip
"""Value pieces; ``\\udcff`` stands for a raw byte 0xFF (encoded with ``surrogateescape``)."""
PHONE_PARTS = (("", "+", "%2B", "%2b", "%20", " ", "00", "%2B%2B", "+%2B", "\u0663"),
               (0, 1, 5, 6, 7, 14, 15, 16), ("", " ", "+", "%2A", "\u0663", "\t"))  # fmt: skip
"""A phone number: a prefix, so many digits, a suffix."""
LONG = ("1", "%2A", "+", "é", " ", "%26")
LIMITS = (0, 1, 5, 6, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 3999, 4000, 4001)

USUAL = {
    "sessionId": "ATUid_0123456789abcdef0123456789abcdef",
    "serviceCode": "%2A384%2A123%23",
    "phoneNumber": "%2B254712345678",
    "networkCode": "63902",
    "text": "2%2A4%2Agood",
}


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _outcome(parse: Callable[[bytes], T], body: bytes) -> T | str:
    try:
        return parse(body)
    except BadRequest as exc:
        return f"BadRequest: {exc}"


def _check(body: bytes) -> None:
    assert _outcome(ussd.parse_hop, body) == _outcome(ussd.parse_hop_general, body), body


phones = st.builds(
    lambda prefix, digits, suffix: prefix + "7" * digits + suffix,
    *(st.sampled_from(part) for part in PHONE_PARTS),
)
tokens = st.lists(st.sampled_from(TOKENS), max_size=12).map("".join)
long_values = st.builds(
    lambda piece, n, tail: piece * n + tail,
    st.sampled_from(LONG),
    st.sampled_from(LIMITS),
    st.sampled_from(("", "1", "%2A", " ")),
)
common_tokens = st.lists(st.sampled_from(COMMON), max_size=20).map("".join)
values = st.one_of(
    st.sampled_from(tuple(USUAL.values())), phones, common_tokens, tokens, long_values
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Mostly AT's five fields in its order, each usual or odd; sometimes missing, repeated,
    moved, renamed, joined by extra ``&`` or left without ``=``."""
    pairs = [
        f"{name}={USUAL[name] if draw(st.booleans()) else draw(values)}"
        for name in NAMES
        if draw(st.integers(0, 19))  # one in twenty missing
    ]
    for _ in range(draw(st.sampled_from((0, 0, 0, 1, 2)))):
        pair = draw(st.one_of(st.sampled_from(NAMES), st.sampled_from(ODD_NAMES)))
        if draw(st.booleans()):
            pair += "=" + draw(values)
        pairs.insert(draw(st.integers(0, len(pairs))), pair)
    if pairs and draw(st.integers(0, 4)) == 0:
        pairs = draw(st.permutations(pairs))
    return _encode(draw(st.sampled_from(("&", "&&"))).join(pairs) if pairs else "")


@settings(max_examples=500, deadline=None)
@given(body=bodies())
def test_fast_path_gives_what_the_general_path_gives(body: bytes) -> None:
    """Any body: the same hop, or the same BadRequest reason naming the field."""
    _check(body)


def _random_body(rng: random.Random) -> bytes:
    """``bodies()`` without hypothesis: many more cases per second, no shrinking."""

    def value(name: str) -> str:
        kind = rng.randrange(20)
        if kind < 15:
            return USUAL[name]
        if kind < 18 and name == "phoneNumber":
            prefix, digits, suffix = PHONE_PARTS
            return rng.choice(prefix) + "7" * rng.choice(digits) + rng.choice(suffix)
        if kind < 18:
            return "".join(rng.choices(COMMON, k=rng.randrange(20)))
        if kind < 19:
            return "".join(rng.choices(TOKENS, k=rng.randrange(13)))
        return rng.choice(LONG) * rng.choice(LIMITS) + rng.choice(("", "1", "%2A", " "))

    pairs = [f"{name}={value(name)}" for name in NAMES if rng.randrange(20)]
    for _ in range(rng.choice((0, 0, 0, 1, 2))):
        pair = rng.choice(NAMES + ODD_NAMES)
        pair += "=" + value(rng.choice(NAMES)) if rng.randrange(2) else ""
        pairs.insert(rng.randrange(len(pairs) + 1), pair)
    if rng.randrange(5) == 0:
        rng.shuffle(pairs)
    return _encode(("&" if rng.randrange(10) else "&&").join(pairs))


@pytest.fixture
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[bytes] | None:
    """The bodies ``parse_hop`` hands to the general path from now on; ``None`` in the compiled
    build, where ``parse_hop`` calls the general path directly (unobservable: the tests then
    compare outcomes only)."""
    if ussd.__file__ is not None and ussd.__file__.endswith(".so"):
        return None
    general = ussd.parse_hop_general
    handed: list[bytes] = []

    def counting(body: bytes) -> UssdRequest:
        handed.append(body)
        return general(body)

    monkeypatch.setattr(ussd, "parse_hop_general", counting)
    return handed


def test_fast_path_on_a_seeded_corpus(fallbacks: list[bytes] | None) -> None:
    """20,000 bodies built like ``bodies()``: the same outcome from both paths, and a good share
    of them answered by the fast path itself (else the comparison proves little)."""
    rng = random.Random(1414)
    fast = 0
    for _ in range(20_000):
        body = _random_body(rng)
        before = len(fallbacks) if fallbacks is not None else 0
        parsed = _outcome(ussd.parse_hop, body)
        fast += fallbacks is not None and len(fallbacks) == before
        assert parsed == _outcome(ussd.parse_hop_general, body), body
    assert fallbacks is None or fast > 2_000


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300))
def test_fast_path_on_arbitrary_bytes(body: bytes) -> None:
    """Bytes that are not a form at all: the same outcome as the general path."""
    _check(body)


def test_fast_path_takes_the_usual_bodies(fallbacks: list[bytes] | None) -> None:
    """AT's usual hops (escaped or not, ``+`` or ``%2B``, empty text or network) are all
    answered by the fast path, the same as by the general path."""
    rng = random.Random(14)
    for _ in range(2000):
        text = "%2A".join(rng.choice(("1", "2", "0722000000", "good+day", "")) for _ in range(4))
        body = _encode(
            f"sessionId=ATUid_{rng.getrandbits(128):032x}"
            f"&serviceCode={rng.choice(('%2A384%2A123%23', '*384#', '%2A384%2A1%2A2%23'))}"
            f"&phoneNumber={rng.choice(('%2B', '+', ''))}2547{rng.randrange(10**8):08d}"
            f"&networkCode={rng.choice(('63902', '63903', '99999', ''))}&text={text}"
        )
        assert ussd.parse_hop(body) == ussd.parse_hop_general(body)
    assert fallbacks is None or len(fallbacks) == 2000  # only the comparisons' own calls


def _hop(**fields: str | None) -> bytes:
    """A short hop body with ``fields`` in place of the usual ones (``None`` leaves one out)."""
    usual = {"sessionId": "AT1", "serviceCode": "*1%23", "phoneNumber": "%2B254712345678",
             "networkCode": "1", "text": "1"}  # fmt: skip
    pairs = (f"{name}={value}" for name, value in {**usual, **fields}.items() if value is not None)
    return _encode("&".join(pairs))


@pytest.mark.parametrize(
    ("body", "fast"),
    [
        (_hop(serviceCode="%2A384%23", text=""), True),
        (_hop(serviceCode="%2a384%23", phoneNumber="254712345678", text="1+2%2b"), True),
        (_hop(text="1%26b=2"), False),  # %26 would join two fields if decoded before splitting
        (_hop(text="%E2%82%AC"), False),
        (_hop(text="\udcff"), False),
        (_hop(sessionId="+"), False),
        (_hop(sessionId="%C2%85"), False),
        (_hop(sessionId="\u0085"), False),
        (_hop(sessionId="\u0085AT1\u00a0"), True),
        (_hop(phoneNumber="%2B\u0663254712345678"), False),
        (_hop(serviceCode="%2A" * 64), True),
        (_hop(serviceCode="%2A" * 65), False),
        (_hop(text="%2A" * 4000), True),
        (_hop(text="1" * 4001), False),
        (_hop() + b"&text=1", False),
        (_hop(phoneNumber=None), False),
        (_hop(networkCode=None), False),
    ],
)
def test_fast_path_examples(body: bytes, fast: bool, fallbacks: list[bytes] | None) -> None:
    """Bodies at the fast path's edges, each compared (``fast``: answered without the general
    path)."""
    _check(body)
    assert fallbacks is None or fallbacks == ([body, body] if not fast else [body])


@settings(max_examples=500, deadline=None)
@given(body=bodies())
def test_form_decoding_matches_urllib(body: bytes) -> None:
    """``parse_form`` decodes as urllib does with strict UTF-8, except that it keeps an empty
    pair (``a=1&&b=2``) as an empty name with an empty value, where urllib drops it."""
    pairs = ["=" if pair == "" else pair for pair in body.decode("latin-1").split("&")]
    try:
        text = "&".join(pairs).encode("latin-1").decode()
        expected: dict[str, str] | str = dict(
            parse_qsl(text, keep_blank_values=True, errors="strict")
        )
    except UnicodeDecodeError:
        expected = "BadRequest: body is not UTF-8"
    assert _outcome(parse_form, body) == expected
