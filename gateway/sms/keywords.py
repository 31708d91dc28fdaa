"""Inbound SMS keyword routing: the built-in STOP/START/HELP families plus brand keywords (YAML).

Matching ignores case, repeated spaces and trailing punctuation. The whole text must match a
keyword, except that a text whose first word is a stop word (``STOP pls``) is a STOP.

The file (default ``sms/keywords.yaml``)::

    stop_words: {sw: [SITISHA, ACHA]}        # extra stop words per language
    replies: {stop: "...", start: "...", help: "..."}
    keywords:
      - words: [PROMO, OFFERS]
        reply: "This week: ..."
      - words: [SURVEY]
        flow: nps                              # handed to the engines on the flows stream
      - words: [VIP]
        tag: vip                               # added to the subscriber's tags
"""

from __future__ import annotations

import re
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
DEFAULT_REPLIES = {
    "stop": "You will no longer get marketing messages from us. Reply START to subscribe again.",
    "start": "You are subscribed to our messages again. Reply STOP to opt out.",
    "help": "Reply STOP to stop marketing messages, START to get them again.",
}
_TRAILING = re.compile(r"[.!?,;:]+$")


@dataclass(frozen=True, slots=True)
class Route:
    """What an inbound text asks for: ``stop``, ``start``, ``help``, ``keyword`` or ``none``."""

    kind: str
    keyword: str = ""
    reply: str = ""
    flow: str = ""
    tag: str = ""


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


def _words(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(w, str) for w in value):
        raise ConfigError(f"{where}: expected a non-empty list of words")
    return [normalize(w) for w in value]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected text")
    return value


def build_router(spec: dict[str, Any], source: str = "keywords") -> KeywordRouter:
    """Build a router from a parsed keyword file; ``ConfigError`` points at the bad entry."""
    replies = dict(DEFAULT_REPLIES)
    for kind, text in (spec.get("replies") or {}).items():
        if kind not in DEFAULT_REPLIES:
            raise ConfigError(f"{source}: replies.{kind}: expected stop, start or help")
        replies[kind] = _text(text, f"{source}: replies.{kind}")
    stop_words = set(STOP_WORDS)
    for lang, words in (spec.get("stop_words") or {}).items():
        stop_words.update(_words(words, f"{source}: stop_words.{lang}"))
    routes: dict[str, Route] = {}
    for i, entry in enumerate(spec.get("keywords") or []):
        where = f"{source}: keywords[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping")
        unknown = set(entry) - {"words", "reply", "flow", "tag"}
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        words = _words(entry.get("words"), f"{where}.words")
        route = Route("keyword", words[0], *(
            _text(entry.get(k, ""), f"{where}.{k}") for k in ("reply", "flow", "tag")
        ))  # fmt: skip
        if not (route.reply or route.flow or route.tag):
            raise ConfigError(f"{where}: needs a reply, a flow or a tag")
        for word in words:
            if word in stop_words or word in START_WORDS or word in HELP_WORDS:
                raise ConfigError(f"{where}: {word} is a built-in keyword")
            routes[word] = route
    for kind, family in (("stop", stop_words), ("start", START_WORDS), ("help", HELP_WORDS)):
        for word in family:
            routes[word] = Route(kind, word, replies[kind])
    return KeywordRouter(routes, frozenset(stop_words))


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
