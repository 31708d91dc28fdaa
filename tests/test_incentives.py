"""Granted incentives are recorded once per (source, source id) until a ledger credits them."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ON_CLUSTER

from gateway.incentives import RecordedIncentives
from gateway.store.connection import connect


async def test_a_grant_is_recorded_once_and_listed(redis_client: Any, redis_url: str) -> None:
    """Completing the same survey twice records one grant; every grant can be listed."""
    client = connect(redis_url, cluster=ON_CLUSTER)
    try:
        sink = RecordedIncentives(client, clock=lambda: 1000.0)
        await sink.grant("p_a", 50, "survey:nps1", "p_a")
        await sink.grant("p_a", 70, "survey:nps1", "p_a")
        await sink.grant("p_b", 50, "survey:nps1", "p_b")
        assert sorted(await sink.recorded()) == [
            ("survey:nps1", "p_a", "p_a", 50, 1000.0), ("survey:nps1", "p_b", "p_b", 50, 1000.0)
        ]  # fmt: skip
        with pytest.raises(ValueError, match="positive"):
            await sink.grant("p_c", 0, "survey:nps1", "p_c")
    finally:
        await client.aclose()
