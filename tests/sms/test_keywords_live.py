"""The keywords file lives in the content folder: checked with line numbers, reloaded live.

Real app over HTTP, real Redis, replies sent by the worker through the SDK to the fake AT.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from conftest import MENUS, ROOT, GatewayFactory
from processes import environment, jumbe
from sms_fixtures import FakeServer, fake_at_fixture

__all__ = ["fake_at_fixture"]

ADMIN = {"Authorization": "Bearer adm"}
OLD_REPLY = "This week: 2 for 1 on airtime bundles."


async def _gateway(
    make_gateway: GatewayFactory, fake_at: FakeServer, menus: Path, **overrides: Any
) -> TestClient[Any, Any]:
    return await make_gateway(menus_dir=menus, at_base_url=fake_at.url, sms_send_timeout=2.0,
                              sms_rate_per_sender=0, admin_token="adm", **overrides)  # fmt: skip


async def _reply_to(
    client: TestClient[Any, Any], fake_at: FakeServer, text: str, at_id: str
) -> str:
    """Send ``text`` as an inbound SMS and wait for the reply the worker sends to AT."""
    phone = f"+2547110{len(fake_at.fake.received):05d}"
    response = await client.post("/sms/africastalking/inbound", data={
        "from": phone, "to": "22384", "text": text, "id": at_id, "networkCode": "63902",
    })  # fmt: skip
    assert response.status == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for sent in fake_at.fake.received:
            if sent.to == phone:
                return sent.message.split("\n")[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no reply to {text!r}")


def _copy_menus(tmp_path: Path) -> Path:
    menus = tmp_path / "menus"
    shutil.copytree(MENUS, menus)
    return menus


async def test_editing_keywords_changes_the_next_reply_without_a_restart(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path
) -> None:
    """Saving a new OFFERS reply in menus/keywords.yaml: the next OFFERS text gets it, and a
    new keyword works, with no restart and no reload call (the file watcher picks it up)."""
    menus = _copy_menus(tmp_path)
    client = await _gateway(make_gateway, fake_at, menus, reload_interval=0.05)
    assert (await _reply_to(client, fake_at, "offers", "in-1")).startswith(OLD_REPLY)
    keywords = menus / "keywords.yaml"
    keywords.write_text(
        keywords.read_text().replace("2 for 1 on airtime bundles", "free SMS bundles")
        + "  - words: [BEI]\n    reply: Prices start at KES 5.\n"
    )
    deadline = time.monotonic() + 10
    reply, n = "", 0
    while not reply.startswith("This week: free SMS bundles") and time.monotonic() < deadline:
        n += 1
        reply = await _reply_to(client, fake_at, "OFFERS", f"in-poll-{n}")
    assert reply.startswith("This week: free SMS bundles. Dial *384# to redeem.")
    assert await _reply_to(client, fake_at, "bei", "in-new") == "Prices start at KES 5."


async def test_a_broken_keywords_file_is_reported_at_its_line_and_keeps_serving(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path
) -> None:
    """A keywords file still saying flow: is an error at that line in `jumbe check` and in
    POST /admin/reload; the previous keywords keep answering."""
    menus = _copy_menus(tmp_path)
    client = await _gateway(make_gateway, fake_at, menus, reload_interval=0)
    keywords = menus / "keywords.yaml"
    text = keywords.read_text()
    keywords.write_text(text.replace("2 for 1", "3 for 1").replace("survey: nps", "flow: nps"))
    line = next(i for i, row in enumerate(keywords.read_text().splitlines(), 1) if "flow:" in row)
    expected = (f"{keywords}:{line}:11: error: flow: is now survey: (rename it; it names the "
                "survey this keyword starts)")  # fmt: skip

    check = await asyncio.to_thread(jumbe, "check", str(menus))
    assert (check.returncode, check.stdout.splitlines()) == (1, [expected])

    response = await client.post("/admin/reload", headers=ADMIN)
    report = await response.json()
    assert response.status == 422
    assert (report["kept_previous"], report["findings"]) == ([str(keywords)], [expected])
    assert report["kinds"]["keywords"] == {"loaded": [], "removed": []}
    assert "demo" in report["kinds"]["menu"]["loaded"]
    assert (await _reply_to(client, fake_at, "offers", "in-2")).startswith(OLD_REPLY)

    keywords.write_text(text.replace("2 for 1", "3 for 1"))
    response = await client.post("/admin/reload", headers=ADMIN)
    assert response.status == 200
    assert (await response.json())["kinds"]["keywords"]["loaded"] == [str(keywords)]
    assert (await _reply_to(client, fake_at, "offers", "in-3")).startswith("This week: 3 for 1")


def test_serve_refuses_to_start_while_jumbe_sms_keywords_is_set(tmp_path: Path) -> None:
    """An operator who still sets JUMBE_SMS_KEYWORDS gets one line saying where the file goes
    now, and serve exits non-zero before starting anything."""
    env = environment(JUMBE_SMS_KEYWORDS="sms/keywords.yaml")
    result = jumbe("serve", "--port", "0", "--data-dir", str(tmp_path / "var"), env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "jumbe: JUMBE_SMS_KEYWORDS is no longer read: move that file into the content folder"
        " (JUMBE_MENUS, default menus/), add `kind: keywords` at its top, and unset"
        " JUMBE_SMS_KEYWORDS"
    ]
    assert not (tmp_path / "var").exists(), "nothing was started"


def test_python_m_gateway_check_checks_the_keywords_file() -> None:
    """`jumbe check` on the shipped folder counts the keywords file among what it checked."""
    result = subprocess.run([sys.executable, "-m", "gateway", "check"], capture_output=True,
                            text=True, cwd=ROOT, timeout=60, check=False)  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "")
    summary = result.stderr.strip()  # other kinds of the shipped folder follow the keywords
    assert summary.startswith("OK: 2 menu, 1 keywords")
    assert summary.endswith("; 0 error(s), 0 warning(s)")
