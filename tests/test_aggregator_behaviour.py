"""Retries, duplicates and concurrent hops, as aggregators really send them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis
import yaml
from conftest import PHONE, GatewayFactory, hop, journey

from gateway.menu.state import SessionState
from gateway.privacy import pseudonymize
from gateway.store import keys


def stored(redis_client: redis.Redis, session_id: str) -> SessionState:
    raw = redis_client.get(keys.session("africastalking", session_id))
    assert isinstance(raw, bytes)
    return SessionState.decode(raw)


async def test_retried_hop_returns_stored_reply_and_advances_nothing(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """AT resending hop '2*4' gets 'Any comment?' again; the session moved once."""
    client = await make_gateway()
    await journey(client, ["2", "4"])
    before = stored(redis_client, "ATUid_s1")
    status, body = await hop(client, "2*4")
    assert (status, body) == (200, "CON Any comment?")
    after = stored(redis_client, "ATUid_s1")
    assert (after.rev, after.hops, after.state) == (before.rev, before.hops, "comment")


async def test_duplicate_session_start(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """Safaricom-style duplicate first hops create one session and both get the menu."""
    client = await make_gateway()
    first, second = await asyncio.gather(hop(client, ""), hop(client, ""))
    assert first == second == (200, "CON Welcome\n1. Balance\n2. Survey\n3. Rewards")
    assert stored(redis_client, "ATUid_s1").hops == 1


async def test_concurrent_identical_hops_are_applied_once(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """Ten copies of one hop arriving together: one transition, ten identical replies."""
    client = await make_gateway()
    await hop(client, "")
    replies = await asyncio.gather(*(hop(client, "2") for _ in range(10)))
    assert set(replies) == {(200, "CON Rate us 1-5")}
    assert stored(redis_client, "ATUid_s1").hops == 2


async def test_late_copy_of_older_hop_changes_nothing(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """A stale retry of hop '2' after '2*4' answered shows the current screen, moves nothing."""
    client = await make_gateway()
    await journey(client, ["2", "4"])
    before = stored(redis_client, "ATUid_s1")
    _, body = await hop(client, "2")
    assert body == "CON Any comment?"
    assert stored(redis_client, "ATUid_s1").rev == before.rev


async def test_retry_after_end_gets_the_end_again(make_gateway: GatewayFactory) -> None:
    """The final hop retried (AT never saw our END) gets the same END."""
    client = await make_gateway()
    bodies = await journey(client, ["1"])
    assert bodies[-1] == "END Your balance is KES 0"
    assert await hop(client, "1") == (200, "END Your balance is KES 0")


async def test_two_gateway_processes_share_sessions(make_gateway: GatewayFactory) -> None:
    """Hops of one session alternating between two gateways (a load balancer) stay correct."""
    a = await make_gateway()
    b = await make_gateway()
    assert (await hop(a, ""))[1].startswith("CON Welcome")
    assert (await hop(b, "2"))[1] == "CON Rate us 1-5"
    assert (await hop(a, "2*9"))[1] == "CON Rate us 1-5"  # a's cached copy is stale
    assert (await hop(b, "2*9*3"))[1] == "CON Any comment?"
    assert (await hop(a, "2*9*3*ok"))[1] == "END Thanks"


async def test_concurrent_hops_across_gateways_are_serialized(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """The same hop hitting two gateways at once is applied exactly once."""
    a = await make_gateway()
    b = await make_gateway()
    await hop(a, "")
    await hop(b, "2")
    replies = await asyncio.gather(*(hop(gw, "2*5") for gw in (a, b, a, b)))
    assert set(replies) == {(200, "CON Any comment?")}
    assert stored(redis_client, "ATUid_s1").hops == 3


async def test_sessions_are_independent(make_gateway: GatewayFactory) -> None:
    """Fifty subscribers at once each walk their own journey."""
    client = await make_gateway()
    results = await asyncio.gather(
        *(journey(client, ["2", str(i % 5 + 1), f"c{i}"], session_id=f"many{i}") for i in range(50))
    )
    assert all(r[-1] == "END Thanks" for r in results)


async def test_a_hop_that_loses_the_race_does_not_undo_the_end(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """A stale gateway's losing hop must not leave a resume point behind an ended session."""
    write_menu(tmp_path / "signup.yaml")
    a = await make_gateway(menus_dir=tmp_path)
    b = await make_gateway(menus_dir=tmp_path)
    await journey(b, ["Amina"], service_code="*800#", session_id="race")  # b caches "at Town"
    await hop(a, "Amina*Kisumu", service_code="*800#", session_id="race")
    assert (await hop(a, "Amina*Kisumu*30", service_code="*800#", session_id="race"))[1] == (
        "END Amina from Kisumu, 30"
    )
    # b still believes the session is at Town; its answer loses the compare-and-set
    _, late = await hop(b, "Amina*Lagos", service_code="*800#", session_id="race")
    assert late == "END Amina from Kisumu, 30"
    point = keys.resume_point(pseudonymize(b"test-pseudonym-key", PHONE), "signup")
    assert redis_client.exists(point) == 0
    _, redial = await hop(a, "", service_code="*800#", session_id="race2")
    assert redial == "CON Name?", "an ended session never resumes"


def write_menu(path: Path) -> None:
    path.write_text(yaml.safe_dump({
        "id": "signup", "service_codes": ["*800#"], "start": "name",
        "resume": {"policy": "resume", "within": "10m"},
        "screens": {
            "name": {"input": {"text": "Name?", "save": "name", "next": "town"}},
            "town": {"input": {"text": "Town?", "save": "town", "next": "age"}},
            "age": {"input": {"text": "Age?", "save": "age", "next": "done"}},
            "done": {"end": "{name} from {town}, {age}"},
        },
    }))  # fmt: skip


async def test_duplicate_first_hop_on_two_gateways_keeps_the_resume_point(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """A redial delivered to two gateways at once resumes once, where the drop left off."""
    write_menu(tmp_path / "signup.yaml")
    a = await make_gateway(menus_dir=tmp_path)
    b = await make_gateway(menus_dir=tmp_path)
    await journey(a, ["Amina"], service_code="*800#", session_id="drop")
    replies = await asyncio.gather(
        hop(a, "", service_code="*800#", session_id="redial"),
        hop(b, "", service_code="*800#", session_id="redial"),
    )
    assert set(replies) == {(200, "CON Town?\n0. Back")}
    assert stored(redis_client, "redial").hops == 1
    _, age = await hop(b, "Kisumu", service_code="*800#", session_id="redial")
    assert age == "CON Age?\n0. Back"
    assert stored(redis_client, "redial").vars == {"name": "Amina", "town": "Kisumu"}
