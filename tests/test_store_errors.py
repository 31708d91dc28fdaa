"""The store boundary (``store/client.py``) on a Redis Cluster: whatever redis-py raises
becomes one of Jumbe's errors."""

from __future__ import annotations

import pytest
from conftest import ON_CLUSTER

from gateway.errors import StoreReplyError
from gateway.store.client import StoreClient


@pytest.mark.skipif(not ON_CLUSTER, reason="a standalone Redis runs multi-key commands on any keys")
async def test_keys_in_two_slots_are_a_reply_error_not_a_crash(aredis: StoreClient) -> None:
    """On a Cluster, redis-py refuses a multi-key command over two slots itself: that is a
    ``StoreReplyError`` like Redis's own CROSSSLOT answer (a 4xx/5xx with a reason, never an
    untranslated exception)."""
    with pytest.raises(StoreReplyError, match="slot"):
        await aredis.execute_command("MGET", "j:test:{one}", "j:test:{two}")
    script = aredis.register_script("return redis.call('GET', KEYS[1])")
    with pytest.raises(StoreReplyError, match="slot"):
        await script(keys=["j:test:{one}", "j:test:{two}"])
    pipe = aredis.pipeline()
    pipe.get("j:test:{one}")
    pipe.execute_command("MGET", "j:test:{one}", "j:test:{two}")
    with pytest.raises(StoreReplyError, match="slot"):
        await pipe.execute()
