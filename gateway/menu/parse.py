"""Menu file → ``Menu`` plus findings (``path:line:col``). Nothing in a file can execute code.

The file format is documented in ``docs/menus.md``; this module is its reference implementation.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.menu import conditions, templates, validators
from gateway.menu.budget_checks import check_budget
from gateway.menu.compiler import compile_machine, static_screens
from gateway.menu.findings import Finding
from gateway.menu.graph_checks import check_graph
from gateway.menu.model import (
    ANY_LANGUAGE,
    EndScreen,
    InputScreen,
    LanguageScreen,
    Menu,
    MenuScreen,
    Navigation,
    Option,
    ResumePolicy,
    Route,
    RouterScreen,
    Screen,
    SetScreen,
    Text,
)
from gateway.menu.yamlsource import MAX_BYTES, TOO_LARGE, Locations, PathKey, load
from gateway.text import Budget

SERVICE_CODE = re.compile(r"^\*\d+(\*\d+)*#$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
TOP_LEVEL = {
    "kind",
    "id",
    "service_codes",
    "languages",
    "start",
    "screens",
    "navigation",
    "resume",
    "messages",
    "description",
    "samples",
}
KIND_FIELDS = {
    "menu": {"text", "options", "invalid", "save", "navigation"},
    "input": {"text", "validate", "invalid", "save", "next", "navigation"},
    "end": {"text"},
    "router": {"routes"},
    "set": {"values", "next"},
    "language": {"text", "next", "labels", "navigation"},
}
_PLACEHOLDER = Text({ANY_LANGUAGE: templates.parse("")})
DURATION = re.compile(r"^(\d+)\s*(s|m|h)?$")


class _Context:
    """Collects findings while one file is parsed."""

    def __init__(self, locations: Locations, languages: tuple[str, ...]) -> None:
        self.locations = locations
        self.languages = languages
        self.findings: list[Finding] = []
        self.declared: set[str] = set()

    def error(self, key: PathKey, message: str) -> None:
        self.findings.append(self.locations.finding(key, message, "error"))

    def warning(self, key: PathKey, message: str) -> None:
        self.findings.append(self.locations.finding(key, message, "warning"))

    def template(self, key: PathKey, source: Any) -> templates.Template | None:
        if not isinstance(source, str | int | float):
            self.error(key, f"expected text, found {type(source).__name__}")
            return None
        try:
            return templates.parse(str(source))
        except templates.TemplateError as exc:
            self.error(key, f"bad template: {exc}")
            return None

    def text(self, key: PathKey, value: Any, what: str = "text") -> Text | None:
        if value is None:
            self.error(key, f"missing {what}")
            return None
        if isinstance(value, dict):
            parsed: dict[str, templates.Template] = {}
            for language, source in value.items():
                if language not in self.languages:
                    declared = ", ".join(self.languages)
                    self.warning(
                        (*key, language),
                        f"{what} in undeclared language {language!r} (declared: {declared})",
                    )
                tpl = self.template((*key, language), source)
                if tpl is not None:
                    parsed[str(language)] = tpl
            default = self.languages[0]
            for language in self.languages:
                if language in parsed or self._has_error_at(key):
                    continue
                fallback = default if default in parsed else next(iter(parsed), default)
                self.warning(key, f"missing {language!r} {what}; {fallback!r} is shown instead")
            return Text(parsed) if parsed else None
        tpl = self.template(key, value)
        return Text({ANY_LANGUAGE: tpl}) if tpl else None

    def _has_error_at(self, key: PathKey) -> bool:
        line, col = self.locations.at(key)
        return any(f.line == line and f.col == col and f.severity == "error" for f in self.findings)

    def fields(self, key: PathKey, body: dict[str, Any], allowed: set[str]) -> None:
        for name in body:
            if name not in allowed:
                self.error(
                    (*key, name), f"unknown field {name!r} (allowed: {', '.join(sorted(allowed))})"
                )

    def target(self, key: PathKey, value: Any) -> str:
        if not isinstance(value, str) or not value:
            self.error(key, "missing next screen")
            return ""
        return value


def read_source(path: Path) -> bytes | Finding:
    """The bytes of a brand file, or the finding that says why they cannot be used."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)  # a huge file is refused without reading it all
    except OSError as exc:
        return Finding(str(path), 1, 1, "error", f"cannot read: {exc.strerror}")
    if len(raw) > MAX_BYTES:
        return Finding(str(path), 1, 1, "error", TOO_LARGE)
    return raw


