"""The demo menu's rewards branch over a real AT hop: balance, paged catalog, confirm, hold —
"You will get KES 50 airtime shortly" only when the points were held."""

from __future__ import annotations

from typing import Any

from conftest import PHONE, eventually, journey
from rewards_fixtures import Stack, fake_at_fixture, stack_fixture  # noqa: F401

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

    async def settled() -> bool:
        return await s.state(PHONE, redemption) == "SUCCESS"

    await eventually(settled)
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
