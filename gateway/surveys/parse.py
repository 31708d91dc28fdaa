"""``kind: survey`` file → ``Survey`` plus findings (``path:line:col``), collecting every mistake.

The format (``docs/surveys.md``; the minimal form is DESIGN §5)::

    kind: survey
    id: nps
    languages: [en, sw]                 # optional; the first is the default
    service_codes: ["*384*77#"]         # optional: dial straight into it
    intro: {en: "2 questions about Jumbe. FREE. Continue?"}   # optional: 1/yes goes on
    closing: {en: "Thank you!"}
    rejected: {en: "Thanks, we have enough answers."}        # quota full, ineligible
    already: {en: "You have already taken this survey."}
    reminder: {en: "Reminder: ..."}     # SMS: sent once before the question again
    incentive: {points: 10}             # granted once on completion
    channels:
      ussd: {paginate: false}           # a question must fit one screen unless true
      sms: {paginate: false, expiry: 48h, reminder: 24h}
    quotas:
      - {question: region, buckets: {nairobi: 100, other: 50}}
    questions:
      - {id: score, type: nps, text: {en: "How likely ... 0-10?"}, skip: {promoter: thanks}}
      - {id: why, type: text, text: {en: "Why?"}}
      - {id: region, type: single, text: "Where do you live?",
         options: [{label: Nairobi, category: nairobi}, {label: Elsewhere, category: other}]}
"""

from __future__ import annotations

import re
from typing import Any

from gateway.menu.findings import Finding
from gateway.menu.yamlsource import Locations, PathKey
from gateway.surveys import answers
from gateway.surveys.model import (
    END,
    INELIGIBLE,
    QUESTION_TYPES,
    Channels,
    Option,
    Question,
    Quota,
    Survey,
)
from gateway.text import Budget, sms_info

TOP_LEVEL = ("kind", "id", "description", "languages", "service_codes", "intro", "closing",
             "rejected", "already", "reminder", "incentive", "quotas", "channels",
             "questions")  # fmt: skip
QUESTION_FIELDS = ("id", "type", "text", "options", "min", "max", "ranges", "skip", "invalid")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
SERVICE_CODE = re.compile(r"^\*\d+(\*\d+)*#$")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
MAX_SMS_QUESTIONS = 5
"""More SMS questions than this is a warning (completion drops with each one; Echo Mobile)."""
ALIASES = {"yesno": "yes_no", "yes/no": "yes_no", "choice": "single", "free_text": "text",
           "numeric": "number"}  # fmt: skip


def parse_survey(
    data: dict[str, Any], locations: Locations, version: str, budget: Budget,
    findings: list[Finding] | None = None,
) -> tuple[Survey | None, list[Finding]]:  # fmt: skip
    """Check a loaded survey file; the survey is ``None`` when any finding is an error."""
    check = _Check(locations, list(findings or []))
    for name in data:
        if name not in TOP_LEVEL:
            check.error((name,), f"unknown field {name!r} (allowed: {', '.join(TOP_LEVEL)})")
    survey_id = data.get("id")
    if not isinstance(survey_id, str) or not IDENTIFIER.match(survey_id):
        check.error(
            ("id",) if "id" in data else (), "a survey needs an id (letters, digits, _ . -)"
        )
        survey_id = ""
    check.languages = _languages(check, data.get("languages"))
    codes = _service_codes(check, data.get("service_codes"))
    questions = _questions(check, data.get("questions"))
    texts = {name: check.texts((name,), data[name]) if name in data else {}
             for name in ("intro", "closing", "rejected", "already", "reminder")}  # fmt: skip
    survey = Survey(
        survey_id, version, locations.path, tuple(check.languages), tuple(questions), codes,
        texts["intro"], texts["closing"], texts["rejected"], texts["already"], texts["reminder"],
        _incentive(check, data.get("incentive")), _quotas(check, data.get("quotas"), questions),
        _channels(check, data.get("channels")),
    )  # fmt: skip
    if questions:
        _check_flow(check, survey)
        _check_budgets(check, survey, budget)
    ordered = sorted(check.findings, key=lambda f: (f.line, f.col))
    if any(f.severity == "error" for f in ordered) or not survey_id or not questions:
        return None, ordered
    return survey, ordered