def source_version(raw: bytes) -> str:
    """A menu version: the first 12 hex digits of the file's SHA-256."""
    return hashlib.sha256(raw).hexdigest()[:12]


def parse_file(path: Path, budget: Budget | None = None) -> tuple[Menu | None, list[Finding]]:
    """Read and parse one menu file."""
    raw = read_source(path)
    if isinstance(raw, Finding):
        return None, [raw]
    return parse_source(raw, str(path), budget)


def parse_source(
    raw: bytes, path: str, budget: Budget | None = None
) -> tuple[Menu | None, list[Finding]]:
    """Parse the bytes of a menu file (UTF-8) read from ``path``."""
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Finding(path, 1, 1, "error", f"not UTF-8 text: {exc.reason}")]
    return parse_text(source, path, source_version(raw), budget)


def parse_text(
    source: str, path: str, version: str = "", budget: Budget | None = None
) -> tuple[Menu | None, list[Finding]]:
    """Parse menu YAML text; the menu is ``None`` when any finding is an error."""
    data, locations, findings = load(source, path)
    if data is None and findings:
        return None, findings
    if not isinstance(data, dict):
        return None, [
            locations.finding((), "a menu file must be a mapping with id, start and screens")
        ]
    return parse_document(
        data, locations, version or hashlib.sha256(source.encode()).hexdigest()[:12], budget,
        findings,
    )  # fmt: skip


def parse_document(
    data: dict[str, Any],
    locations: Locations,
    version: str,
    budget: Budget | None = None,
    findings: list[Finding] | None = None,
) -> tuple[Menu | None, list[Finding]]:
    """Build a menu from a loaded YAML document (``kind: menu``, or no kind); ``findings``
    are the loader's, reported first. The menu is ``None`` when any finding is an error."""
    path = locations.path
    findings = list(findings or [])
    languages = _languages(data, locations, findings)
    ctx = _Context(locations, languages)
    ctx.findings.extend(findings)
    ctx.fields((), data, TOP_LEVEL)
    menu_id = data.get("id")
    if not isinstance(menu_id, str) or not IDENTIFIER.match(menu_id):
        ctx.error(("id",), "missing or invalid id (letters, digits, _ . -)")
        menu_id = Path(path).stem
    codes = _service_codes(ctx, data.get("service_codes"))
    screens = _screens(ctx, data.get("screens"))
    start = data.get("start")
    if not isinstance(start, str) or start not in ctx.declared:
        ctx.error(
            ("start",) if "start" in data else (),
            f"start screen {start!r} is not defined" if start else "missing start screen",
        )
    menu = Menu(
        id=menu_id,
        version=version,
        path=path,
        service_codes=codes,
        languages=languages,
        start=start if isinstance(start, str) else "",
        screens=screens,
        navigation=_navigation(ctx, data.get("navigation")),
        resume=_resume(ctx, data.get("resume")),
        messages=_messages(ctx, data.get("messages")),
    )
    check_graph(menu, ctx.locations, ctx.findings, ctx.declared)
    if screens:
        check_budget(
            menu,
            ctx.locations,
            ctx.findings,
            budget or Budget(),
            _samples(ctx, data.get("samples")),
        )
    ordered = sorted(ctx.findings, key=lambda f: (f.line, f.col))
    locations.release()
    if any(f.severity == "error" for f in ordered):
        return None, ordered
    menu.machine = compile_machine(menu)
    menu.static_screens = static_screens(menu)
    menu.findings = tuple(ordered)
    return menu, ordered


