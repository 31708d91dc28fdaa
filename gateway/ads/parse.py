"""Check a ``kind: campaign`` file (every finding at its line) and build its ``Campaign``.

What a brand gets wrong is an error at the line that says it: an unknown class, a flight that
ends before it starts, an unknown time zone, a text that can never fit on any screen (with the
separator, on the largest screen a network may be configured with). A flight that has already
ended is a warning: the file is valid, it just serves nothing.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.ads.model import (
    CLASSES,
    MICRO,
    PLANS,
    STAGES,
    Campaign,
    CampaignClass,
    Caps,
    Target,
)
from gateway.menu.findings import Finding
from gateway.menu.yamlsource import Locations, PathKey
from gateway.text import units

TOP_LEVEL = ("kind", "id", "description", "class", "priority", "weight", "goal", "flight",
             "target", "caps", "budget", "text", "ucs2", "click", "conversion_window",
             "sms")  # fmt: skip
TARGETS = ("networks", "prefixes", "plans", "balance", "lifecycle", "languages", "hours",
           "segments")  # fmt: skip
CAPS = ("per_day", "per_week", "lifetime")
ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
NETWORK = re.compile(r"^\d{5,6}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
SEPARATOR = "\n"
"""Between the balance text and the ad."""
LARGEST_SCREEN = (182, 91)
"""The largest GSM-7 / UCS-2 screen any network may be configured with
(``JUMBE_SCREEN_LIMITS``): an ad longer than this with its separator can never be shown."""
DURATION = re.compile(r"^(\d+)\s*([smhd])$")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_campaign(
    data: dict[str, Any], locations: Locations, findings: list[Finding] | None = None,
    now: float | None = None,
) -> tuple[Campaign | None, list[Finding]]:  # fmt: skip
    """The campaign, or ``None`` when any finding is an error; findings sorted by line."""
    check = _Check(locations, list(findings or []))
    for name in data:
        if name not in TOP_LEVEL:
            check.error((name,), f"unknown field {name!r} (allowed: {', '.join(TOP_LEVEL)})")
    cid = data.get("id")
    if not isinstance(cid, str) or not ID.match(cid):
        check.error(("id",), f"id: expected letters, digits, _ . - (at most 64), found {cid!r}")
    cls = _class(check, data)
    fields = _class_fields(check, data, cls)
    start, end, tz = _flight(check, data.get("flight"), now)
    target = _target(check, data.get("target"))
    caps = _caps(check, data.get("caps"))
    budget, price = _budget(check, data.get("budget"))
    texts = _texts(check, ("text",), data.get("text"), required=True)
    ucs2 = _texts(check, ("ucs2",), data.get("ucs2"), required=False)
    code, keyword = _click(check, data.get("click"))
    window = _duration(check, ("conversion_window",), data.get("conversion_window", "7d"))
    sms, flash = _sms(check, data.get("sms"))
    ordered = sorted(check.findings, key=lambda f: (f.line, f.col))
    if any(f.severity == "error" for f in ordered) or cls is None:
        return None, ordered
    campaign = Campaign(
        id=str(cid), cls=cls, start=start, end=end, tz=tz, texts=texts, ucs2=ucs2,
        priority=fields[0], weight=fields[1], goal=fields[2], budget=budget, price=price,
        target=target, caps=caps, click_code=code, click_keyword=keyword,
        conversion_window=window, sms=sms, flash=flash, path=locations.path,
        sizes={text: size(text) for text in (*texts.values(), *ucs2.values())},
    )  # fmt: skip
    return campaign, ordered


def size(text: str) -> tuple[int | None, int]:
    """(GSM-7 septets or ``None``, UTF-16 units) of the separator and ``text``."""
    encoding, n = units(SEPARATOR + text)
    utf16 = len((SEPARATOR + text).encode("utf-16-le")) // 2
    return (n if encoding == "gsm7" else None), utf16


class _Check:
    def __init__(self, locations: Locations, findings: list[Finding]) -> None:
        self.locations = locations
        self.findings = findings

    def error(self, key: PathKey, message: str) -> None:
        self.findings.append(self.locations.finding(key, message))

    def warning(self, key: PathKey, message: str) -> None:
        self.findings.append(self.locations.finding(key, message, "warning"))

    def mapping(self, key: PathKey, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(key, f"expected a mapping ({', '.join(allowed)})")
            return {}
        for name in value:
            if name not in allowed:
                self.error((*key, name), f"unknown field {name!r} (allowed: {', '.join(allowed)})")
        return value

    def whole(self, key: PathKey, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(key, f"expected a whole number from {low} to {high}, found {value!r}")
            return 0
        return value

    def number(self, key: PathKey, value: Any, positive: bool = True) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or value < 0
            or (positive and value == 0)
        ):
            self.error(key, f"expected a {'positive ' if positive else ''}number, found {value!r}")
            return 0.0
        return float(value)

    def words(self, key: PathKey, value: Any, pattern: re.Pattern[str] | None = None) -> list[str]:
        if isinstance(value, str | int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not value:
            self.error(key, "expected a non-empty list")
            return []
        found = []
        for i, item in enumerate(value):
            text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
            if not isinstance(text, str) or (pattern is not None and not pattern.match(text)):
                self.error((*key, i), f"unexpected value {item!r}")
            else:
                found.append(text)
        return found


def _class(check: _Check, data: dict[str, Any]) -> CampaignClass | None:
    value = data.get("class")
    for cls in CLASSES:
        if value == cls:
            return cls
    check.error(("class",), f"unknown class {value!r} (expected override, contract or remnant)")
    return None


def _class_fields(check: _Check, data: dict[str, Any], cls: str | None) -> tuple[int, float, int]:
    """(priority, weight, goal) as the class needs them."""
    priority = goal = 0
    weight = 0.0
    if cls == "contract":
        priority = check.whole(("priority",), data.get("priority", 5), 1, 10)
        if "goal" in data:
            goal = check.whole(("goal",), data["goal"], 1, 10**12)
    elif "priority" in data:
        priority = check.whole(("priority",), data["priority"], 1, 10)
    if cls == "remnant":
        weight = check.number(("weight",), data.get("weight", 1))
    elif "weight" in data:
        check.error(("weight",), f"weight is for remnant campaigns (this one is {cls})")
    if "goal" in data and cls != "contract":
        check.error(("goal",), f"goal is for contract campaigns (this one is {cls})")
    return priority, float(weight), goal


def _flight(check: _Check, value: Any, now: float | None) -> tuple[float, float, str]:
    flight = check.mapping(("flight",), value, ("start", "end", "tz"))
    if value is None:
        check.error(("flight",), "missing flight: {start: YYYY-MM-DD, end: YYYY-MM-DD, tz: Zone}")
        return 0.0, 0.0, "UTC"
    tz = flight.get("tz", "UTC")
    try:
        zone = ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        check.error(("flight", "tz"), f"unknown time zone {tz!r} (an IANA name: Africa/Nairobi)")
        zone = ZoneInfo("UTC")
    bounds = []
    for name in ("start", "end"):
        raw = flight.get(name)
        moment = _moment(raw, zone)
        if moment is None:
            check.error(("flight", name), f"{name}: expected a date or date-time, found {raw!r}")
        bounds.append(moment or 0.0)
    start, end = bounds
    if start and end and end <= start:
        check.error(("flight", "end"), "the flight ends before it starts (end is exclusive)")
    elif end and end <= (time.time() if now is None else now):
        check.warning(("flight", "end"), "the flight has ended: this campaign serves nothing")
    return start, end, str(tz)


def _moment(raw: Any, zone: ZoneInfo) -> float | None:
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, date):
        moment = datetime.combine(raw, clock())
    elif isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


def _target(check: _Check, value: Any) -> Target:
    given = check.mapping(("target",), value, TARGETS)
    key: PathKey = ("target",)
    networks = (
        check.words((*key, "networks"), given["networks"], NETWORK) if "networks" in given else []
    )
    prefixes = [p.lstrip("+") for p in check.words((*key, "prefixes"), given["prefixes"],
                re.compile(r"^\+?\d{1,15}$"))] if "prefixes" in given else []  # fmt: skip
    plans = _members(check, (*key, "plans"), given, PLANS)
    stages = _members(check, (*key, "lifecycle"), given, STAGES)
    languages = (
        check.words((*key, "languages"), given["languages"], LANGUAGE)
        if "languages" in given
        else []
    )
    segments = check.words((*key, "segments"), given["segments"]) if "segments" in given else []
    return Target(
        frozenset(networks), tuple(prefixes), frozenset(plans),
        _band(check, given.get("balance")), frozenset(stages), frozenset(languages),
        _hours(check, given.get("hours")), frozenset(segments),
    )  # fmt: skip


def _members(
    check: _Check, key: PathKey, given: dict[str, Any], allowed: tuple[str, ...]
) -> list[str]:
    if key[-1] not in given:
        return []
    found = []
    for i, item in enumerate(check.words(key, given[key[-1]])):
        if item in allowed:
            found.append(item)
        else:
            check.error((*key, i), f"unknown {key[-1]} {item!r} (expected {', '.join(allowed)})")
    return found


def _band(check: _Check, value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    band = check.mapping(("target", "balance"), value, ("min", "max"))
    low = check.number(("target", "balance", "min"), band.get("min", 0), positive=False)
    high = check.number(("target", "balance", "max"), band.get("max", 1e18), positive=False)
    if band and high <= low:
        check.error(("target", "balance"), "balance band: max must be above min")
    return (low, high)


def _hours(check: _Check, value: Any) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    windows = []
    key: PathKey = ("target", "hours")
    for i, item in enumerate(check.words(key, value)):
        match = HOURS.match(item.replace(" ", ""))
        if match is None:
            check.error((*key, i), f"{item!r}: expected a local-time window HH:MM-HH:MM")
            continue
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end or end > 1440:
            check.error((*key, i), f"{item!r}: an empty or impossible window")
            continue
        windows.append((start, end))
    return tuple(windows)


def _caps(check: _Check, value: Any) -> Caps:
    caps = check.mapping(("caps",), value, CAPS)
    found = [check.whole(("caps", n), caps[n], 1, 10**6) if n in caps else 0 for n in CAPS]
    return Caps(*found)


def _budget(check: _Check, value: Any) -> tuple[int, int]:
    """(budget, price per impression) in micro-units."""
    if value is None:
        return 0, 0
    given = check.mapping(("budget",), value, ("total", "per_impression"))
    total = check.number(("budget", "total"), given.get("total"))
    price = check.number(("budget", "per_impression"), given.get("per_impression"))
    return round(total * MICRO), round(price * MICRO)


def _texts(
    check: _Check, key: PathKey, value: Any, required: bool, screen: bool = True
) -> dict[str, str]:
    if value is None:
        if required:
            check.error(key, 'missing text: {en: "Dial *544# for 2x data"}')
        return {}
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, dict) or not value:
        check.error(key, "expected {language: text}")
        return {}
    texts = {}
    for lang, text in value.items():
        where = (*key, lang)
        if not isinstance(lang, str) or not LANGUAGE.match(lang):
            check.error(where, f"{lang!r} is not a language code (en, sw, fr…)")
        elif not isinstance(text, str) or not text.strip():
            check.error(where, "expected non-empty text")
        else:
            encoding, n = units(SEPARATOR + text)
            limit = 10**9 if not screen else limit_of(encoding)
            if n >= limit:
                check.error(where, f"this text can never fit: {n} {encoding} units with its "
                            f"separator, and no screen holds more than {limit} with the balance "
                            "text")  # fmt: skip
            texts[lang] = text
    return texts


def limit_of(encoding: str) -> int:
    """The largest screen of an encoding: an ad with its separator must stay below it."""
    return LARGEST_SCREEN[0] if encoding == "gsm7" else LARGEST_SCREEN[1]


def _click(check: _Check, value: Any) -> tuple[str, str]:
    given = check.mapping(("click",), value, ("code", "keyword"))
    code = given.get("code", "")
    keyword = given.get("keyword", "")
    if code and (not isinstance(code, str) or not re.match(r"^\*[0-9*#]+#$", code)):
        check.error(("click", "code"), f"expected a service code such as *544#, found {code!r}")
        code = ""
    if keyword and (not isinstance(keyword, str) or not keyword.strip() or " " in keyword.strip()):
        check.error(("click", "keyword"), f"expected one word, found {keyword!r}")
        keyword = ""
    return str(code), str(keyword).strip().upper()


def _duration(check: _Check, key: PathKey, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = DURATION.match(str(value).strip()) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        check.error(key, f"expected a duration such as 7d, 12h or 3600, found {value!r}")
        return 7 * 86400
    return int(match.group(1)) * UNIT[match.group(2)]


def _sms(check: _Check, value: Any) -> tuple[dict[str, str], bool]:
    if value is None:
        return {}, False
    given = check.mapping(("sms",), value, ("text", "flash"))
    texts = _texts(check, ("sms", "text"), given.get("text"), required=True, screen=False)
    flash = given.get("flash", False)
    if not isinstance(flash, bool):
        check.error(("sms", "flash"), f"expected true or false, found {flash!r}")
        flash = False
    return texts, flash
