"""Jumbe on a real three-master Redis Cluster: detected, not configured; a journey keeps going
while its session's slot moves to another master (``MOVED``) or is half-way there (``ASK``).

The rest of the suite runs on a Cluster too (``JUMBE_TEST_CLUSTER=1``, a step of ``.ci/run``);
these tests start a Cluster of their own so that they also run in the ordinary pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cluster import Cluster, running_cluster
from conftest import GatewayFactory, hop, journey, settings_for

from gateway.errors import ConfigError, StoreUnavailable
from gateway.menu.state import SessionState
from gateway.privacy import Pseudonymizer
from gateway.store import keys
from gateway.store.cluster import ClusterPipelinedRedis
from gateway.store.connection import prepared_store


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    yield from running_cluster(tmp_path_factory.mktemp("cluster"))


@pytest.fixture
def fresh(cluster: Cluster) -> Cluster:
    cluster.flush()
    return cluster


def _other_master(cluster: Cluster, key: str) -> int:
    return next(port for port in cluster.ports if port != cluster.owner(key))


def _session(cluster: Cluster, session_id: str) -> SessionState:
    key = keys.session("africastalking", session_id)
    with cluster.node(cluster.owner(key)) as node:
        raw = node.get(key)
    assert isinstance(raw, bytes), f"no session {session_id} on its slot's master"
    return SessionState.decode(raw)


def test_serve_detects_a_cluster_from_the_url(fresh: Cluster, tmp_path: Path) -> None:
    """Any node's URL is enough: the start-up check finds it is a Cluster and records it."""
    settings = settings_for(fresh.url, data_dir=tmp_path, pseudonym_key=b"k" * 32)
    with prepared_store(settings) as (prepared, embedded):
        assert prepared.redis_cluster is True
        assert embedded is None
    with redis.RedisCluster.from_url(fresh.url) as client:
        assert client.hget(keys.meta(), "epoch"), "the data's metadata is initialised"


def test_a_database_number_on_a_cluster_is_refused(fresh: Cluster, tmp_path: Path) -> None:
    """A Cluster has only database 0: ``/3`` would silently be ignored, so it is refused."""
    settings = settings_for(fresh.url.replace("/0", "/3"), data_dir=tmp_path,
                            pseudonym_key=b"k" * 32)  # fmt: skip
    with pytest.raises(ConfigError, match="only database 0"), prepared_store(settings):
        pass


async def test_a_journey_on_a_cluster_spreads_over_its_masters(
    fresh: Cluster, make_gateway: GatewayFactory
) -> None:
    """Many sessions and subscribers end up on every master, and each journey is whole."""
    client = await make_gateway(redis_url=fresh.url)
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["redis_mode"] == "cluster"
    ids = [f"spread{i}" for i in range(12)]
    results = await asyncio.gather(*(
        journey(client, ["2", "4", "fine"], session_id=sid, phone=f"+2547110000{i:02d}")
        for i, sid in enumerate(ids)
    ))  # fmt: skip
    assert all(bodies[-1] == "END Thanks" for bodies in results)
    owners = {fresh.owner(keys.session("africastalking", sid)) for sid in ids}
    assert owners == set(fresh.ports), "12 sessions, 3 masters: each master holds some"
    assert _session(fresh, "spread3").vars == {"rating": 4, "comment": "fine"}


async def test_a_journey_continues_after_its_slot_moved(
    fresh: Cluster, make_gateway: GatewayFactory
) -> None:
    """Resharding while a subscriber is mid-journey: the next hop gets ``MOVED``, follows it
    and the session carries on where it was, with nothing lost or repeated."""
    client = await make_gateway(redis_url=fresh.url)
    assert await hop(client, "", session_id="moving") == (200, "CON Welcome\n1. Balance\n"
                                                          "2. Survey\n3. Rewards")  # fmt: skip
    assert await hop(client, "2", session_id="moving") == (200, "CON Rate us 1-5")
    key = keys.session("africastalking", "moving")
    target = _other_master(fresh, key)
    fresh.migrate(key, target)
    assert fresh.settled_owner(key, target) == target, "every master agrees the slot moved"
    with fresh.node(target) as node:
        assert node.exists(key), "the session moved with its slot"
    assert await hop(client, "2*5", session_id="moving") == (200, "CON Any comment?")
    assert await hop(client, "2*5*great", session_id="moving") == (200, "END Thanks")
    assert _session(fresh, "moving").vars == {"rating": 5, "comment": "great"}


