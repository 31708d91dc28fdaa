"""The webhook screen end to end: a local brand backend answers, is slow, fails or talks
nonsense, and the subscriber always gets the right next screen in time."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import PHONE, GatewayFactory, hop

from gateway.channels import content_budget
from gateway.config import Settings
from gateway.content.check import check_files
from gateway.privacy import pseudonymize

KEY = b"test-pseudonym-key"
MENU = """
id: shop
service_codes: ["*600#"]
start: main
screens:
  main:
    menu:
      text: Shop
      options:
        - {{label: Points, next: lookup}}
  lookup:
    webhook:
      url: "{url}"
      timeout: {timeout}
      save: account
      next: decide
      on_error: sorry
  decide:
    router:
      - {{if: "account.points >= 100", next: rich}}
      - {{next: poor}}
  rich:
    end: "{{account.name}}, you have {{account.points}} points: redeem now!"
  poor:
    end: "{{account.name}}, you have {{account.points}} points."
  sorry:
    end: "Points are not available right now. Please try later."
"""
SORRY = "END Points are not available right now. Please try later."


@dataclass
class Brand:
    """A brand backend on loopback; ``answer`` says what /points does next."""

    url: str = ""
    answer: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    called: asyncio.Event = field(default_factory=asyncio.Event)
    finished: int = 0
    """Answers actually given (a call the gateway gave up on is not one)."""

    async def points(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(orjson.loads(body))
        self.called.set()
        self.headers.append(dict(request.headers))
        if self.answer == "slow":
            await self.release.wait()  # cancelled when the gateway stops waiting
        self.finished += 1
        if self.answer == "500":
            return web.Response(status=500, text="oops")
        if self.answer == "nonsense":
            return web.Response(text="<html>not json</html>")
        if self.answer == "list":
            return web.json_response([1, 2, 3])
        if self.answer == "huge":
            return web.json_response({"blob": "x" * 40_000})
        return web.json_response({"points": 120, "name": "Ann"})


@pytest.fixture
async def brand() -> AsyncIterator[Brand]:
    backend = Brand()
    app = web.Application()
    app.router.add_post("/points", backend.points)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    backend.url = str(server.make_url("/points"))
    try:
        yield backend
    finally:
        backend.release.set()
        await server.close()


def _menus(tmp_path: Path, brand: Brand, timeout: str = "2s") -> Path:
    (tmp_path / "shop.yaml").write_text(MENU.format(url=brand.url, timeout=timeout))
    (tmp_path / "demo.yaml").write_text(
        (Path(__file__).parents[1] / "menus" / "benchmark.yaml").read_text()
    )
    return tmp_path


async def test_the_backends_answer_is_saved_and_shown(
    make_gateway: GatewayFactory, brand: Brand, tmp_path: Path
) -> None:
    """The backend gets {session, subscriber, msisdn, variables}; its JSON object is saved under
    `save` and read with dots in texts and conditions."""
    client = await make_gateway(menus_dir=_menus(tmp_path, brand), webhook_secret="brand-secret")
    await hop(client, "", service_code="*600#", session_id="w1")
    status, body = await hop(client, "1", service_code="*600#", session_id="w1")
    assert (status, body) == (200, "END Ann, you have 120 points: redeem now!")
    sent = brand.requests[0]
    assert sent["session"] == "w1" and sent["msisdn"] == PHONE
    assert sent["subscriber"] == pseudonymize(KEY, PHONE)
    assert sent["menu"] == "shop" and sent["screen"] == "lookup" and sent["channel"]
    assert isinstance(sent["variables"], dict)
    signature = brand.headers[0]["X-Jumbe-Signature"]
    expected = hmac.new(b"brand-secret", orjson.dumps(sent), hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"


@pytest.mark.parametrize("answer", ["500", "nonsense", "list", "huge"])
async def test_a_failing_or_unusable_answer_leads_to_on_error(
    make_gateway: GatewayFactory, brand: Brand, tmp_path: Path, answer: str
) -> None:
    """A 500, a body that is not JSON, a JSON list or an oversized answer: on_error."""
    brand.answer = answer
    client = await make_gateway(menus_dir=_menus(tmp_path, brand))
    await hop(client, "", service_code="*600#", session_id=f"e{answer}")
    assert await hop(client, "1", service_code="*600#", session_id=f"e{answer}") == (200, SORRY)


async def test_a_slow_backend_leads_to_on_error_within_the_timeout(
    make_gateway: GatewayFactory, brand: Brand, tmp_path: Path
) -> None:
    """A backend slower than the screen's timeout: the subscriber gets on_error while the
    backend is still working, and other subscribers' hops go on meanwhile."""
    brand.answer = "slow"
    client = await make_gateway(menus_dir=_menus(tmp_path, brand, timeout="500ms"))
    await hop(client, "", service_code="*600#", session_id="slow")
    waiting = asyncio.ensure_future(hop(client, "1", service_code="*600#", session_id="slow"))
    await asyncio.wait_for(brand.called.wait(), 5)
    others = [await hop(client, "*".join(["2", "4", "ok"][:i]), session_id="other")
              for i in range(4)]  # fmt: skip
    assert others[-1] == (200, "END Thanks"), "another subscriber's journey went on"
    assert not waiting.done(), "while the slow call was still waiting"
    assert await waiting == (200, SORRY)
    assert brand.finished == 0, "on_error came before the backend answered"


