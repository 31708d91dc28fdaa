"""The demo menu's rewards branch over a real AT hop: balance, paged catalog, confirm, hold —
"You will get KES 50 airtime shortly" only when the points were held."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from conftest import PHONE, ROOT, journey
from rewards_fixtures import Stack, fake_at_fixture, stack_fixture  # noqa: F401

from gateway.appkeys import PIPELINE
from gateway.hops.effects import HopContext
from gateway.menu.screens.rewards import RewardsRedeem
from gateway.rewards.runtime import REWARDS

DEMO = {"service_code": "*384#"}


async def test_redeeming_airtime_from_the_menu(stack: Any) -> None:
    """Points 130: the catalog lists the items with points; confirming holds 100 points, says
    the airtime is coming, and the airtime arrives."""
    s: Stack = await stack()
    await s.earn(PHONE, 130, "r1")
    bodies = await journey(s.client, ["2", "2", "1"], session_id="rw1", **DEMO)
    assert bodies[1].startswith(
        "CON You have 130 points. Pick a reward:\n1. KES 20 airtime (40 pts)"
    )
    assert "2. KES 50 airtime (100 pts)" in bodies[1]
    assert bodies[2].startswith("CON Redeem KES 50 airtime for 100 points?\n1. Confirm")
    assert bodies[3] == "END You will get KES 50 airtime shortly."
    account = await s.account(PHONE)
    assert account["balance"] == 30
    redemption = account["redemptions"][0]["redemption"]

    await s.until(PHONE, redemption, "SUCCESS")
    assert [t.key for t in s.fake.topups()] == [redemption]


async def test_without_enough_points_the_menu_says_so_and_holds_nothing(stack: Any) -> None:
    """Points 50 for a 100-point item: a readable END, no redemption, no airtime."""
    s: Stack = await stack()
    await s.earn(PHONE, 50, "r1")
    bodies = await journey(s.client, ["2", "2", "1"], session_id="rw2", **DEMO)
    assert bodies[3] == "END You do not have enough points for this reward."
    assert (await s.account(PHONE))["redemptions"] == []
    assert s.fake.airtime_requests == []


async def test_the_menu_speaks_swahili_and_cancel_changes_nothing(stack: Any) -> None:
    """In Swahili the catalog says pointi; Cancel leaves the balance as it was."""
    s: Stack = await stack()
    await s.earn(PHONE, 45, "r1")
    await journey(s.client, ["4", "2"], session_id="lang", **DEMO)
    bodies = await journey(s.client, ["2", "1", "2"], session_id="rw3", **DEMO)
    assert "1. Salio KES 20 (40 pointi)" in bodies[1]
    assert bodies[3] == "END Imeghairiwa. Pointi zako hazijabadilika."
    assert (await s.account(PHONE))["balance"] == 45


async def test_a_long_catalog_is_paged_and_any_page_can_be_chosen_from(
    stack: Any, tmp_path: Path
) -> None:
    """Twelve items do not fit one screen: More pages through them, and an item on the last
    page can be chosen by its number."""
    shutil.copytree(ROOT / "menus", tmp_path / "menus")
    lines = ["kind: catalog", "id: big", "items:"]
    lines += [f"  - {{id: big{i}, label: 'Voucher number {i:02d}', points: {i},"
              f" voucher: {{codes: rewards-vouchers.txt}}}}" for i in range(1, 13)]  # fmt: skip
    (tmp_path / "menus" / "big.yaml").write_text("\n".join(lines) + "\n")
    demo = tmp_path / "menus" / "demo.yaml"
    demo.write_text(demo.read_text().replace("catalog: rewards", "catalog: big"))
    s: Stack = await stack(menus_dir=tmp_path / "menus")
    await s.earn(PHONE, 500, "r1")
    bodies = await journey(s.client, ["2", "98", "98", "98"], session_id="rw4", **DEMO)
    assert "1. Voucher number 01 (1 pts)" in bodies[1]
    assert "98. More" in bodies[1]
    assert "12. Voucher number 12 (12 pts)" in bodies[4]
    assert "98. More" not in bodies[4]
    bodies = await journey(s.client, ["2", "98", "98", "98", "12"], session_id="rw5", **DEMO)
    assert bodies[5].startswith("CON Redeem Voucher number 12 for 12 points?")


async def test_the_same_hop_performed_twice_redeems_once(stack: Any) -> None:
    """The redeem effect of one hop, performed twice (a retry computed by another process),
    returns the same redemption and holds the points once."""
    s: Stack = await stack(rewards_worker=False)
    await s.earn(PHONE, 100, "r1")
    app = s.client.server.app
    rewards = app[REWARDS]
    hop = HopContext("africastalking", "ATUid_twice", PHONE, rewards.pseudonym(PHONE), {},
                     time.monotonic() + 5)  # fmt: skip
    effect = RewardsRedeem("redeem", "coffee", "en", 3)
    first = await app[PIPELINE].effects.perform(effect, hop, 2.0)
    again = await app[PIPELINE].effects.perform(effect, hop, 2.0)
    assert first.ok and again.ok
    assert first.value["redemption"] == again.value["redemption"]
    account = await s.account(PHONE)
    assert (account["balance"], len(account["redemptions"])) == (70, 1)
    other_hop = await app[PIPELINE].effects.perform(RewardsRedeem("redeem", "coffee", "en", 5),
                                                    hop, 2.0)  # fmt: skip
    assert other_hop.value["redemption"] != first.value["redemption"]
