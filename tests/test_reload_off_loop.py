"""Reloading content never stalls hops: parsing runs off the event loop, only for changed files."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import MENUS, GatewayFactory, hop

from gateway.content import reloader as reloader_module
from gateway.content.kind import Built
from gateway.content.menus import release_unused
from gateway.menu.model import Menu
from gateway.menu.parse import parse_text
from gateway.menu.registry import KEEP_VERSIONS, MenuRegistry

ADMIN = {"Authorization": "Bearer adm"}
Parse = Any


def big_menu(screens: int, title: str = "Screen") -> str:
    """A menu of ``screens`` chained menu screens on *500# (a 10,000-screen one is 1.3 MiB)."""
    lines = ["id: big", "service_codes: ['*500#']", "start: s0", "screens:"]
    for i in range(screens):
        lines += [
            f"  s{i}:",
            "    menu:",
            f'      text: "{title} {i}"',
            "      options:",
            f"        - {{label: Next, next: s{i + 1}}}",
            "        - {label: Home, next: s0}",
        ]
    lines += [f"  s{screens}:", "    end: Bye"]
    return "\n".join(lines) + "\n"


class ParseSpy:
    """Wraps the reloader's file checker: records each file parsed, and can hold parsing until
    told."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, hold: bool = False) -> None:
        self.real: Parse = reloader_module.build_source
        self.paths: list[str] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.hold = hold
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        monkeypatch.setattr(reloader_module, "build_source", self)

    def __call__(self, raw: bytes, path: str, budget: Any) -> Built[Any]:
        with self._lock:
            self.paths.append(path)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.started.set()
        try:
            if self.hold:
                self.release.wait(timeout=10)
            result: Built[Any] = self.real(raw, path, budget)
            return result
        finally:
            with self._lock:
                self.running -= 1


def copy_menus(tmp_path: Path, big_screens: int = 0) -> Path:
    menus = tmp_path / "menus"
    shutil.copytree(MENUS, menus)
    if big_screens:
        (menus / "big.yaml").write_text(big_menu(big_screens))
    return menus


async def test_hops_are_answered_while_a_reload_is_parsing(
    make_gateway: GatewayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a reload is stuck parsing a file, other subscribers' hops are still answered."""
    menus = copy_menus(tmp_path)
    client = await make_gateway(menus_dir=menus, reload_interval=0, admin_token="adm")
    spy = ParseSpy(monkeypatch, hold=True)
    demo = menus / "demo.yaml"
    demo.write_text(demo.read_text().replace("Welcome to Jumbe", "Hello from Jumbe"))
    reload = asyncio.create_task(client.post("/admin/reload", headers=ADMIN))
    assert await asyncio.to_thread(spy.started.wait, 30)
    answers = await asyncio.gather(
        *(hop(client, "", session_id=f"s{i}", service_code="*384#") for i in range(5))
    )
    assert not reload.done(), "the hops were answered before the reload completed"
    assert all(
        status == 200 and body.startswith("CON Welcome to Jumbe") for status, body in answers
    )
    spy.release.set()
    response = await reload
    assert response.status == 200
    assert (await hop(client, "", session_id="after", service_code="*384#"))[1].startswith(
        "CON Hello from Jumbe"
    )


