"""``ad_slot`` screens: the same engine fills the space an end screen leaves, or nothing."""

from __future__ import annotations

from pathlib import Path

from ads_fixtures import campaign, folder, gateway
from conftest import GatewayFactory, hop

from gateway.content.check import check_files

MENU = """\
id: shop
service_codes: ["*384*5#"]
start: bye_ad
screens:
  bye_ad:
    ad_slot: {{next: bye}}
  bye:
    end: "{text}{{ad}}"
"""


async def test_end_screen_carries_the_ad_when_it_fits(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A short end screen gets the ad on a new line; the next session of the same subscriber
    (capped at one a day) gets the end screen alone."""
    content = folder(tmp_path, campaign("partner", "caps: {per_day: 1}\n", text="Ad: *544#"))
    (content / "shop.yaml").write_text(MENU.format(text="Thanks for shopping!"))
    client = await gateway(make_gateway, content)
    status, body = await hop(client, "", session_id="s1", service_code="*384*5#")
    assert (status, body) == (200, "END Thanks for shopping!\nAd: *544#")
    _, body = await hop(client, "", session_id="s2", service_code="*384*5#")
    assert body == "END Thanks for shopping!"


async def test_no_room_no_ad(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """An end screen that leaves too little room shows exactly its own text."""
    content = folder(tmp_path, campaign("partner", text="Ad: dial *544# for the best deal"))
    long = "T" * 140  # + new line + 32 > 156 (160 less AT's 4)
    (content / "shop.yaml").write_text(MENU.format(text=long))
    client = await gateway(make_gateway, content)
    _, body = await hop(client, "", session_id="s3", service_code="*384*5#")
    assert body == f"END {long}"


def test_check_wants_an_end_screen(tmp_path: Path) -> None:
    """`jumbe check`: an ad_slot must lead to an end screen, which should show {ad}."""
    path = tmp_path / "m.yaml"
    path.write_text(MENU.format(text="Bye").replace("{ad}", ""))
    _, findings = check_files([path])
    assert [str(f).removeprefix(f"{path}:") for f in findings] == [
        "6:21: warning: end screen 'bye' never shows {ad}: the ad has nowhere to go"
    ]
    path.write_text(MENU.format(text="Bye").replace("next: bye", "next: ask") + "  ask:\n"
                    "    input: {text: Name?, save: n, next: bye}\n")  # fmt: skip
    _, findings = check_files([path])
    assert "an ad_slot fills an end screen; 'ask' is a input" in str(findings)
