"""Helpers for the ads tests: a content folder of campaigns, a gateway serving it, checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

TOKEN = "ads-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = "+254700000001"
BALANCE = "Your balance is KES 12.50. Data: 200MB valid till 30/11."


def campaign(
    cid: str, body: str = "", *, cls: str = "remnant", text: str | None = None, lang: str = "en"
) -> str:
    """A campaign file's text: live for decades, any network, unless ``body`` says more."""
    ad = text if text is not None else f"Ad {cid}: dial *544#"
    return (
        f"kind: campaign\nid: {cid}\nclass: {cls}\n"
        "flight: {start: 2020-01-01, end: 2099-01-01, tz: Africa/Nairobi}\n"
        f"text: {{{lang}: {ad!r}}}\n{body}"
    )


def folder(tmp_path: Path, *campaigns: str) -> Path:
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    for i, spec in enumerate(campaigns):
        (content / f"c{i}.yaml").write_text(spec)
    return content


async def gateway(make_gateway: Any, content: Path, **overrides: Any) -> TestClient[Any, Any]:
    """A gateway serving ``content``; ads consent in opt_out mode unless overridden."""
    overrides.setdefault("consent_modes", {"promo_sms": "opt_in", "ads": "opt_out",
                                           "surveys": "opt_in"})  # fmt: skip
    client: TestClient[Any, Any] = await make_gateway(
        menus_dir=content, api_token=TOKEN, sms_worker=False, reload_interval=0, **overrides
    )
    return client


async def check(
    client: TestClient[Any, Any], phone: str = PHONE, text: str = BALANCE, **fields: Any
) -> dict[str, Any]:
    """POST one balance check; the JSON answer (asserting 200)."""
    body = {"msisdn": phone, "text": text, "network": "63902", **fields}
    response = await client.post("/v1/piggyback", json=body, headers=AUTH)
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer
