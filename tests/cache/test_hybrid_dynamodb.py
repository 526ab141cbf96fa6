"""HybridCache over DynamoDBCache on the wire (each transport): what each path costs in calls, and
fail-safe with DynamoDB failing behind the fault proxy."""

from __future__ import annotations

import anyio
import pytest
from botocore.config import Config

from dynsession.cache import DynamoDBCache, HybridCache

from ..faults import Fault, FaultProxy
from ..support import FakeClock, TransportName
from .conftest import count_calls

pytestmark = [pytest.mark.anyio, pytest.mark.dynamodb]


async def value() -> bytes:
    return b"v" * 100


async def test_the_calls_of_each_path(dynamodb_cache: DynamoDBCache, clock: FakeClock) -> None:
    cache = HybridCache(dynamodb_cache, clock=clock, lock_timeout=5)
    calls = count_calls(dynamodb_cache)
    await cache.get_or_set("k", value, absolute_in=60)
    # The miss GetItem, the lease's conditional PutItem, the GetItem under it, the value, the lease back.
    assert calls.take() == {"GetItem": 2, "PutItem": 2, "DeleteItem": 1}
    await cache.get_or_set("k", value, absolute_in=60)
    assert calls.take() == {}
    await cache.remove_by_tag("catalogue")
    assert calls.take() == {"PutItem": 1}
    clock.advance(1)  # an entry set in the second of a removal would count as removed
    await cache.set("t", b"tagged", absolute_in=60, tags=("catalogue", "shoes"))
    assert calls.take() == {"PutItem": 1}
    other = HybridCache(dynamodb_cache, clock=clock)
    assert await other.get("t") == b"tagged"
    assert calls.take() == {"GetItem": 3}  # the entry, then each tag once per local_ttl
    clock.advance(5)
    assert await other.get("t") == b"tagged"
    assert calls.take() == {"GetItem": 3}


async def test_stale_values_are_served_while_dynamodb_fails(
    faults: FaultProxy, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> None:
    shared = DynamoDBCache(
        table_name,
        endpoint_url=faults.url,
        key_prefix=key_prefix,
        clock=clock,
        transport=transport,
        config=Config(retries={"mode": "standard", "total_max_attempts": 2}),
    )
    cache = HybridCache(shared, clock=clock, fail_safe=600, lock_timeout=5)
    assert await cache.get_or_set("k", value, absolute_in=10) == b"v" * 100
    clock.advance(11)
    outage = faults.inject("GetItem", Fault("InternalServerError", status=500))
    served = [await cache.get_or_set("k", value, absolute_in=10) for _ in range(3)]
    assert served == [b"v" * 100] * 3 and cache.stats.stale_served == 3
    assert outage.sent == 2  # one get's two attempts; then the copy is served for local_ttl
    # Another process, whose only copy is DynamoDB's kept item, serves it when the factory fails.
    faults.reset()
    other = HybridCache(
        DynamoDBCache(table_name, endpoint_url=faults.url, key_prefix=key_prefix, clock=clock),
        clock=clock,
        fail_safe=600,
    )

    async def broken() -> bytes:
        await anyio.sleep(0)
        raise RuntimeError("product service down")

    assert await other.get_or_set("k", broken, absolute_in=10) == b"v" * 100
    assert other.stats.stale_served == 1
