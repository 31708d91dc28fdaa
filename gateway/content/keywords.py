"""``kind: keywords``: a brand's inbound SMS keywords, checked with line numbers, served live.

The format (``docs/sms.md``)::

    kind: keywords
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
        survey: nps                          # queued on the flows stream for the survey engine
      - words: [VIP]
        tag: vip                             # added to the subscriber's tags

One keywords file per content folder (a second one is an error naming the first): languages,
the default language and the built-in replies are the brand's, not a file's. The router it
builds (``sms.keywords``) is swapped into ``app[KEYWORDS]`` on every reload, so the next
inbound SMS uses the new routes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gateway.content.kind import Built, Claim, Document
from gateway.menu.findings import Finding
from gateway.menu.yamlsource import Locations, PathKey
from gateway.sms.keywords import (
    BUILT_IN,
    DEFAULT_LANGUAGE,
    DEFAULT_REPLIES,
    FAMILIES,
    NEUTRAL,
    KeywordRouter,
    KeywordRoutes,
    Route,
    Texts,
    builtin_router,
    make_router,
    normalize,
    pick,
)

if TYPE_CHECKING:
    from aiohttp import web

TOP_LEVEL = ("kind", "description", "languages", "stop_words", "start_words", "help_words",
             "replies", "keywords")  # fmt: skip
ENTRY_FIELDS = ("words", "reply", "survey", "tag")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
SURVEY_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class KeywordsKind:
    """The keywords file: checked here, matched by ``sms.keywords``, read per inbound SMS."""

    name = "keywords"

    def build(self, document: Document) -> Built[KeywordRouter]:
        router, findings = parse_keywords(document.data, document.locations, document.findings)
        line, col = document.locations.at(("kind",))
        clash = "one keywords file per content folder: the keywords are already in"
        one_file = Claim("keywords", "file", line, col, clash)
        return Built(
            self.name, document.path, document.version, router, findings, (one_file,),
            document.path,
        )  # fmt: skip

    def install(self, app: web.Application, values: list[KeywordRouter]) -> list[Any]:
        from gateway.appkeys import KEYWORDS  # not at import: `jumbe check` needs no app

        router = values[0] if values else builtin_router()
        if KEYWORDS not in app:
            app[KEYWORDS] = KeywordRoutes(router)
        else:
            app[KEYWORDS].router = router
        return []

    def release(self, retired: list[Any]) -> None:
        """Routers are small: nothing to take apart."""


KIND = KeywordsKind()


def parse_keywords(
    data: dict[str, Any], locations: Locations, findings: list[Finding] | None = None
) -> tuple[KeywordRouter | None, list[Finding]]:
    """Check a loaded keywords file; the router is ``None`` when any finding is an error."""
    check = _Check(locations, findings or [])
    for name in data:
        if name not in TOP_LEVEL:
            check.error((name,), f"unknown field {name!r} (allowed: {', '.join(TOP_LEVEL)})")
    check.languages = _languages(check, data)
    default = check.languages[0] if check.languages else DEFAULT_LANGUAGE
    replies = _replies(check, data.get("replies"))
    words = {family: _family_words(check, family, data) for family in FAMILIES}
    brand = _brand_routes(check, data.get("keywords"), default)
    ordered = sorted(check.findings, key=lambda f: (f.line, f.col))
    if any(f.severity == "error" for f in ordered):
        return None, ordered
    return make_router(brand, words, replies, default), ordered


class _Check:
    """Collects findings while one keywords file is checked; knows its languages and which
    file position took each word."""

    def __init__(self, locations: Locations, findings: list[Finding]) -> None:
        self.locations = locations
        self.findings = list(findings)
        self.languages: list[str] | None = None
        self.taken: dict[str, str] = {
            word: f"{word} is a built-in {family} word"
            for family, members in BUILT_IN.items()
            for word in members
        }

    def error(self, key: PathKey, message: str) -> None:
        self.findings.append(self.locations.finding(key, message))

    def language(self, key: PathKey, value: Any) -> str | None:
        if not isinstance(value, str) or not LANGUAGE.match(value):
            self.error(key, f"{value!r} is not a language code (en, sw, fr…)")
            return None
        if self.languages is not None and value not in self.languages:
            self.error(key, f"{value} is not in languages ({', '.join(self.languages)})")
            return None
        return value

    def words(self, key: PathKey, value: Any) -> dict[str, str]:
        """``[W, …]`` (neutral) or ``{lang: [W, …]}`` → {normalized word: language}; each word
        is taken for good, so a word listed anywhere else in the file is an error there."""
        if isinstance(value, dict) and value:
            groups = [((*key, lang), self.language((*key, lang), lang), words)
                      for lang, words in value.items()]  # fmt: skip
        else:
            groups = [(key, NEUTRAL, value)]
        found: dict[str, str] = {}
        for where, language, words in groups:
            if not isinstance(words, list) or not words:
                self.error(where, "expected a non-empty list of words (or {language: [words]})")
                continue
            for i, word in enumerate(words):
                if language is not None and self.take((*where, i), word):
                    found[normalize(word)] = language
        return found

    def take(self, key: PathKey, word: Any) -> bool:
        if not isinstance(word, str) or not normalize(word):
            self.error(key, f"expected a word, found {word!r}")
            return False
        normal = normalize(word)
        if normal in self.taken:
            self.error(key, self.taken[normal])
            return False
        line, _ = self.locations.at(key)
        self.taken[normal] = f"{normal} is already listed at line {line}"
        return True

    def texts(self, key: PathKey, value: Any) -> dict[str, str]:
        """``"text"`` (every language) or ``{lang: "text"}``."""
        if isinstance(value, str):
            return {NEUTRAL: value}
        if not isinstance(value, dict) or not value:
            self.error(key, "expected text, or {language: text}")
            return {}
        texts = {}
        for lang, text in value.items():
            language = self.language((*key, lang), lang)
            if not isinstance(text, str):
                self.error((*key, lang), "expected text")
            elif language is not None:
                texts[language] = text
        return texts


def _languages(check: _Check, data: dict[str, Any]) -> list[str] | None:
    declared = data.get("languages")
    if declared is None:
        return None
    if not isinstance(declared, list) or not declared:
        check.error(("languages",), "expected a non-empty list of language codes (en, sw…)")
        return None
    good = [lang for i, lang in enumerate(declared) if check.language(("languages", i), lang)]
    return good or None


def _replies(check: _Check, given: Any) -> dict[str, Texts]:
    """Built-in confirmations, overridden per language (a dict) or for all (a text)."""
    replies: dict[str, Texts] = dict(DEFAULT_REPLIES)
    if given is None:
        return replies
    if not isinstance(given, dict):
        check.error(("replies",), "expected {stop|start|help: text or {language: text}}")
        return replies
    for family, value in given.items():
        if family not in DEFAULT_REPLIES:
            check.error(("replies", family), f"{family!r}: expected stop, start or help")
            continue
        texts = check.texts(("replies", family), value)
        if texts:
            replies[family] = texts if NEUTRAL in texts else {**DEFAULT_REPLIES[family], **texts}
    return replies


def _family_words(check: _Check, family: str, data: dict[str, Any]) -> dict[str, str]:
    """``<family>_words: {lang: [words]}`` → {word: language}."""
    name = f"{family}_words"
    given = data.get(name)
    if given is None:
        return {}
    if not isinstance(given, dict) or not given:
        check.error((name,), "expected {language: [words]}")
        return {}
    return check.words((name,), given)


def _brand_routes(check: _Check, entries: Any, default: str) -> dict[str, Route]:
    if entries is None:
        return {}
    if not isinstance(entries, list):
        check.error(("keywords",), "expected a list of {words, reply | survey | tag}")
        return {}
    routes: dict[str, Route] = {}
    for i, entry in enumerate(entries):
        key: PathKey = ("keywords", i)
        if not isinstance(entry, dict):
            check.error(key, "expected {words: [...], reply | survey | tag}")
            continue
        for name in entry:
            if name == "flow":
                check.error((*key, name), "flow: is now survey: (rename it; it names the survey"
                            " this keyword starts)")  # fmt: skip
            elif name not in ENTRY_FIELDS:
                allowed = ", ".join(ENTRY_FIELDS)
                check.error((*key, name), f"unknown field {name!r} (allowed: {allowed})")
        if "words" not in entry:
            check.error(key, "missing words")
        words = check.words((*key, "words"), entry.get("words"))
        reply = check.texts((*key, "reply"), entry["reply"]) if "reply" in entry else {}
        survey = _name(check, (*key, "survey"), entry.get("survey", ""), SURVEY_ID)
        tag = _name(check, (*key, "tag"), entry.get("tag", ""), None)
        if not {"reply", "survey", "tag", "flow"} & set(entry):
            check.error(key, "needs a reply, a survey or a tag")
        keyword = next(iter(words), "")
        for word, language in words.items():
            text = pick(reply, language, default) if reply else ""
            routes[word] = Route("keyword", keyword, text, survey, tag, language)
    return routes


def _name(check: _Check, key: PathKey, value: Any, pattern: re.Pattern[str] | None) -> str:
    if value == "":
        return ""
    if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
        what = "a survey id (letters, digits, _ . -)" if pattern is not None else "text"
        check.error(key, f"expected {what}, found {value!r}")
        return ""
    return value
