"""Inbound SMS keyword routing: the built-in STOP/START/HELP families plus brand keywords (YAML).

Matching ignores case, repeated spaces and trailing punctuation. The whole text must match a
keyword, except that a text whose first word is a stop word (``STOP pls``) is a STOP.

Replies come in the language of the word that matched: ``SITISHA`` (a Swahili stop word) is
confirmed in Swahili. Language-neutral words (the built-ins, a brand's plain ``words`` list) get
the default language, the first of ``languages`` (``en`` when not given).

The file (default ``sms/keywords.yaml``)::

    languages: [en, sw]                      # optional; the first is the default
    stop_words: {sw: [SITISHA, ACHA]}        # extra stop words per language
    start_words: {sw: [ANZA]}                # … start and help words likewise
    help_words: {sw: [SAIDIA]}
    replies:                                 # override the built-in confirmations
      stop: {en: "...", sw: "..."}           # per language (others keep the built-in text)
      help: "..."                            # or one text for every language
    keywords:
      - words: {en: [OFFERS], sw: [OFA]}     # or a plain list: [OFFERS, PROMO]
        reply: {en: "This week: ...", sw: "Wiki hii: ..."}   # or one text
      - words: [SURVEY]
        flow: nps                              # handed to the engines on the flows stream
      - words: [VIP]
        tag: vip                               # added to the subscriber's tags
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.errors import ConfigError
from gateway.menu.yamlsource import safe_load

STOP_WORDS = ("STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "END", "CANCEL", "QUIT", "OPT OUT",
              "OPTOUT", "OPT-OUT")  # fmt: skip
START_WORDS = ("START", "SUBSCRIBE", "UNSTOP", "OPT IN", "OPTIN")
HELP_WORDS = ("HELP", "INFO")
NEUTRAL = ""
"""The language of a word that does not name one: its reply is in the default language."""
DEFAULT_LANGUAGE = "en"
# Hausa and Yoruba without diacritics: plain GSM-7 (cheaper, shown by every handset), the
# way subscribers usually write them by SMS.
DEFAULT_REPLIES: dict[str, dict[str, str]] = {
    "stop": {
        "en": "You will no longer get marketing messages from us. Reply START to subscribe again.",
        "sw": "Hutapokea tena ujumbe wa matangazo kutoka kwetu. Jibu START kujiunga tena.",
        "fr": "Vous ne recevrez plus nos messages promotionnels. Répondez START pour vous "
        "réabonner.",
        "ha": "Ba za ku sake samun sakonnin talla daga gare mu ba. Aiko START don sake shiga.",
        "yo": "E ko ni gba ipolowo lati odo wa mo. E fi START ranse lati tun darapo.",
    },
    "start": {
        "en": "You are subscribed to our messages again. Reply STOP to opt out.",
        "sw": "Umejiunga tena na ujumbe wetu. Jibu STOP kujiondoa.",
        "fr": "Vous recevrez de nouveau nos messages. Répondez STOP pour vous désabonner.",
        "ha": "Kun sake shiga cikin masu samun sakonninmu. Aiko STOP don fita.",
        "yo": "E ti tun darapo mo awon to n gba ifiranse wa. E fi STOP ranse lati jade.",
    },
    "help": {
        "en": "Reply STOP to stop marketing messages, START to get them again.",
        "sw": "Jibu STOP kusitisha ujumbe wa matangazo, START kuupokea tena.",
        "fr": "Répondez STOP pour ne plus recevoir nos promotions, START pour les recevoir à "
        "nouveau.",
        "ha": "Aiko STOP don dakatar da sakonnin talla, START don sake samun su.",
        "yo": "E fi STOP ranse lati da ipolowo duro, START lati tun maa gba won.",
    },
}
_TRAILING = re.compile(r"[.!?,;:]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_TOP_LEVEL = {"kind", "languages", "stop_words", "start_words", "help_words", "replies", "keywords"}

Texts = Mapping[str, str]
"""Text per language; the ``NEUTRAL`` key holds one text for every language."""


@dataclass(frozen=True, slots=True)
class Route:
    """What an inbound text asks for: ``stop``, ``start``, ``help``, ``keyword`` or ``none``.

    ``reply`` is already in ``language``, the matched word's (``""``: neutral, so the default).
    """

    kind: str
    keyword: str = ""
    reply: str = ""
    flow: str = ""
    tag: str = ""
    language: str = NEUTRAL


@dataclass(frozen=True, slots=True)
class KeywordRouter:
    """Built-in families plus brand routes, by normalized keyword."""

    routes: dict[str, Route] = field(default_factory=dict)
    stop_words: frozenset[str] = frozenset(STOP_WORDS)

    def route(self, text: str) -> Route:
        words = normalize(text)
        found = self.routes.get(words)
        if found is not None:
            return found
        first = words.split(" ", 1)[0]
        if first in self.stop_words and first in self.routes:
            return self.routes[first]
        return Route("none")


def normalize(text: str) -> str:
    """Upper-case, single spaces, no trailing punctuation."""
    return _TRAILING.sub("", " ".join(text.upper().split()))


def pick(texts: Texts, language: str, default: str) -> str:
    """The text for ``language``: its own, else the one for all, the default's, English's."""
    for key in (language, NEUTRAL, default, DEFAULT_LANGUAGE):
        if key in texts:
            return texts[key]
    return next(iter(texts.values()), "")


class _Spec:
    """A parsed keyword file being checked: knows the file's languages and names bad entries."""

    def __init__(self, spec: dict[str, Any], source: str) -> None:
        self.spec = spec
        self.source = source
        unknown = sorted(set(spec) - _TOP_LEVEL)
        if unknown:
            raise self.error("", f"unknown key(s) {', '.join(map(str, unknown))}; expected "
                             f"{', '.join(sorted(_TOP_LEVEL))}")  # fmt: skip
        declared = spec.get("languages")
        if declared is not None and (
            not isinstance(declared, list) or not declared or not all(map(_is_language, declared))
        ):
            raise self.error("languages", "expected a non-empty list of language codes (en, sw…)")
        self.languages: list[str] | None = declared
        self.default: str = declared[0] if declared else DEFAULT_LANGUAGE

    def error(self, where: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {where}: {problem}" if where else
                           f"{self.source}: {problem}")  # fmt: skip

    def language(self, value: Any, where: str) -> str:
        if not _is_language(value):
            raise self.error(where, f"{value!r} is not a language code (en, sw, fr…)")
        if self.languages is not None and value not in self.languages:
            raise self.error(where, f"{value} is not in languages {self.languages}")
        return str(value)

    def words(self, value: Any, where: str) -> dict[str, str]:
        """``[W, …]`` (neutral) or ``{lang: [W, …]}`` → {normalized word: language}."""
        per_language = isinstance(value, dict) and value
        groups = value.items() if per_language else [(NEUTRAL, value)]
        found: dict[str, str] = {}
        for lang, words in groups:
            at = f"{where}.{lang}" if per_language else where
            language = self.language(lang, at) if per_language else NEUTRAL
            if (
                not isinstance(words, list)
                or not words
                or not all(isinstance(w, str) for w in words)
            ):
                raise self.error(at, "expected a non-empty list of words (or {language: [words]})")
            for word in map(normalize, words):
                if word in found:
                    raise self.error(at, f"{word} is listed twice")
                found[word] = language
        return found

    def texts(self, value: Any, where: str) -> dict[str, str]:
        """``"text"`` (every language) or ``{lang: "text"}``."""
        if isinstance(value, str):
            return {NEUTRAL: value}
        if not isinstance(value, dict) or not value:
            raise self.error(where, "expected text, or {language: text}")
        for lang, text in value.items():
            self.language(lang, f"{where}.{lang}")
            if not isinstance(text, str):
                raise self.error(f"{where}.{lang}", "expected text")
        return {str(lang): text for lang, text in value.items()}