class _Check:
    """Findings while one survey file is checked; knows its languages."""

    def __init__(self, locations: Locations, findings: list[Finding]) -> None:
        self.locations = locations
        self.findings = findings
        self.languages: list[str] = ["en"]

    def error(self, key: PathKey, message: str) -> None:
        self.findings.append(self.locations.finding(key, message))

    def warning(self, key: PathKey, message: str) -> None:
        self.findings.append(self.locations.finding(key, message, "warning"))

    def texts(self, key: PathKey, value: Any) -> dict[str, str]:
        """``"text"`` (every language) or ``{lang: "text"}`` (the default language required)."""
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
            return dict.fromkeys(self.languages, str(value))
        if not isinstance(value, dict) or not value:
            self.error(key, "expected text, or {language: text}")
            return {}
        found: dict[str, str] = {}
        for language, text in value.items():
            if language not in self.languages:
                self.error((*key, language), f"{language!r} is not in languages "
                           f"({', '.join(self.languages)})")  # fmt: skip
            elif not isinstance(text, str) or not text.strip():
                self.error((*key, language), "expected text")
            else:
                found[language] = text.strip()
        default = self.languages[0]
        if found and default not in found:
            self.error(key, f"missing the default language's ({default}) text")
        for language in self.languages:
            if found and language not in found:
                self.warning(key, f"missing {language!r} text; {default!r} is shown instead")
        return found


def _languages(check: _Check, declared: Any) -> list[str]:
    if declared is None:
        return ["en"]
    if not isinstance(declared, list) or not declared:
        check.error(("languages",), "expected a non-empty list of language codes (en, sw…)")
        return ["en"]
    good = []
    for i, language in enumerate(declared):
        if not isinstance(language, str) or not LANGUAGE.match(language):
            check.error(("languages", i), f"{language!r} is not a language code (en, sw…)")
        else:
            good.append(language)
    return good or ["en"]


def _service_codes(check: _Check, codes: Any) -> tuple[str, ...]:
    if codes is None:
        return ()
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(codes, list):
        check.error(("service_codes",), 'expected a list of codes such as ["*384*77#"]')
        return ()
    good = []
    for i, code in enumerate(codes):
        if not isinstance(code, str) or not SERVICE_CODE.match(code.strip()):
            check.error(("service_codes", i), f"{code!r} is not a service code like *384*77#")
        else:
            good.append(code.strip())
    return tuple(good)


def _questions(check: _Check, given: Any) -> list[Question]:
    if not isinstance(given, list) or not given:
        check.error(("questions",), "a survey needs a list of questions")
        return []
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(given):
        key: PathKey = ("questions", i)
        if not isinstance(spec, dict):
            check.error(key, "expected {id, type, text, …}")
            continue
        question = _question(check, key, spec)
        if question is None:
            continue
        if question.id in seen:
            check.error((*key, "id"), f"question id {question.id!r} is already used by question "
                        f"{seen[question.id] + 1}")  # fmt: skip
            continue
        seen[question.id] = i
        questions.append(question)
    return questions


def _question(check: _Check, key: PathKey, spec: dict[str, Any]) -> Question | None:
    for name in spec:
        if name not in QUESTION_FIELDS:
            check.error((*key, name), f"unknown field {name!r} (allowed: "
                        f"{', '.join(QUESTION_FIELDS)})")  # fmt: skip
    qid = spec.get("id")
    if not isinstance(qid, str) or not IDENTIFIER.match(qid) or qid in (END, INELIGIBLE):
        check.error(
            (*key, "id") if "id" in spec else key,
            f"a question needs an id (letters, digits, _ . -; not {END} or {INELIGIBLE})",
        )
        return None
    raw_type = spec.get("type")
    qtype = ALIASES.get(str(raw_type), str(raw_type))
    if qtype not in QUESTION_TYPES:
        check.error(
            (*key, "type") if "type" in spec else key,
            f"unknown question type {raw_type!r} (known: {', '.join(QUESTION_TYPES)})",
        )
        return None
    text = check.texts((*key, "text"), spec.get("text")) if "text" in spec else {}
    if "text" not in spec:
        check.error(key, f"question {qid!r} needs a text")
    options = _options(check, key, qtype, spec.get("options"))
    low, high = _range(check, key, qtype, spec)
    ranges = _ranges(check, key, qtype, spec.get("ranges"))
    invalid = check.texts((*key, "invalid"), spec["invalid"]) if "invalid" in spec else {}
    question = Question(qid, qtype, text, options, low, high, ranges, {}, invalid)
    skip = _skip(check, key, question, spec.get("skip"))
    return Question(qid, question.type, text, options, low, high, ranges, skip, invalid)