def _languages(data: dict[str, Any], locations: Locations, out: list[Finding]) -> tuple[str, ...]:
    value = data.get("languages", ["en"])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        out.append(locations.finding(("languages",), "languages: expected a list like [en, sw]"))
        return ("en",)
    good = []
    for i, language in enumerate(value):
        if not isinstance(language, str) or not LANGUAGE.match(language):
            out.append(locations.finding(("languages", i), f"bad language code {language!r}"))
        else:
            good.append(language)
    return tuple(good) or ("en",)


def _service_codes(ctx: _Context, value: Any) -> tuple[str, ...]:
    if value is None:
        ctx.error((), 'missing service_codes (e.g. ["*384#"])')
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        ctx.error(("service_codes",), 'service_codes: expected a list of codes like "*384#"')
        return ()
    codes = []
    for i, code in enumerate(value):
        if not isinstance(code, str) or not SERVICE_CODE.match(code):
            ctx.error(("service_codes", i), f'bad service code {code!r} (expected like "*384*1#")')
        else:
            codes.append(code)
    return tuple(codes)


def _screens(ctx: _Context, value: Any) -> dict[str, Screen]:
    if not isinstance(value, dict) or not value:
        ctx.error(
            ("screens",) if value is not None else (),
            "missing screens (a mapping of screen id to screen)",
        )
        return {}
    screens: dict[str, Screen] = {}
    for screen_id, body in value.items():
        key: PathKey = ("screens", screen_id)
        if not isinstance(screen_id, str) or not IDENTIFIER.match(screen_id):
            ctx.error(key, f"bad screen id {screen_id!r}")
            continue
        if not isinstance(body, dict) or len(body) != 1:
            ctx.error(
                key, f"screen {screen_id!r}: expected exactly one kind ({', '.join(KIND_FIELDS)})"
            )
            continue
        ctx.declared.add(screen_id)
        ((kind, spec),) = body.items()
        builder = _BUILDERS.get(kind)
        if builder is None:
            ctx.error(
                (*key, kind),
                f"screen {screen_id!r}: unknown kind {kind!r} "
                f"(use one of {', '.join(KIND_FIELDS)})",
            )
            continue
        screen = builder(ctx, (*key, kind), screen_id, spec)
        if screen is not None:
            screens[screen_id] = screen
    return screens


def _body(ctx: _Context, key: PathKey, kind: str, spec: Any) -> dict[str, Any] | None:
    if kind == "end" and (
        not isinstance(spec, dict | type(None)) or (isinstance(spec, dict) and "text" not in spec)
    ):
        spec = {"text": spec}
    if kind == "router" and isinstance(spec, list):
        spec = {"routes": spec}
    if not isinstance(spec, dict):
        ctx.error(key, f"{kind}: expected a mapping of fields")
        return None
    ctx.fields(key, spec, KIND_FIELDS[kind])
    return spec


def _menu(ctx: _Context, key: PathKey, screen_id: str, spec: Any) -> Screen | None:
    body = _body(ctx, key, "menu", spec)
    if body is None:
        return None
    text = ctx.text((*key, "text"), body.get("text"))
    raw_options = body.get("options")
    if not isinstance(raw_options, list) or not raw_options:
        ctx.error(
            (*key, "options") if raw_options is not None else key,
            f"menu {screen_id!r} needs a non-empty list of options",
        )
        return None
    options: list[Option] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_options):
        okey: PathKey = (*key, "options", i)
        if not isinstance(raw, dict):
            ctx.error(okey, "option: expected {label: ..., next: ...}")
            continue
        ctx.fields(okey, raw, {"label", "next", "key", "value", "when"})
        option_key = str(raw.get("key", i + 1)).strip()
        if option_key in seen:
            ctx.error(
                (*okey, "key") if "key" in raw else okey, f"duplicate option key {option_key!r}"
            )
        seen.add(option_key)
        label = ctx.text((*okey, "label"), raw.get("label"), "label")
        when = None
        if "when" in raw:
            when = _condition(ctx, (*okey, "when"), raw["when"])
        value = raw.get("value", option_key)
        if label:
            options.append(
                Option(
                    option_key,
                    label,
                    ctx.target((*okey, "next"), raw.get("next")),
                    str(value),
                    when,
                )
            )
    invalid = ctx.text((*key, "invalid"), body["invalid"]) if "invalid" in body else None
    text = text or _PLACEHOLDER  # the error is reported; keep checking the rest
    return MenuScreen(
        screen_id,
        text,
        tuple(options),
        invalid,
        _save(ctx, key, body),
        _flag(ctx, key, body, "navigation"),
    )