async def test_a_timeout_longer_than_the_hop_deadline_is_cut_to_it(
    make_gateway: GatewayFactory, brand: Brand, tmp_path: Path
) -> None:
    """The hop deadline wins over a longer screen timeout: on_error, not a late answer."""
    brand.answer = "slow"
    client = await make_gateway(menus_dir=_menus(tmp_path, brand, timeout="9s"), hop_deadline=0.6)
    await hop(client, "", service_code="*600#", session_id="deadline")
    assert await hop(client, "1", service_code="*600#", session_id="deadline") == (200, SORRY)
    assert brand.finished == 0


async def test_an_unreachable_backend_leads_to_on_error(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Nothing listening at the URL: on_error at once."""
    closed = Brand(url="http://127.0.0.1:9/points")
    client = await make_gateway(menus_dir=_menus(tmp_path, closed))
    await hop(client, "", service_code="*600#", session_id="down")
    assert await hop(client, "1", service_code="*600#", session_id="down") == (200, SORRY)


def test_check_reports_bad_urls_and_timeouts(tmp_path: Path) -> None:
    """check: a URL that is not http(s), a timeout over 10 s and a missing on_error are
    errors; plain http to a public host is a warning; http to a service next door is fine."""
    bad = MENU.format(url="ftp://brand.example/x", timeout="30s").replace(
        "      on_error: sorry\n", ""
    )
    (tmp_path / "bad.yaml").write_text(bad)
    (tmp_path / "public.yaml").write_text(
        MENU.format(url="http://brand.example/points", timeout="2s").replace("*600#", "*601#")
        .replace("id: shop", "id: public")
    )  # fmt: skip
    (tmp_path / "local.yaml").write_text(
        MENU.format(url="http://crm:8080/points", timeout="2s").replace("*600#", "*602#")
        .replace("id: shop", "id: local")
    )  # fmt: skip
    _, findings = check_files([tmp_path], content_budget(Settings()))
    got = {(Path(f.path).name, f.severity, f.message.split(":")[0]) for f in findings}
    assert ("bad.yaml", "error", "url 'ftp") in got
    assert ("bad.yaml", "error", "timeout '30s'") in got
    assert any(
        n == "bad.yaml" and m.startswith("webhook 'lookup' needs on_error") for n, _s, m in got
    )
    assert ("public.yaml", "warning", "url 'http") in got
    assert not [f for f in findings if Path(f.path).name == "local.yaml"]


async def test_wait_false_notifies_and_goes_on_at_once(
    make_gateway: GatewayFactory, brand: Brand, tmp_path: Path
) -> None:
    """wait: false: the subscriber sees the next screen without waiting, and the backend is
    told afterwards (a slow backend delays nobody)."""
    brand.answer = "slow"
    notify = MENU.format(url=brand.url, timeout="2s").replace(
        "      save: account\n      next: decide\n", "      wait: false\n      next: sorry\n"
    )
    (tmp_path / "shop.yaml").write_text(notify)
    client = await make_gateway(menus_dir=tmp_path)
    await hop(client, "", service_code="*600#", session_id="notify")
    assert await hop(client, "1", service_code="*600#", session_id="notify") == (200, SORRY)
    await asyncio.wait_for(brand.called.wait(), 5)
    assert brand.requests[0]["screen"] == "lookup"