def _is_language(value: Any) -> bool:
    return isinstance(value, str) and bool(_LANGUAGE.match(value))


def build_router(spec: dict[str, Any], source: str = "keywords") -> KeywordRouter:
    """Build a router from a parsed keyword file; ``ConfigError`` points at the bad entry."""
    checked = _Spec(spec, source)
    replies = _replies(checked)
    families: dict[str, dict[str, str]] = {
        "stop": dict.fromkeys(STOP_WORDS, NEUTRAL),
        "start": dict.fromkeys(START_WORDS, NEUTRAL),
        "help": dict.fromkeys(HELP_WORDS, NEUTRAL),
    }
    for kind, family in families.items():
        _add_words(checked, kind, family, families)
    routes = _brand_routes(checked, {w for family in families.values() for w in family})
    for kind, family in families.items():
        for word, language in family.items():
            reply = pick(replies[kind], language, checked.default)
            routes[word] = Route(kind, word, reply, language=language)
    return KeywordRouter(routes, frozenset(families["stop"]))


def _add_words(
    checked: _Spec, kind: str, family: dict[str, str], every: dict[str, dict[str, str]]
) -> None:
    """``<kind>_words: {lang: [words]}`` from the file, into ``family`` (word → language)."""
    name = f"{kind}_words"
    given = checked.spec.get(name) or {}
    if not isinstance(given, dict):
        raise checked.error(name, "expected {language: [words]}")
    for lang, words in given.items():
        for word, language in checked.words({lang: words}, name).items():
            for other, members in every.items():
                if word in members:
                    taken = "built in" if members[word] == NEUTRAL else "listed already"
                    raise checked.error(f"{name}.{lang}", f"{word} is {taken} ({other})")
            family[word] = language