def _input(ctx: _Context, key: PathKey, screen_id: str, spec: Any) -> Screen | None:
    body = _body(ctx, key, "input", spec)
    if body is None:
        return None
    text = ctx.text((*key, "text"), body.get("text"))
    spec = body.get("validate")
    try:
        validate = validators.build(spec)
    except validators.ValidatorError as exc:
        where: PathKey = (*key, "validate")
        if isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in validators.KINDS:
            where = (*where, next(iter(spec)))  # the line of `regex: …`, not of `validate:`
        ctx.error(where, str(exc))
        validate = validators.text(None)
    invalid = ctx.text((*key, "invalid"), body["invalid"]) if "invalid" in body else None
    nxt = ctx.target((*key, "next"), body.get("next"))
    text = text or _PLACEHOLDER  # the error is reported; keep checking the rest
    return InputScreen(
        screen_id,
        text,
        validate,
        nxt,
        invalid,
        _save(ctx, key, body),
        _flag(ctx, key, body, "navigation"),
    )


def _end(ctx: _Context, key: PathKey, screen_id: str, spec: Any) -> Screen | None:
    body = _body(ctx, key, "end", spec)
    if body is None:
        return None
    text = ctx.text((*key, "text"), body.get("text"))
    return EndScreen(screen_id, text or _PLACEHOLDER)


def _router(ctx: _Context, key: PathKey, screen_id: str, spec: Any) -> Screen | None:
    body = _body(ctx, key, "router", spec)
    if body is None:
        return None
    raw_routes = body.get("routes")
    if not isinstance(raw_routes, list) or not raw_routes:
        ctx.error(key, f"router {screen_id!r} needs a list of routes ({{if: ..., next: ...}})")
        return None
    base: PathKey = (*key, "routes") if isinstance(spec, dict) else key
    routes = []
    for i, raw in enumerate(raw_routes):
        rkey: PathKey = (*base, i)
        if not isinstance(raw, dict):
            ctx.error(rkey, "route: expected {if: condition, next: screen}")
            continue
        ctx.fields(rkey, raw, {"if", "next"})
        condition = _condition(ctx, (*rkey, "if"), raw["if"]) if "if" in raw else None
        routes.append(
            Route(condition, str(raw.get("if", "")), ctx.target((*rkey, "next"), raw.get("next")))
        )
    if routes and routes[-1].condition is not None:
        ctx.warning(
            key,
            f"router {screen_id!r} has no default route (a last route without "
            "'if'); when nothing matches the subscriber gets an error",
        )
    return RouterScreen(screen_id, tuple(routes))


def _set(ctx: _Context, key: PathKey, screen_id: str, spec: Any) -> Screen | None:
    body = _body(ctx, key, "set", spec)
    if body is None:
        return None
    raw_values = body.get("values")
    if not isinstance(raw_values, dict) or not raw_values:
        ctx.error(key, f"set {screen_id!r} needs values: {{name: value}}")
        return None
    values = {}
    for name, source in raw_values.items():
        tpl = ctx.template((*key, "values", name), source)
        if tpl is not None:
            values[str(name)] = tpl
    return SetScreen(screen_id, values, ctx.target((*key, "next"), body.get("next")))


