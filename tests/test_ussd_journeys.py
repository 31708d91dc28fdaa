"""Whole journeys over HTTP against the real app and a real Redis, as AT sends them."""

from __future__ import annotations

from pathlib import Path

import redis
from conftest import GatewayFactory, hop, journey

from gateway.menu.state import SessionState
from gateway.store import keys

WELCOME = "CON Welcome\n1. Balance\n2. Survey\n3. Rewards"


async def test_benchmark_journey_as_in_the_issue(make_gateway: GatewayFactory) -> None:
    """text=, 2, 2*9 (re-asks), 2*9*4, 2*9*4*great answers the documented screens."""
    client = await make_gateway()
    bodies = await journey(client, ["2", "9", "4", "great"])
    assert bodies == [
        WELCOME,
        "CON Rate us 1-5",
        "CON Rate us 1-5",
        "CON Any comment?",
        "END Thanks",
    ]


async def test_benchmark_balance_and_rewards(make_gateway: GatewayFactory) -> None:
    """Options 1 and 3 end the session with their texts."""
    client = await make_gateway()
    assert (await journey(client, ["1"], session_id="b1"))[-1] == "END Your balance is KES 0"
    assert (await journey(client, ["3"], session_id="b3"))[-1] == "END You have 0 points"


async def test_invalid_menu_choice_reprompts(make_gateway: GatewayFactory) -> None:
    """An option that does not exist shows the same menu again and keeps the session."""
    client = await make_gateway()
    bodies = await journey(client, ["7", "2"])
    assert bodies[1] == WELCOME
    assert bodies[2] == "CON Rate us 1-5"