def _options(check: _Check, key: PathKey, qtype: str, given: Any) -> tuple[Option, ...]:
    if qtype not in ("single", "multiple"):
        if given is not None:
            check.error((*key, "options"), f"a {qtype} question has no options")
        return ()
    if not isinstance(given, list) or len(given) < 2:
        check.error(
            (*key, "options") if given is not None else key,
            f"a {qtype} question needs a list of at least 2 options",
        )
        return ()
    options = []
    for i, spec in enumerate(given):
        where: PathKey = (*key, "options", i)
        label: Any = spec
        category = str(i + 1)
        if isinstance(spec, dict):
            label = spec.get("label")
            if "category" in spec:
                category = str(spec["category"])
            for name in spec:
                if name not in ("label", "category"):
                    check.error((*where, name), f"unknown field {name!r} (allowed: label, "
                                "category)")  # fmt: skip
        texts = check.texts((*where, "label") if isinstance(spec, dict) else where, label)
        options.append(Option(texts, category))
    return tuple(options)


def _range(check: _Check, key: PathKey, qtype: str, spec: dict[str, Any]) -> tuple[Any, Any]:
    bounds = []
    for name in ("min", "max"):
        value = spec.get(name)
        if value is not None and (qtype != "number" or isinstance(value, bool)
                                  or not isinstance(value, int | float)):  # fmt: skip
            check.error((*key, name), f"{name}: only a number question has one, as a number")
            value = None
        bounds.append(value)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        check.error((*key, "min"), "min is above max")
    return bounds[0], bounds[1]


Ranges = tuple[tuple[str, float, float], ...]


def _ranges(check: _Check, key: PathKey, qtype: str, given: Any) -> Ranges:
    if given is None:
        return ()
    if qtype != "number" or not isinstance(given, dict):
        check.error((*key, "ranges"), "ranges: a number question's {category: [low, high]}")
        return ()
    ranges = []
    for name, pair in given.items():
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
        ):
            check.error((*key, "ranges", name), "expected [low, high]")
            continue
        ranges.append((str(name), float(pair[0]), float(pair[1])))
    return tuple(ranges)


def _skip(check: _Check, key: PathKey, question: Question, given: Any) -> dict[str, str]:
    if given is None:
        return {}
    if not isinstance(given, dict) or not given:
        check.error((*key, "skip"), "skip: {answer category: question id, end or ineligible}")
        return {}
    known = answers.categories(question)
    skip = {}
    for name, target in given.items():
        if str(name) not in known:
            check.error((*key, "skip", name), f"{name!r} is not a category of this {question.type}"
                        f" question (categories: {', '.join(known)})")  # fmt: skip
        elif not isinstance(target, str) or not target:
            check.error((*key, "skip", name), "expected a question id, end or ineligible")
        else:
            skip[str(name)] = target
    return skip


def _incentive(check: _Check, given: Any) -> int:
    points = given.get("points") if isinstance(given, dict) else given
    if given is None:
        return 0
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        check.error(("incentive",), "incentive: {points: <a positive whole number>}")
        return 0
    return points


def _quotas(check: _Check, given: Any, questions: list[Question]) -> tuple[Quota, ...]:
    if given is None:
        return ()
    if not isinstance(given, list):
        check.error(("quotas",), "expected a list of {question, buckets: {category: count}}")
        return ()
    by_id = {q.id: q for q in questions}
    quotas = []
    for i, spec in enumerate(given):
        key: PathKey = ("quotas", i)
        if not isinstance(spec, dict) or not isinstance(spec.get("buckets"), dict):
            check.error(key, "expected {question, buckets: {category: count}}")
            continue
        question = by_id.get(str(spec.get("question")))
        if question is None:
            check.error((*key, "question"), f"no question {spec.get('question')!r} in this survey")
            continue
        if question.type in ("text", "multiple"):
            check.error((*key, "question"), f"a quota needs a question with one category per "
                        f"answer, not a {question.type} question")  # fmt: skip
            continue
        buckets = {}
        for name, count in spec["buckets"].items():
            if str(name) not in answers.categories(question):
                known = ", ".join(answers.categories(question))
                check.error((*key, "buckets", name), f"{name!r} is not a category of question "
                            f"{question.id!r} ({known})")  # fmt: skip
            elif isinstance(count, bool) or not isinstance(count, int) or count < 0:
                check.error((*key, "buckets", name), "expected a count (0 or more)")
            else:
                buckets[str(name)] = count
        quotas.append(Quota(question.id, buckets))
    return tuple(quotas)