def _replies(checked: _Spec) -> dict[str, Texts]:
    """Built-in confirmations, overridden per language (a dict) or for all (a text)."""
    replies: dict[str, Texts] = dict(DEFAULT_REPLIES)
    given = checked.spec.get("replies") or {}
    if not isinstance(given, dict):
        raise checked.error("replies", "expected {stop|start|help: text or {language: text}}")
    for kind, value in given.items():
        if kind not in DEFAULT_REPLIES:
            raise checked.error(f"replies.{kind}", "expected stop, start or help")
        texts = checked.texts(value, f"replies.{kind}")
        replies[kind] = texts if NEUTRAL in texts else {**DEFAULT_REPLIES[kind], **texts}
    return replies


def _brand_routes(checked: _Spec, builtin: set[str]) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for i, entry in enumerate(checked.spec.get("keywords") or []):
        where = f"keywords[{i}]"
        if not isinstance(entry, dict):
            raise checked.error(where, "expected a mapping")
        unknown = set(entry) - {"words", "reply", "flow", "tag"}
        if unknown:
            raise checked.error(where, f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        words = checked.words(entry.get("words"), f"{where}.words")
        reply = checked.texts(entry["reply"], f"{where}.reply") if "reply" in entry else {}
        flow, tag = (_text(checked, entry.get(k, ""), f"{where}.{k}") for k in ("flow", "tag"))
        if not (reply or flow or tag):
            raise checked.error(where, "needs a reply, a flow or a tag")
        keyword = next(iter(words))
        for word, language in words.items():
            if word in builtin:
                raise checked.error(where, f"{word} is a built-in keyword")
            if word in routes:
                raise checked.error(where, f"{word} is already a keyword of another entry")
            text = pick(reply, language, checked.default) if reply else ""
            routes[word] = Route("keyword", keyword, text, flow, tag, language)
    return routes


def _text(checked: _Spec, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise checked.error(where, "expected text")
    return value


def load_router(path: Path) -> KeywordRouter:
    """The router from ``path``; only the built-ins when the file does not exist."""
    if not path.exists():
        return build_router({})
    try:
        spec = safe_load(path.read_text(), str(path)) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise ConfigError(f"{path}: expected a mapping at the top")
    return build_router(spec, str(path))