async def test_a_hop_during_a_migration_is_served_where_the_session_went(
    fresh: Cluster, make_gateway: GatewayFactory
) -> None:
    """Half-way through a slot migration the session key already moved: the old owner says
    ``ASK`` and the hop is answered and saved on the new one; a retry of it is recognised."""
    client = await make_gateway(redis_url=fresh.url)
    await journey(client, ["2"], session_id="asked")
    key = keys.session("africastalking", "asked")
    migration = fresh.begin_migration(key, _other_master(fresh, key))
    try:
        assert await hop(client, "2*3", session_id="asked") == (200, "CON Any comment?")
        assert await hop(client, "2*3", session_id="asked") == (200, "CON Any comment?")
        with fresh.node(migration.to_port) as target:
            target.execute_command("ASKING")
            raw = target.get(key)
        assert isinstance(raw, bytes) and SessionState.decode(raw).vars == {"rating": 3}
    finally:
        fresh.finish_migration(migration)
    assert await hop(client, "2*3*ok", session_id="asked") == (200, "END Thanks")


async def test_a_stalled_master_holds_up_only_the_subscribers_it_serves(
    fresh: Cluster, make_gateway: GatewayFactory
) -> None:
    """One master stops answering: its subscribers get a readable answer, and carry on once it
    is back; everyone else goes on being served within the hop deadline."""
    client = await make_gateway(redis_url=fresh.url, hop_deadline=1.0)
    pseudonym = Pseudonymizer(b"test-pseudonym-key")
    stalled = min(fresh.ports, key=lambda port: f"127.0.0.1:{port}")  # first in the seed order

    def masters_of(sid: str, phone: str) -> set[int]:
        session, subscriber = keys.session("africastalking", sid), keys.subscriber(pseudonym(phone))
        return {fresh.owner(session), fresh.owner(subscriber)}

    candidates = [(f"st{i}", f"+2547120000{i:02d}") for i in range(60)]
    elsewhere = [c for c in candidates if stalled not in masters_of(*c)][:4]
    on_stalled = next(c for c in candidates if masters_of(*c) == {stalled})
    await journey(client, ["2"], session_id=on_stalled[0], phone=on_stalled[1])
    fresh.pause(stalled)
    try:
        status, body = await hop(client, "2*4", session_id=on_stalled[0], phone=on_stalled[1])
        assert status == 200 and body.startswith("END ") and "try again" in body
        results = await asyncio.gather(*(
            journey(client, ["2", "5", "ok"], session_id=sid, phone=phone)
            for sid, phone in elsewhere
        ))  # fmt: skip
        assert [bodies[-1] for bodies in results] == ["END Thanks"] * len(elsewhere)
    finally:
        fresh.resume(stalled)
    status, body = await hop(client, "2*4", session_id=on_stalled[0], phone=on_stalled[1])
    assert (status, body) == (200, "CON Any comment?")


async def test_re_reading_the_slot_map_never_holds_up_commands(fresh: Cluster) -> None:
    """A command to a stalled master times out, so the client re-reads the slot map, asking
    the stalled master first: meanwhile commands for the other masters are answered at once
    (from the map it has), not after that read times out too."""
    stalled = min(fresh.ports, key=lambda port: f"127.0.0.1:{port}")
    there = next(f"k{i}" for i in range(100) if fresh.owner(f"k{i}") == stalled)
    elsewhere = next(f"k{i}" for i in range(100) if fresh.owner(f"k{i}") != stalled)
    client = ClusterPipelinedRedis(fresh.url, timeout=2.0)
    try:
        await client.execute(b"SET", there, b"1")
        await client.execute(b"SET", elsewhere, b"2")
        fresh.pause(stalled)
        try:
            with pytest.raises(StoreUnavailable):
                await client.execute(b"GET", there)
            assert await asyncio.wait_for(client.execute(b"GET", elsewhere), 1.0) == b"2"
        finally:
            fresh.resume(stalled)
        assert await client.execute(b"GET", there) == b"1"
    finally:
        await client.close()
