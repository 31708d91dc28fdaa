"""``webhook``: ask the brand's backend, save its answer, go on (DESIGN §5).

.. code-block:: yaml

    lookup:
      webhook:
        url: "https://brand.example/balance"   # POST JSON {session, subscriber, msisdn,
                                               # variables, menu, screen, language, channel}
        timeout: 2s                            # never more than the hop deadline
        save: account                          # the JSON object answered: {account.points}
        next: show
        on_error: sorry                        # timeout, non-2xx, not a JSON object, too big
        wait: true                             # false: notify and go on at once (no answer)

The call itself is an effect (``WebhookCall``): the engine stops here, the hop pipeline
performs it (``gateway.hops.webhook``) under what is left of the hop deadline, and ``resume``
takes the ``ok`` or ``error`` route with its result.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from gateway.menu.effects import Effect, EffectResult
from gateway.menu.findings import Finding
from gateway.menu.model import Menu, Screen
from gateway.menu.screens.base import Edge, ScreenKind, Transition, save_value
from gateway.menu.screens.context import ParseContext
from gateway.menu.state import SessionState
from gateway.menu.yamlsource import Locations, PathKey

if TYPE_CHECKING:
    from gateway.menu.engine import Engine

OK, ERROR = "webhook:ok", "webhook:error"
"""The events that leave a webhook screen."""
DEFAULT_TIMEOUT_S = 3.0
MAX_TIMEOUT_S = 10.0
"""Africa's Talking waits 10 s for the whole hop: no backend call can take longer."""
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class WebhookCall(Effect):
    """POST the hop's facts to ``url`` and bring back the JSON object it answers."""

    url: str = ""
    timeout: float = DEFAULT_TIMEOUT_S
    menu: str = ""
    language: str = ""

    @property
    def limit(self) -> float:
        return self.timeout


@dataclass(frozen=True, slots=True)
class WebhookScreen(Screen):
    url: str = ""
    timeout: float = DEFAULT_TIMEOUT_S
    save: str | None = None
    next: str = ""
    on_error: str = ""
    wait: bool = True
    kind: ClassVar[str] = "webhook"


def parse_timeout(value: Any) -> float | None:
    """``2s``, ``500ms``, ``1.5`` (seconds) → seconds; ``None`` when malformed."""
    match = _DURATION.match(str(value))
    if match is None:
        return None
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "ms" else number


class WebhookKind(ScreenKind[WebhookScreen]):
    name = "webhook"
    fields = frozenset({"url", "timeout", "save", "next", "on_error", "wait"})
    mode = "pass"
    shape = ("[/", "/]")

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> WebhookScreen:
        url = body.get("url")
        if not isinstance(url, str) or not url.strip():
            ctx.error((*key, "url") if "url" in body else key, "webhook needs a url")
            url = ""
        else:
            url = url.strip()
            _check_url(ctx, (*key, "url"), url)
        timeout = parse_timeout(body.get("timeout", DEFAULT_TIMEOUT_S))
        if timeout is None or not 0 < timeout <= MAX_TIMEOUT_S:
            ctx.error((*key, "timeout"), f"timeout {body.get('timeout')!r}: use e.g. 2s or 500ms, "
                      f"at most {MAX_TIMEOUT_S:g}s (the aggregator waits 10 s for the whole "
                      "hop)")  # fmt: skip
            timeout = DEFAULT_TIMEOUT_S
        save = body.get("save")
        if save is not None and (not isinstance(save, str) or not _VARIABLE.match(save)):
            ctx.error((*key, "save"), f"save: bad variable name {save!r} (letters, digits, _)")
            save = None
        if "on_error" not in body:
            ctx.error(key, f"webhook {screen_id!r} needs on_error: the screen to show when the "
                      "backend is slow, fails or answers something unusable")  # fmt: skip
        return WebhookScreen(
            screen_id,
            url,
            timeout,
            save,
            ctx.target((*key, "next"), body.get("next")),
            ctx.target((*key, "on_error"), body.get("on_error")) if "on_error" in body else "",
            ctx.flag(key, body, "wait"),
        )

    def check(
        self, screen: WebhookScreen, menu: Menu, locations: Locations, findings: list[Finding]
    ) -> None:
        if not screen.wait and screen.save:
            findings.append(locations.finding(
                ("screens", screen.id, "webhook", "save"),
                "save has no effect with wait: false (nothing waits for the answer)", "warning",
            ))  # fmt: skip

    def edges(self, screen: WebhookScreen, language: str) -> list[Edge]:
        base: PathKey = ("screens", screen.id, "webhook")
        edges = [Edge(screen.next, (*base, "next"), "answered")]
        if screen.on_error:
            edges.append(Edge(screen.on_error, (*base, "on_error"), "error"))
        return edges

    def summary(self, screen: WebhookScreen, language: str) -> str:
        return f"POST {screen.url}"

    def transitions(self, screen: WebhookScreen) -> list[Transition]:
        before = [save_value(screen.save)] if screen.save else []
        transitions = [Transition(OK, screen.next, before=before)]
        if screen.on_error:
            transitions.append(Transition(ERROR, screen.on_error))
        return transitions

    def enter(
        self, engine: Engine, menu: Menu, session: SessionState, screen: WebhookScreen
    ) -> Effect | None:
        call = WebhookCall(screen.id, screen.url, screen.timeout, menu.id, session.language)
        if screen.wait:
            return call
        engine.defer(session, call)
        engine.route(menu, session, OK, value=None)
        return None

    def resume(
        self,
        engine: Engine,
        menu: Menu,
        session: SessionState,
        screen: WebhookScreen,
        result: EffectResult,
    ) -> None:
        if result.ok:
            engine.route(menu, session, OK, value=result.value)
        else:
            session.vars["webhook_error"] = result.error
            engine.route(menu, session, ERROR)


def _check_url(ctx: ParseContext, key: PathKey, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        ctx.error(key, f"url {url!r}: expected http:// or https:// and a host")
        return
    if parts.scheme == "http" and not _local(parts.hostname):
        ctx.warning(key, f"url {url!r} is plain http to a public host: the subscriber's number "
                    "and answers cross the internet unencrypted; use https://")  # fmt: skip


def _local(host: str) -> bool:
    """Loopback, a private network, or a single-label name (a service next to the gateway)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host or host.endswith((".local", ".internal", ".localhost"))
    return address.is_private or address.is_loopback
