"""Menu file → ``Menu`` plus findings (``path:line:col``). Nothing in a file can execute code.

The file format is documented in ``docs/menus.md``; this module is its reference implementation.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from gateway.menu.budget_checks import check_budget
from gateway.menu.compiler import compile_machine, static_screens
from gateway.menu.findings import Finding
from gateway.menu.graph_checks import check_graph
from gateway.menu.model import Menu, Navigation, ResumePolicy, Screen
from gateway.menu.screens import KINDS
from gateway.menu.screens.context import ParseContext
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
DURATION = re.compile(r"^(\d+)\s*(s|m|h)?$")


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
    ctx = ParseContext(locations, languages)
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


def _service_codes(ctx: ParseContext, value: Any) -> tuple[str, ...]:
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


def _screens(ctx: ParseContext, value: Any) -> dict[str, Screen]:
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
            ctx.error(key, f"screen {screen_id!r}: expected exactly one kind ({', '.join(KINDS)})")
            continue
        ctx.declared.add(screen_id)
        ((name, spec),) = body.items()
        kind = KINDS.get(name)
        if kind is None:
            ctx.error((*key, name), f"screen {screen_id!r}: unknown kind {name!r} "
                      f"(use one of {', '.join(KINDS)})")  # fmt: skip
            continue
        spec = kind.shorthand(spec)
        if not isinstance(spec, dict):
            ctx.error((*key, name), f"{name}: expected a mapping of fields")
            continue
        ctx.fields((*key, name), spec, kind.fields)
        screen = kind.parse(ctx, (*key, name), screen_id, spec)
        if screen is not None:
            screens[screen_id] = screen
    return screens


def _navigation(ctx: ParseContext, value: Any) -> Navigation:
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


def _resume(ctx: ParseContext, value: Any) -> ResumePolicy:
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


def _samples(ctx: ParseContext, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        ctx.error(("samples",), "samples: expected {variable: example value}")
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _messages(ctx: ParseContext, value: Any) -> dict[str, dict[str, str]]:
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