def duration(value: Any) -> float | None:
    """``48h``, ``30m``, ``2d``, ``90`` (seconds) → seconds; ``None`` when malformed."""
    match = DURATION.match(str(value))
    if match is None:
        return None
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2) or "s"]
    return float(match.group(1)) * unit


def _channels(check: _Check, given: Any) -> Channels:
    if given is None:
        return Channels()
    if not isinstance(given, dict):
        check.error(("channels",), "expected {ussd: {…}, sms: {…}}")
        return Channels()
    allowed = {"ussd": ("paginate",), "sms": ("paginate", "expiry", "reminder")}
    values: dict[str, Any] = {}
    for channel, spec in given.items():
        if channel not in allowed or not isinstance(spec, dict):
            check.error(("channels", channel), "expected ussd: {paginate} or sms: {paginate, "
                        "expiry, reminder}")  # fmt: skip
            continue
        for name, value in spec.items():
            where: PathKey = ("channels", channel, name)
            if name not in allowed[channel]:
                check.error(where, f"unknown field {name!r} (allowed: "
                            f"{', '.join(allowed[channel])})")  # fmt: skip
            elif name == "paginate":
                if not isinstance(value, bool):
                    check.error(where, "paginate: expected true or false")
                values[f"{channel}_paginate"] = value is True
            elif name == "reminder" and value is False:
                values["sms_reminder"] = 0.0
            else:
                seconds = duration(value)
                if seconds is None or (name == "expiry" and seconds <= 0):
                    check.error(where, f"{name}: expected a duration such as 48h, 30m or 2d")
                else:
                    values[f"sms_{name}"] = seconds
    return Channels(**values)


def _check_flow(check: _Check, survey: Survey) -> None:
    """Skips go forward (no loops) to a question, ``end`` or ``ineligible``; every question can
    be reached from the first."""
    order = {q.id: i for i, q in enumerate(survey.questions)}
    for i, question in enumerate(survey.questions):
        for category, target in question.skip.items():
            where: PathKey = ("questions", i, "skip", category)
            if target in (END, INELIGIBLE):
                continue
            if target not in order:
                check.error(where, f"no question {target!r} (skip to a question id, {END} or "
                            f"{INELIGIBLE})")  # fmt: skip
            elif order[target] <= i:
                check.error(where, f"skip to {target!r} goes backwards: skips only go forward")
    reached = {survey.questions[0].id}
    for question in survey.questions:
        if question.id not in reached:
            continue
        for category in answers.categories(question) or ("",):
            target = question.skip.get(category, survey.after(question))
            reached.add(target)
        if question.type == "multiple":
            reached.add(survey.after(question))
    for i, question in enumerate(survey.questions):
        if question.id not in reached:
            check.error(("questions", i, "id"), f"question {question.id!r} is unreachable: every "
                        "answer before it skips past it")  # fmt: skip


def _check_budgets(check: _Check, survey: Survey, budget: Budget) -> None:
    """Each USSD screen fits the screen budget, each SMS question one SMS, unless paginated."""
    if len(survey.questions) > MAX_SMS_QUESTIONS:
        check.warning(("questions",), f"{len(survey.questions)} questions: over SMS, more than "
                      f"{MAX_SMS_QUESTIONS} lose most respondents before the end")  # fmt: skip
    for language in survey.languages:
        if survey.intro:
            _fits(check, ("intro",), answers.intro_prompt(survey, language), language, budget,
                  survey.channels)  # fmt: skip
        for i, question in enumerate(survey.questions):
            for invalid in (False, True):
                text = answers.prompt(survey, question, language, invalid)
                _fits(check, ("questions", i, "text"), text, language, budget, survey.channels,
                      sms=not invalid)  # fmt: skip


def _fits(
    check: _Check, key: PathKey, text: str, language: str, budget: Budget, channels: Channels,
    sms: bool = True,
) -> None:  # fmt: skip
    if not channels.ussd_paginate and not budget.fits(text):
        limit = budget.limit_for(text)
        check.error(key, f"{language}: the USSD screen is {len(text)} characters, over the "
                    f"{limit} a screen holds (shorten it, or channels: {{ussd: {{paginate: "
                    f"true}}}})")  # fmt: skip
    info = sms_info(text)
    if sms and not channels.sms_paginate and info.segments > 1:
        check.error(key, f"{language}: the SMS question needs {info.segments} SMS "
                    f"({info.units} {info.encoding} characters; one holds "
                    f"{160 if info.encoding == 'gsm7' else 70}) — shorten it, or channels: "
                    "{sms: {paginate: true}}")  # fmt: skip