def _language(ctx: _Context, key: PathKey, screen_id: str, spec: Any) -> Screen | None:
    body = _body(ctx, key, "language", spec)
    if body is None:
        return None
    text = ctx.text((*key, "text"), body.get("text"))
    labels = body.get("labels") or {}
    if not isinstance(labels, dict):
        ctx.error((*key, "labels"), "labels: expected {language: name}")
        labels = {}
    names = {lang: str(labels.get(lang, lang)) for lang in ctx.languages}
    nxt = ctx.target((*key, "next"), body.get("next"))
    text = text or _PLACEHOLDER  # the error is reported; keep checking the rest
    return LanguageScreen(screen_id, text, nxt, names, _flag(ctx, key, body, "navigation"))


_BUILDERS: dict[str, Callable[[_Context, PathKey, str, Any], Screen | None]] = {
    "menu": _menu, "input": _input, "end": _end, "router": _router, "set": _set,
    "language": _language,
}  # fmt: skip


def _save(ctx: _Context, key: PathKey, body: dict[str, Any]) -> str | None:
    name = body.get("save")
    if name is None:
        return None
    if not isinstance(name, str) or not templates._NAME.fullmatch(name):
        ctx.error((*key, "save"), f"save: bad variable name {name!r}")
        return None
    return name


def _flag(ctx: _Context, key: PathKey, body: dict[str, Any], name: str) -> bool:
    value = body.get(name, True)
    if not isinstance(value, bool):
        ctx.error((*key, name), f"{name}: expected true or false")
        return True
    return value


def _condition(ctx: _Context, key: PathKey, source: Any) -> conditions.Condition | None:
    try:
        return conditions.compile_condition(str(source))[0]
    except conditions.ConditionError as exc:
        ctx.error(key, f"bad condition {source!r}: {exc}")
        return None


def _navigation(ctx: _Context, value: Any) -> Navigation:
    if value is None or value is True:
        return Navigation()
    if value is False:
        return Navigation(enabled=False)
    if not isinstance(value, dict):
        ctx.error(("navigation",), "navigation: expected false or {back, home, more, show_back}")
        return Navigation()
    ctx.fields(("navigation",), value, {"back", "home", "more", "show_back", "enabled"})
    keys = {
        name: str(value.get(name, default))
        for name, default in (("back", "0"), ("home", "00"), ("more", "98"))
    }
    if len(set(keys.values())) != 3:
        ctx.error(("navigation",), "navigation: back, home and more need different keys")
    return Navigation(
        bool(value.get("enabled", True)),
        keys["back"],
        keys["home"],
        keys["more"],
        bool(value.get("show_back", True)),
    )


def parse_duration(value: Any) -> int | None:
    """``90``, ``"90s"``, ``"10m"``, ``"2h"`` → seconds; ``None`` when malformed."""
    match = DURATION.match(str(value).strip())
    if not match:
        return None
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]


def _resume(ctx: _Context, value: Any) -> ResumePolicy:
    if value is None:
        return ResumePolicy()
    if not isinstance(value, dict):
        ctx.error(("resume",), "resume: expected {policy: resume|confirm|restart, within: 10m}")
        return ResumePolicy()
    ctx.fields(("resume",), value, {"policy", "within"})
    policy = value.get("policy", "restart")
    if policy not in ("resume", "confirm", "restart"):
        ctx.error(("resume", "policy"), f"resume policy {policy!r}: use resume, confirm or restart")
        policy = "restart"
    within = parse_duration(value.get("within", "10m"))
    if within is None or within <= 0:
        ctx.error(("resume", "within"), f"resume within {value.get('within')!r}: use e.g. 10m")
        within = 600
    return ResumePolicy(policy, within)


def _samples(ctx: _Context, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        ctx.error(("samples",), "samples: expected {variable: example value}")
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _messages(ctx: _Context, value: Any) -> dict[str, dict[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        ctx.error(("messages",), "messages: expected {name: {language: text}}")
        return {}
    out: dict[str, dict[str, str]] = {}
    for name, texts in value.items():
        if isinstance(texts, str):
            out[str(name)] = {lang: texts for lang in ctx.languages}
        elif isinstance(texts, dict):
            out[str(name)] = {str(k): str(v) for k, v in texts.items()}
        else:
            ctx.error(("messages", name), f"messages.{name}: expected text or {{language: text}}")
    return out
