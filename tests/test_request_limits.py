"""Oversized aggregator fields are refused before any work, with the reason; serving goes on."""

from __future__ import annotations

from conftest import PHONE, GatewayFactory, hop

from gateway.menu.parse import parse_text
from gateway.menu.registry import MenuRegistry

HUGE_CODE = "*1" * 30_000 + "#"


async def test_64kb_service_code_is_refused_with_the_reason(make_gateway: GatewayFactory) -> None:
    """A 60,000-character serviceCode gets 400 naming the field; the next hop is served."""
    client = await make_gateway()
    body = (
        f"sessionId=ATUid_big&serviceCode={HUGE_CODE}&phoneNumber=%2B254700000001"
        "&networkCode=63902&text="
    ).encode()
    response = await client.post(
        "/ussd/africastalking",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400
    assert await response.text() == "END Bad request: serviceCode longer than 64 characters"
    status, reply = await hop(client, "", phone=PHONE)
    assert status == 200 and reply.startswith("CON Welcome")


def test_resolve_keeps_shortcuts_and_ignores_unknown_long_codes() -> None:
    """Shortcut dialling still finds the menu; a long code of unknown prefix finds nothing."""
    source = "id: m\nservice_codes: ['*384*123#']\nstart: a\nscreens:\n  a:\n    end: Hi\n"
    menu, findings = parse_text(source, "m.yaml")
    assert menu is not None, findings
    registry = MenuRegistry([menu])
    assert registry.resolve("*384*123#") == (menu, [])
    assert registry.resolve("*384*123*2*5#") == (menu, ["2", "5"])
    assert registry.resolve("*384*123*" + "1*" * 10 + "#") == (menu, ["1"] * 10 + [""])
    assert registry.resolve("*9" + HUGE_CODE) is None
    assert registry.resolve("*384*12#") is None