async def test_hops_overtake_the_reload_of_a_huge_file(
    make_gateway: GatewayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 3,000-screen file being reloaded does not hold up a new session on another menu."""
    menus = copy_menus(tmp_path, big_screens=3000)
    client = await make_gateway(menus_dir=menus, reload_interval=0, admin_token="adm")
    spy = ParseSpy(monkeypatch)
    (menus / "big.yaml").write_text(big_menu(3000, title="Step"))
    reload = asyncio.create_task(client.post("/admin/reload", headers=ADMIN))
    assert await asyncio.to_thread(spy.started.wait, 30)
    status, body = await hop(client, "", session_id="during", service_code="*384#")
    assert (status, body.startswith("CON Welcome to Jumbe")) == (200, True)
    assert not reload.done(), "the hop was answered before the reload completed"
    assert (await (await reload).json())["parsed"] == [str(menus / "big.yaml")]
    assert (await hop(client, "", session_id="big", service_code="*500#"))[1].startswith(
        "CON Step 0"
    )


async def test_only_changed_files_are_parsed_again(
    make_gateway: GatewayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Editing one file re-parses that file only; touching a file without changing it, none."""
    menus = copy_menus(tmp_path, big_screens=50)
    client = await make_gateway(menus_dir=menus, reload_interval=0, admin_token="adm")
    spy = ParseSpy(monkeypatch)
    demo = menus / "demo.yaml"
    demo.write_text(demo.read_text().replace("Welcome to Jumbe", "Hello from Jumbe"))
    report = await (await client.post("/admin/reload", headers=ADMIN)).json()
    assert report["parsed"] == [str(demo)]
    assert spy.paths == [str(demo)]
    assert "big" in report["kinds"]["menu"]["loaded"], "unchanged files keep serving their menu"
    os.utime(menus / "big.yaml", ns=(1, 1))
    report = await (await client.post("/admin/reload", headers=ADMIN)).json()
    assert (report["parsed"], spy.paths) == ([], [str(demo)])
    assert (await hop(client, "", service_code="*500#"))[1].startswith("CON Screen 0")


async def test_a_broken_edit_is_reported_on_every_reload_and_keeps_serving(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A broken file stays on its previous version while other files change around it."""
    menus = copy_menus(tmp_path, big_screens=5)
    client = await make_gateway(menus_dir=menus, reload_interval=0, admin_token="adm")
    demo = menus / "demo.yaml"
    demo.write_text(demo.read_text().replace("next: rate", "next: nowhere"))
    first = await client.post("/admin/reload", headers=ADMIN)
    assert first.status == 422
    (menus / "big.yaml").write_text(big_menu(5, title="Changed"))
    second = await client.post("/admin/reload", headers=ADMIN)
    report = await second.json()
    assert second.status == 422
    assert (report["kept_previous"], report["parsed"]) == ([str(demo)], [str(menus / "big.yaml")])
    assert any("unknown next screen 'nowhere'" in f for f in report["findings"])
    assert (await hop(client, "", service_code="*384#"))[1].startswith("CON Welcome to Jumbe")
    assert (await hop(client, "", session_id="b", service_code="*500#"))[1].startswith(
        "CON Changed 0"
    )


async def test_reloads_never_overlap(
    make_gateway: GatewayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reloads asked for at once run one after the other; each file is parsed once."""
    menus = copy_menus(tmp_path, big_screens=5)
    client = await make_gateway(menus_dir=menus, reload_interval=0, admin_token="adm")
    spy = ParseSpy(monkeypatch, hold=True)
    demo, big = menus / "demo.yaml", menus / "big.yaml"
    demo.write_text(demo.read_text().replace("Welcome to Jumbe", "Hello from Jumbe"))
    first = asyncio.create_task(client.post("/admin/reload", headers=ADMIN))
    assert await asyncio.to_thread(spy.started.wait, 30)
    big.write_text(big_menu(5, title="Changed"))
    second = asyncio.create_task(client.post("/admin/reload", headers=ADMIN))
    await asyncio.sleep(0.2)  # let the second request reach the server (passes either way)
    spy.release.set()
    reports = [await (await first).json(), await (await second).json()]
    assert spy.most_at_once == 1
    assert sorted(spy.paths) == [str(big), str(demo)]
    assert [r["parsed"] for r in reports] == [[str(demo)], [str(big)]]


def test_retired_versions_are_taken_apart_only_when_unused(tmp_path: Path) -> None:
    """A version dropped from the registry is freed piecewise, unless a hop still holds it."""
    versions = []
    for i in range(KEEP_VERSIONS + 2):
        menu, findings = parse_text(big_menu(3, title=f"V{i}"), str(tmp_path / "big.yaml"))
        assert menu is not None, findings
        versions.append(menu)
    registry = MenuRegistry()
    dropped: list[Menu] = []
    for menu in versions:
        dropped += registry.install([menu])
    assert dropped == versions[:2]
    held, states = dropped[0], [m.machine.states for m in dropped]
    del versions, menu
    release_unused(dropped)
    assert (len(states[0]), len(states[1])) == (4, 0), "the held version is intact"
    assert held.machine.events["select:1"].trigger is not None
