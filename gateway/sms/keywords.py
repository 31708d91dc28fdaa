"""Inbound SMS keyword routing: the built-in STOP/START/HELP families plus brand keywords.

Matching ignores case, repeated spaces and trailing punctuation. The whole text must match a
keyword, except that a text whose first word is a stop word (``STOP pls``) is a STOP.

Replies come in the language of the word that matched: ``SITISHA`` (a Swahili stop word) is
confirmed in Swahili. Language-neutral words (the built-ins, a brand's plain ``words`` list) get
the default language, the first of the file's ``languages`` (``en`` when not given).

Brand keywords come from the keywords file in the content folder (``kind: keywords``), checked
and turned into a ``KeywordRouter`` by ``gateway.content.keywords``; ``KeywordRoutes`` holds the
router being served, swapped on every reload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

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
FAMILIES = ("stop", "start", "help")
BUILT_IN: dict[str, tuple[str, ...]] = {
    "stop": STOP_WORDS,
    "start": START_WORDS,
    "help": HELP_WORDS,
}
_TRAILING = re.compile(r"[.!?,;:]+$")

Texts = Mapping[str, str]
"""Text per language; the ``NEUTRAL`` key holds one text for every language."""


@dataclass(frozen=True, slots=True)
class Route:
    """What an inbound text asks for: ``stop``, ``start``, ``help``, ``keyword`` or ``none``.

    ``reply`` is already in ``language``, the matched word's (``""``: neutral, so the default);
    ``survey`` is the id of the survey a keyword starts (queued on the flows stream).
    """

    kind: str
    keyword: str = ""
    reply: str = ""
    survey: str = ""
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


def make_router(
    brand: Mapping[str, Route],
    words: Mapping[str, Mapping[str, str]],
    replies: Mapping[str, Texts],
    default: str = DEFAULT_LANGUAGE,
) -> KeywordRouter:
    """The router for checked parts: ``brand`` routes by normalized word, extra ``words`` per
    family (word → language), ``replies`` per family overriding the built-in ones, and the
    ``default`` language that answers neutral words."""
    routes = dict(brand)
    stop_words = set(STOP_WORDS)
    for family in FAMILIES:
        texts = replies.get(family, DEFAULT_REPLIES[family])
        members = {**dict.fromkeys(BUILT_IN[family], NEUTRAL), **words.get(family, {})}
        for word, language in members.items():
            routes[word] = Route(family, word, pick(texts, language, default), language=language)
        if family == "stop":
            stop_words.update(members)
    return KeywordRouter(routes, frozenset(stop_words))


def builtin_router() -> KeywordRouter:
    """STOP, START and HELP with Jumbe's own confirmations: what serves without a keywords file."""
    return make_router({}, {}, DEFAULT_REPLIES)


class KeywordRoutes:
    """The keyword router being served. A reload swaps ``router`` in one assignment, so an
    inbound message sees either the old routes or the new ones."""

    __slots__ = ("router",)

    def __init__(self, router: KeywordRouter | None = None) -> None:
        self.router = router if router is not None else builtin_router()

    def route(self, text: str) -> Route:
        return self.router.route(text)