async def test_free_text_may_contain_star(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """A comment typed with '*' is taken whole: the transcript, not splitting, finds the input."""
    client = await make_gateway()
    bodies = await journey(client, ["2", "5", "5*stars*really"], session_id="star")
    assert bodies[-1] == "END Thanks"
    raw = redis_client.get(keys.session("africastalking", "star"))
    assert isinstance(raw, bytes)
    assert SessionState.decode(raw).vars == {"rating": 5, "comment": "5*stars*really"}


async def test_shortcut_digits_in_service_code(make_gateway: GatewayFactory) -> None:
    """Dialling *384*123*2# opens option 2 directly; later hops carry only new input."""
    client = await make_gateway()
    status, body = await hop(client, "", session_id="sc1", service_code="*384*123*2#")
    assert (status, body) == (200, "CON Rate us 1-5")
    _, body = await hop(client, "4", session_id="sc1", service_code="*384*123*2#")
    assert body == "CON Any comment?"


async def test_shortcut_digits_in_first_text(make_gateway: GatewayFactory) -> None:
    """Aggregators that put the extra dialled digits in the first hop's text: same result."""
    client = await make_gateway()
    _, body = await hop(client, "2", session_id="sc2")
    assert body == "CON Rate us 1-5"
    _, body = await hop(client, "2*4", session_id="sc2")
    assert body == "CON Any comment?"


async def test_shortcut_to_end_screen(make_gateway: GatewayFactory) -> None:
    """*384*123*1# ends at once with the balance."""
    client = await make_gateway()
    _, body = await hop(client, "", session_id="sc3", service_code="*384*123*1#")
    assert body == "END Your balance is KES 0"


async def test_unknown_service_code_gets_clear_end(make_gateway: GatewayFactory) -> None:
    """A code no menu serves is answered with a readable END, not an error status."""
    client = await make_gateway()
    status, body = await hop(client, "", service_code="*999#")
    assert status == 200
    assert body == "END This service code is not in use."


async def test_demo_router_and_templating(make_gateway: GatewayFactory) -> None:
    """demo.yaml: a rating of 5 routes to the happy screen, which quotes the rating."""
    client = await make_gateway()
    bodies = await journey(client, ["1", "5"], service_code="*384#")
    assert bodies[0].startswith("CON Welcome to Jumbe")
    assert bodies[-1] == "END Thanks! You gave us 5."


SEND_TO = """id: sendto
service_codes: ["*384#"]
start: main
screens:
  main:
    menu: {text: "Welcome", options: [{label: Send, next: recipient}]}
  recipient:
    input:
      text: "Enter the phone number to send to"
      validate: {phone: {country: KE}}
      invalid: "That is not a valid Kenyan number"
      save: recipient
      next: amount
  amount:
    input:
      text: "Amount in KES (10-1000)"
      validate: {amount: {min: 10, max: 1000, decimals: 0}}
      invalid: "Enter an amount from 10 to 1000"
      save: amount
      next: confirm
  confirm:
    menu:
      text: "Send KES {amount} to {recipient}?"
      options:
        - {label: Confirm, next: done}
        - {label: Cancel, next: done}
  done:
    end: "Done"
"""


async def test_phone_and_amount_validation_messages(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Invalid input shows the screen's invalid text; phone numbers normalize to E.164 (the
    screens the demo's old "Send airtime" branch had, before rewards made it real)."""
    (tmp_path / "sendto.yaml").write_text(SEND_TO)
    client = await make_gateway(menus_dir=tmp_path)
    bodies = await journey(client, ["1", "12345", "0712345678", "5", "50"], service_code="*384#")
    assert bodies[2] == "CON That is not a valid Kenyan number\n0. Back"
    assert bodies[4] == "CON Enter an amount from 10 to 1000\n0. Back"
    assert bodies[5] == "CON Send KES 50 to +254712345678?\n1. Confirm\n2. Cancel\n0. Back"


async def test_demo_language_choice_switches_texts(make_gateway: GatewayFactory) -> None:
    """Choosing Kiswahili makes the following screens Swahili."""
    client = await make_gateway()
    bodies = await journey(client, ["4", "2", "3"], service_code="*384#")
    assert bodies[1] == "CON Choose a language\n1. English\n2. Kiswahili\n0. Back"
    assert bodies[2].startswith("CON Karibu Jumbe")
    assert bodies[3] == "CON Jina lako la kwanza?\n0. Rudi"


async def test_demo_set_screen_and_regex(make_gateway: GatewayFactory) -> None:
    """A set screen assigns variables that the end screen shows."""
    client = await make_gateway()
    bodies = await journey(client, ["3", "1", "Amina"], service_code="*384#")
    assert bodies[2] == "CON Letters only, 2 to 20\n0. Back"
    assert bodies[3] == "END Welcome to the club, Amina! Tier: bronze."


async def test_back_and_home_navigation(make_gateway: GatewayFactory) -> None:
    """0 goes back to the previous screen, 00 home; both keep the session going."""
    client = await make_gateway()
    bodies = await journey(client, ["2", "0", "1", "00"], service_code="*384#")
    assert bodies[1].startswith("CON You have 0 points. Pick a reward:")
    assert bodies[2].startswith("CON Welcome to Jumbe")
    assert bodies[3].startswith("CON Rate us from 1 to 5")
    assert bodies[4].startswith("CON Welcome to Jumbe")


async def test_input_answer_beats_navigation_key(make_gateway: GatewayFactory) -> None:
    """On a 1-5 scale '0' is not valid, so it navigates back; a valid answer is never a key."""
    client = await make_gateway()
    bodies = await journey(client, ["1", "0"], service_code="*384#")
    assert bodies[2].startswith("CON Welcome to Jumbe")


async def test_valid_answer_that_equals_a_navigation_key_is_an_answer(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """On a 0-10 scale '0' is a score, not Back."""
    (tmp_path / "nps.yaml").write_text(
        "id: nps\nservice_codes: ['*900#']\nstart: main\nscreens:\n"
        "  main:\n    menu:\n      text: Survey\n      options: [{label: Start, next: score}]\n"
        "  score:\n    input:\n      text: 'How likely are you to recommend us (0-10)?'\n"
        "      validate: {integer: {min: 0, max: 10}}\n      save: score\n      next: done\n"
        "  done:\n    end: 'You gave {score}'\n"
    )
    client = await make_gateway(menus_dir=tmp_path)
    bodies = await journey(client, ["1", "0"], service_code="*900#", session_id="nps0")
    assert bodies[-1] == "END You gave 0"
    retried = await journey(client, ["1", "11", "0"], service_code="*900#", session_id="nps1")
    assert retried[-1] == "END You gave 0", "an invalid answer then 0 is still a score"


async def test_demo_yes_no_answer(make_gateway: GatewayFactory) -> None:
    """A low rating asks for a call back; 'yes' is accepted as an answer."""
    client = await make_gateway()
    bodies = await journey(client, ["1", "2", "yes"], service_code="*384#")
    assert bodies[-1] == "END Thank you. We will do better."
